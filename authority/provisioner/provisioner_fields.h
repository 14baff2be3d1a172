// Reading a provisioner's own settings from its ca.json object, with
// errors that name the field ("authority.provisioners[2].admins").
#ifndef STEPCA_AUTHORITY_PROVISIONER_PROVISIONER_FIELDS_H
#define STEPCA_AUTHORITY_PROVISIONER_PROVISIONER_FIELDS_H

#include <jansson.h>

#include <string>
#include <vector>

#include "authority/status.h"

namespace stepca {

// obj.key as a string; absent or null leaves *out empty. required: absent
// or "" is an error.
Status ReadStringSetting(const json_t* obj, const std::string& field, const char* key,
                         bool required, std::string* out);
// obj.key as an array of strings; absent or null leaves *out empty.
Status ReadStringListSetting(const json_t* obj, const std::string& field, const char* key,
                             std::vector<std::string>* out);
// obj.key as a boolean; absent or null is false.
Status ReadBoolSetting(const json_t* obj, const std::string& field, const char* key, bool* out);

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_PROVISIONER_PROVISIONER_FIELDS_H
