// Go's encoding/json Marshal of a template value (sprig's toJson): map
// keys sorted, <, > and & escaped as \u003c..., floats as Go writes them.
#ifndef STEPCA_AUTHORITY_TEMPLATE_JSON_ENCODE_H
#define STEPCA_AUTHORITY_TEMPLATE_JSON_ENCODE_H

#include <cstddef>
#include <string>

#include "authority/template/value.h"

namespace stepca {
namespace tmpl {

enum class JsonResult {
  kOk,
  kUnsupported,  // NaN or an infinity, which Go refuses
  kTooLarge,     // past max_bytes, or nesting deeper than 64 (a map in itself)
};

// On failure `out` is unspecified.
JsonResult EncodeJson(const Value& v, size_t max_bytes, std::string* out);

}  // namespace tmpl
}  // namespace stepca

#endif  // STEPCA_AUTHORITY_TEMPLATE_JSON_ENCODE_H
