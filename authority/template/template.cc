#include "authority/template/template.h"

#include <utility>

#include "authority/template/ast.h"
#include "authority/template/exec.h"
#include "authority/template/parser.h"

namespace stepca {
namespace tmpl {

Template::Template(std::unique_ptr<TemplateSet> set, Limits limits)
    : set_(std::move(set)), limits_(limits) {}

Template::~Template() = default;

ParseResult Template::Parse(std::string name, std::string_view text, Limits limits) {
  ParseResult r;
  auto set = ParseTemplateSet(name, text, limits, &r.error);
  if (set) r.tmpl = std::make_shared<const Template>(std::move(set), limits);
  return r;
}

ExecResult Template::Execute(const Value& data) const {
  return ExecuteSet(*set_, limits_, data);
}

const std::string& Template::name() const { return set_->name; }

}  // namespace tmpl
}  // namespace stepca
