// regexMatch's engine: RE2 syntax (what Go's regexp accepts), matched in
// time linear in the input (a Pike VM, no backtracking), so a template's
// pattern cannot hang a worker. Only "does it match anywhere" is answered.
#ifndef STEPCA_AUTHORITY_TEMPLATE_REGEX_H
#define STEPCA_AUTHORITY_TEMPLATE_REGEX_H

#include <string_view>

namespace stepca {
namespace tmpl {

enum class RegexResult {
  kOk,        // *matched says whether the pattern matches somewhere in s
  kInvalid,   // not a valid expression, or more than 10000 instructions
  kTooCostly, // instructions x input length above 10^8: refused, not run
};

RegexResult RegexMatch(std::string_view pattern, std::string_view s, bool* matched);

}  // namespace tmpl
}  // namespace stepca

#endif  // STEPCA_AUTHORITY_TEMPLATE_REGEX_H
