#include "authority/provisioner/provisioner_fields.h"

namespace stepca {
namespace {

std::string Where(const std::string& field, const char* key) {
  return "field \"" + field + "." + key + "\"";
}

}  // namespace

Status ReadStringSetting(const json_t* obj, const std::string& field, const char* key,
                         bool required, std::string* out) {
  const json_t* v = json_object_get(obj, key);
  if (v == nullptr || json_is_null(v)) {
    if (required) return InvalidArgument(Where(field, key) + ": cannot be empty");
    return Status::Ok();
  }
  if (!json_is_string(v)) return InvalidArgument(Where(field, key) + ": not a string");
  *out = std::string(json_string_value(v), json_string_length(v));
  if (required && out->empty()) return InvalidArgument(Where(field, key) + ": cannot be empty");
  return Status::Ok();
}

Status ReadStringListSetting(const json_t* obj, const std::string& field, const char* key,
                             std::vector<std::string>* out) {
  const json_t* v = json_object_get(obj, key);
  if (v == nullptr || json_is_null(v)) return Status::Ok();
  if (!json_is_array(v)) return InvalidArgument(Where(field, key) + ": not an array of strings");
  size_t i;
  const json_t* e;
  json_array_foreach(v, i, e) {
    if (!json_is_string(e))
      return InvalidArgument("field \"" + field + "." + key + "[" + std::to_string(i) +
                             "]\": not a string");
    out->emplace_back(json_string_value(e), json_string_length(e));
  }
  return Status::Ok();
}

Status ReadBoolSetting(const json_t* obj, const std::string& field, const char* key, bool* out) {
  const json_t* v = json_object_get(obj, key);
  *out = false;
  if (v == nullptr || json_is_null(v)) return Status::Ok();
  if (!json_is_boolean(v)) return InvalidArgument(Where(field, key) + ": not a boolean");
  *out = json_is_true(v);
  return Status::Ok();
}

}  // namespace stepca
