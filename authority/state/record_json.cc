#include "authority/state/record_json.h"

#include <cstdlib>

namespace stepca {
namespace state_json {

std::string Dump(const json_t* value) {
  char* s = json_dumps(value, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
  std::string out = s != nullptr ? s : "null";
  std::free(s);
  return out;
}

JsonPtr LoadObject(std::string_view bytes) {
  JsonPtr j(json_loadb(bytes.data(), bytes.size(), 0, nullptr));
  if (!json_is_object(j.get())) return nullptr;
  return j;
}

std::string String(const json_t* object, const char* name) {
  const json_t* v = json_object_get(object, name);
  return json_is_string(v) ? std::string(json_string_value(v), json_string_length(v)) : std::string();
}

std::optional<TimePoint> Time(const json_t* object, const char* name) {
  const std::string s = String(object, name);
  if (s.empty()) return std::nullopt;
  return ParseRfc3339(s);
}

}  // namespace state_json
}  // namespace stepca
