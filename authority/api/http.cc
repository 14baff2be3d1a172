#include "authority/api/http.h"

#include "authority/ossl.h"

#include <cstdlib>
#include <memory>

namespace stepca {

std::string JsonBody(const json_t* value) {
  char* s = json_dumps(value, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
  std::string out = s != nullptr ? s : "null";
  std::free(s);
  out.push_back('\n');
  return out;
}

HttpResponse JsonResponse(int status, const json_t* value) {
  HttpResponse r;
  r.status = status;
  r.content_type = "application/json";
  r.body = JsonBody(value);
  return r;
}

HttpResponse ErrorResponse(const Status& st) {
  const int code = HttpStatus(st.code());
  std::string message;
  switch (code) {
    case 400:
      message = st.message().empty()
                    ? "The request could not be completed; malformed or missing data. Please see the certificate authority logs for more info."
                    : "The request could not be completed: " + st.message() + ".";
      break;
    case 401:
      message = "The request lacked necessary authorization to be completed. Please see the certificate authority logs for more info.";
      break;
    case 403:
      message = st.message().empty()
                    ? "The request was forbidden by the certificate authority. Please see the certificate authority logs for more info."
                    : "The request was forbidden by the certificate authority: " + st.message() + ".";
      break;
    case 404:
      message = "The requested resource could not be found. Please see the certificate authority logs for more info.";
      break;
    case 501:
      message = "The requested method is not implemented by the certificate authority. Please see the certificate authority logs for more info.";
      break;
    case 503:
      // A message that already says what to do (whether the token was
      // spent: state/spent_tokens.h) gets no second advice.
      message = "The certificate authority is temporarily unavailable: " + st.message() +
                (st.message().find("please retry") != std::string::npos
                     ? ". Nothing was issued."
                     : ". Nothing was issued; please retry.");
      break;
    default:
      message = "The certificate authority encountered an Internal Server Error. Please see the certificate authority logs for more info.";
      break;
  }
  JsonPtr body(json_object());
  json_object_set_new(body.get(), "status", json_integer(code));
  json_object_set_new(body.get(), "message", json_string(message.c_str()));
  HttpResponse r = JsonResponse(code, body.get());
  r.log_level = code >= 500 ? LogLevel::kError : LogLevel::kInfo;
  r.log_message = st.LogText();
  return r;
}

HttpResponse NotFoundText() {
  HttpResponse r;
  r.status = 404;
  r.content_type = "text/plain; charset=utf-8";
  r.body = "404 page not found\n";
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  return r;
}

HttpResponse MethodNotAllowed() {
  HttpResponse r;
  r.status = 405;
  return r;
}

namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out.push_back(' ');
    } else if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 && HexValue(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

}  // namespace

std::string QueryParam(std::string_view query, std::string_view name, bool* found) {
  *found = false;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    size_t eq = pair.find('=');
    std::string key = PercentDecode(pair.substr(0, eq));
    if (key != name) continue;
    *found = true;
    return eq == std::string_view::npos ? std::string() : PercentDecode(pair.substr(eq + 1));
  }
  return std::string();
}

}  // namespace stepca
