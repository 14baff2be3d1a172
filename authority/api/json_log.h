// ca.json "logger": {"format": "json"}: a request's log message as one JSON
// object on one line, the fields step-ca's JSON logger uses. The module
// writes it into nginx's error log after its own time and level prefix.
#ifndef STEPCA_AUTHORITY_API_JSON_LOG_H
#define STEPCA_AUTHORITY_API_JSON_LOG_H

#include <string>
#include <string_view>

#include "authority/api/http.h"

namespace stepca {

// {"level","request-id","status","method","path","msg"}. msg is the
// library's log message, which never holds a token, key or password.
std::string JsonLogLine(LogLevel level, std::string_view request_id, int status,
                        std::string_view method, std::string_view path, std::string_view msg);

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_API_JSON_LOG_H
