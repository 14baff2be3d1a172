// Go's encoding/json Marshal of a template value (sprig's toJson): map
// keys sorted, <, > and & escaped as \u003c..., floats as Go writes them.
#ifndef STEPCA_AUTHORITY_TEMPLATE_JSON_ENCODE_H
#define STEPCA_AUTHORITY_TEMPLATE_JSON_ENCODE_H

#include <cstddef>
#include <string>

#include "authority/template/value.h"

namespace stepca {
namespace tmpl {

// False (and `out` unspecified) for NaN or an infinity, which Go refuses,
// for nesting deeper than 64 (a map set into itself) and past max_bytes.
bool EncodeJson(const Value& v, size_t max_bytes, std::string* out);

}  // namespace tmpl
}  // namespace stepca

#endif  // STEPCA_AUTHORITY_TEMPLATE_JSON_ENCODE_H
