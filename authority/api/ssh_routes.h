// The /ssh/* routes of step-ca 0.19 (and the legacy /sign-ssh and
// /ssh/get-hosts): request bodies in, step-ca's response shapes out.
#ifndef STEPCA_AUTHORITY_API_SSH_ROUTES_H
#define STEPCA_AUTHORITY_API_SSH_ROUTES_H

#include <string_view>

#include "authority/api/http.h"

namespace stepca {

class Authority;

// True for a path this file serves (already without the /1.0 prefix).
bool IsSshPath(std::string_view path);

HttpResponse SshRoute(Authority& authority, const HttpRequest& request, std::string_view path);

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_API_SSH_ROUTES_H
