// Go's fmt for template values: %v printing (what an action writes),
// Sprint, Sprintln, Sprintf with the common verbs, and strconv.Quote.
// Every function stops at `max_bytes` of output or 64 levels of nesting
// (a map `set` into itself is a cycle) and then returns false.
#ifndef STEPCA_AUTHORITY_TEMPLATE_FORMAT_H
#define STEPCA_AUTHORITY_TEMPLATE_FORMAT_H

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "authority/template/value.h"

namespace stepca {
namespace tmpl {

// Go's %v of a float64: the shortest digits that read back, in %e form
// when the decimal exponent is below -4 or at least 6 (1e+06), as fmt does.
std::string FormatFloatV(double d);

// Appends fmt's %v of `v` (null inside a list or map is "<nil>").
bool AppendValue(const Value& v, size_t max_bytes, std::string* out);

// fmt.Sprint: a space between operands when neither is a string.
bool Sprint(const std::vector<Value>& args, size_t max_bytes, std::string* out);
// fmt.Sprintln: spaces between all operands, then a newline.
bool Sprintln(const std::vector<Value>& args, size_t max_bytes, std::string* out);
// fmt.Sprintf. Verbs: v s d q x X o b c t e E f F g G T %; flags - + # 0
// space; width and precision (not `*`). Go's error forms for a wrong type
// (%!d(string=x)), a missing argument (%!d(MISSING)) and extra arguments.
bool Sprintf(std::string_view format, const std::vector<Value>& args, size_t max_bytes,
             std::string* out);

// strconv.Quote.
std::string GoQuote(std::string_view s);

// sprig's strval: a string as it is, anything else as %v.
bool StrVal(const Value& v, size_t max_bytes, std::string* out);

}  // namespace tmpl
}  // namespace stepca

#endif  // STEPCA_AUTHORITY_TEMPLATE_FORMAT_H
