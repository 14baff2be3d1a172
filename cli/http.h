// HTTPS to the CA with libcurl, trusting only the given root certificate
// (step's --root): the system trust store is never consulted.
#ifndef STEPCA_CLI_HTTP_H
#define STEPCA_CLI_HTTP_H

#include <jansson.h>

#include <string>

#include "authority/ossl.h"
#include "authority/status.h"

namespace stepca {
namespace cli {

struct HttpResponse {
  long status = 0;
  std::string body;
};

// Transport failures (DNS, connect, TLS verification) are kUnavailable.
Result<HttpResponse> HttpGet(const std::string& url, const std::string& root_file);
Result<HttpResponse> HttpPostJson(const std::string& url, const std::string& body,
                                  const std::string& root_file);

// A step-ca error answer as step prints it: the "message" of the JSON body
// when there is one, else the body or the status line. The status is kept
// in the returned Status's code.
Status CaError(const HttpResponse& response);

// Parses a JSON object body; a non-2xx status is turned into CaError.
Result<JsonPtr> JsonBody(const HttpResponse& response);

// ca-url without trailing slashes.
std::string NormalizeCaUrl(std::string url);

// Percent-encodes a path segment (RFC 3986 unreserved characters kept).
std::string EscapePathSegment(const std::string& s);

}  // namespace cli
}  // namespace stepca

#endif  // STEPCA_CLI_HTTP_H
