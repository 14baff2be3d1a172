// POST /renew (/re-sign), /rekey and /revoke: request bodies in, step-ca's
// response shapes out.
#ifndef STEPCA_AUTHORITY_API_RENEW_ROUTES_H
#define STEPCA_AUTHORITY_API_RENEW_ROUTES_H

#include "authority/api/http.h"

namespace stepca {

class Authority;

HttpResponse RenewRoute(Authority& authority, const HttpRequest& request, bool rekey);
HttpResponse RevokeRoute(Authority& authority, const HttpRequest& request);

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_API_RENEW_ROUTES_H
