// Walks a parsed TemplateSet over data, with Go text/template's execution
// rules and the Limits bounds.
#ifndef STEPCA_AUTHORITY_TEMPLATE_EXEC_H
#define STEPCA_AUTHORITY_TEMPLATE_EXEC_H

#include "authority/template/ast.h"
#include "authority/template/template.h"
#include "authority/template/value.h"

namespace stepca {
namespace tmpl {

ExecResult ExecuteSet(const TemplateSet& set, const Limits& limits, const Value& data);

}  // namespace tmpl
}  // namespace stepca

#endif  // STEPCA_AUTHORITY_TEMPLATE_EXEC_H
