// The JSON a certificate template renders (X.509 and SSH alike), read as
// Go's json.Decoder reads it: the first value only, text after it ignored.
#ifndef STEPCA_AUTHORITY_TEMPLATE_RENDERED_JSON_H
#define STEPCA_AUTHORITY_TEMPLATE_RENDERED_JSON_H

#include <string_view>

#include "authority/ossl.h"
#include "authority/status.h"

namespace stepca {

// A JSON object, or kInvalidArgument "error unmarshaling certificate: ..."
// with the line and column of a syntax error.
Result<JsonPtr> LoadRenderedObject(std::string_view rendered);

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_TEMPLATE_RENDERED_JSON_H
