// The HTTP edge: request facts in, status/headers/body out. Errors become
// step-ca's {"status","message"} here and nowhere else.
#ifndef STEPCA_AUTHORITY_API_HTTP_H
#define STEPCA_AUTHORITY_API_HTTP_H

#include <jansson.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "authority/status.h"

namespace stepca {

struct HttpRequest {
  std::string_view method;
  std::string_view path;
  std::string_view query;
  std::string_view scheme;
  std::string_view host;
  std::string_view authorization;
  std::string_view content_type;
  std::string_view request_id;
  std::string_view legacy_request_id;
  std::string_view client_addr;
  std::string_view peer_cert_der;
  std::string_view body;
};

enum class LogLevel { kNone, kError, kWarn, kInfo };

struct HttpResponse {
  int status = 200;
  std::string content_type;  // empty: no Content-Type header
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  LogLevel log_level = LogLevel::kNone;
  std::string log_message;
};

// Compact JSON with a trailing newline, as Go's json.Encoder writes it.
std::string JsonBody(const json_t* value);
HttpResponse JsonResponse(int status, const json_t* value);

// step-ca's error body for a status; the reason goes to the log, and to the
// client only where step-ca shows it (400, 403, 503).
HttpResponse ErrorResponse(const Status& status);

// Go's default 404 text and the bare 405.
HttpResponse NotFoundText();
HttpResponse MethodNotAllowed();

// The value of one query parameter (percent-decoded); found tells whether
// it was present.
std::string QueryParam(std::string_view query, std::string_view name, bool* found);

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_API_HTTP_H
