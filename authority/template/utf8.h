// UTF-8 helpers shared by the formatter, the JSON encoder and the string
// functions.
#ifndef STEPCA_AUTHORITY_TEMPLATE_UTF8_H
#define STEPCA_AUTHORITY_TEMPLATE_UTF8_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace stepca {
namespace tmpl {

// The length of the valid UTF-8 sequence at the start of `s` and its code
// point, or 0 when it is not one (overlong forms and surrogates included).
size_t DecodeUtf8(std::string_view s, uint32_t* cp);
void AppendUtf8(uint32_t cp, std::string* out);
// strconv.IsPrint, approximated: ASCII graphic and space, and every
// non-ASCII code point outside C1 controls, U+00AD, U+2028/9, U+FEFF and
// the noncharacters.
bool IsPrintRune(uint32_t cp);

}  // namespace tmpl
}  // namespace stepca

#endif  // STEPCA_AUTHORITY_TEMPLATE_UTF8_H
