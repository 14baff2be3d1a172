// The HTTP edge of revocation: GET /crl (and /1.0/crl), DER or PEM with
// ?pem=true, and the OCSP responder at nginxStepca.ocsp.path (POST of a
// DER request, or GET <path>/<base64 of it>, RFC 6960 appendix A).
#ifndef STEPCA_AUTHORITY_REVOCATION_ROUTES_H
#define STEPCA_AUTHORITY_REVOCATION_ROUTES_H

#include <optional>
#include <string_view>

#include "authority/api/http.h"

namespace stepca {

class Authority;

// nullopt when the request is not for a revocation route. api_path: the
// path without its /1.0 prefix.
std::optional<HttpResponse> RevocationRoute(Authority& authority, const HttpRequest& request,
                                            std::string_view api_path);

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_REVOCATION_ROUTES_H
