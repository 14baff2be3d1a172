// One HTTPS request to a cloud API (a KMS, an OAuth2 token endpoint), made
// from the calling thread with libcurl and bounded by timeouts. Used by the
// cloud KMS signers from the pool threads and, at load, from the master.
#ifndef STEPCA_AUTHORITY_CLOUD_HTTP_REQUEST_H
#define STEPCA_AUTHORITY_CLOUD_HTTP_REQUEST_H

#include <string>
#include <string_view>
#include <vector>

#include "authority/status.h"

namespace stepca::cloud {

struct HttpRequest {
  std::string method = "GET";         // GET or POST
  std::string url;
  std::vector<std::string> headers;   // "Name: value"
  std::string body;
  long connect_timeout_ms = 5000;
  long timeout_ms = 15000;
};

struct HttpResponse {
  long status = 0;
  std::string body;
};

// Any HTTP status is a response; only a transport failure (refused,
// timed out, TLS) is an error: kUnavailable naming the host, never a
// header or the body (they carry credentials).
Result<HttpResponse> SendHttp(const HttpRequest& request);

// "https://host:port/path?q" -> "host:port" (for messages and SigV4).
std::string UrlHost(const std::string& url);

// %XX (upper-case hex) for every byte of value that is neither an ASCII
// letter or digit nor in keep.
std::string PercentEscape(const std::string& value, std::string_view keep);

// application/x-www-form-urlencoded value escaping (RFC 3986 unreserved
// characters kept).
std::string FormEscape(const std::string& value);

}  // namespace stepca::cloud

#endif  // STEPCA_AUTHORITY_CLOUD_HTTP_REQUEST_H
