#include "authority/api/json_log.h"

#include <jansson.h>

#include "authority/ossl.h"

namespace stepca {
namespace {

// Request bytes are not always UTF-8; such a value is replaced, not dropped.
json_t* Str(std::string_view v) {
  json_t* s = json_stringn(v.data(), v.size());
  return s != nullptr ? s : json_string("(not utf-8)");
}

}  // namespace

std::string JsonLogLine(LogLevel level, std::string_view request_id, int status,
                        std::string_view method, std::string_view path, std::string_view msg) {
  const char* lvl = level == LogLevel::kError ? "error"
                    : level == LogLevel::kWarn ? "warn"
                                               : "info";
  JsonPtr line(json_object());
  json_object_set_new(line.get(), "level", json_string(lvl));
  json_object_set_new(line.get(), "request-id",
                      Str(request_id));
  json_object_set_new(line.get(), "status", json_integer(status));
  json_object_set_new(line.get(), "method", Str(method));
  json_object_set_new(line.get(), "path", Str(path.substr(0, 256)));
  json_object_set_new(line.get(), "msg", Str(msg));
  std::string out = JsonBody(line.get());
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

}  // namespace stepca
