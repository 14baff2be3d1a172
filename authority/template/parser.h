// Builds the TemplateSet of a template text (Go's parse package rules:
// scoped variables checked at parse time, functions must exist, define and
// block at top level, break/continue only inside range).
#ifndef STEPCA_AUTHORITY_TEMPLATE_PARSER_H
#define STEPCA_AUTHORITY_TEMPLATE_PARSER_H

#include <memory>
#include <string>
#include <string_view>

#include "authority/template/ast.h"
#include "authority/template/template.h"

namespace stepca {
namespace tmpl {

// nullptr and `*err` (kind kParse or kLimit) when the text does not parse.
std::unique_ptr<TemplateSet> ParseTemplateSet(const std::string& name, std::string_view text,
                                              const Limits& limits, Error* err);

// Line (1-based) and column (0-based byte offset, as Go reports) of `pos`.
void Locate(std::string_view text, size_t pos, int* line, int* column);

// Go's strconv.Unquote of a "..." or `...` literal; false when invalid.
bool UnquoteGo(std::string_view lit, std::string* out);

}  // namespace tmpl
}  // namespace stepca

#endif  // STEPCA_AUTHORITY_TEMPLATE_PARSER_H
