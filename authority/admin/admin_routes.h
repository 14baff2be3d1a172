// The HTTP edge of the admin API, step-ca's /admin routes (with
// authority.enableAdmin only; without it they do not exist, as in step-ca):
//   GET    /admin/admins[?cursor=&limit=]   GET /admin/admins/{id}
//   POST   /admin/admins                    PATCH /admin/admins/{id}
//   DELETE /admin/admins/{id}
//   GET    /admin/provisioners[?cursor=&limit=]
//   GET    /admin/provisioners/{name}       (or /admin/provisioners/id?id=)
//   POST   /admin/provisioners              PUT /admin/provisioners/{name}
//   DELETE /admin/provisioners/{name}       (or /admin/provisioners/id?id=)
// Errors are step-ca's admin errors: {"type","detail","message"} with the
// status of the type (badRequest 400, unauthorized 401, notFound 404,
// notImplemented 501, internalServerError 500; a store outage is 503).
#ifndef STEPCA_AUTHORITY_ADMIN_ADMIN_ROUTES_H
#define STEPCA_AUTHORITY_ADMIN_ADMIN_ROUTES_H

#include <optional>

#include "authority/api/http.h"

namespace stepca {

class Authority;

// nullopt when the request is not for the admin API or it is not enabled.
std::optional<HttpResponse> AdminRoute(Authority& authority, const HttpRequest& request);

namespace admin {
// The admin error body for a status (exposed for the unit tests).
HttpResponse AdminErrorResponse(const Status& status);
}  // namespace admin

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_ADMIN_ADMIN_ROUTES_H
