// Templates with Go text/template semantics and the sprig functions
// step-ca's certificate templates use (see README.md in this folder).
// Parse once, at configuration time; the parsed Template is immutable and
// may be executed by many threads at once, each with its own data.
//
//   auto parsed = tmpl::Template::Parse("leaf", text);
//   if (!parsed.ok()) ... parsed.error.message ...
//   auto out = parsed.tmpl->Execute(data);
//   if (out.error.kind == tmpl::ErrorKind::kFail) ... out.error.fail_message ...
#ifndef STEPCA_AUTHORITY_TEMPLATE_TEMPLATE_H
#define STEPCA_AUTHORITY_TEMPLATE_TEMPLATE_H

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "authority/template/value.h"

namespace stepca {
namespace tmpl {

// Bounds on one execution (and on the parser's nesting), so that a
// template cannot hang or exhaust a worker. Exceeding one is kLimit.
struct Limits {
  size_t max_output_bytes = 1 << 20;  // also bounds any one string value
  int max_template_depth = 100;       // nested {{template}} calls
  uint64_t max_steps = 1000000;       // nodes walked, range iterations included
  int max_nesting = 100;              // parse: nested parens and blocks
};

enum class ErrorKind {
  kNone,
  kParse,  // the template text is wrong: a configuration error
  kExec,   // execution failed (a function error, a bad field access ...)
  kFail,   // the template called `fail`
  kLimit,  // a Limits bound was reached
};

struct Error {
  ErrorKind kind = ErrorKind::kNone;
  // Go's shape: `template: NAME:LINE:COL: ...`, COL a 0-based byte offset
  // in the line; execution errors add `executing "NAME" at <...>: `.
  std::string message;
  std::string fail_message;  // kFail: fail's argument, fit for the client
  int line = 0;
  int column = 0;
};

class Template;

struct ParseResult {
  std::shared_ptr<const Template> tmpl;
  Error error;
  bool ok() const { return tmpl != nullptr; }
};

struct ExecResult {
  std::string output;
  Error error;
  bool ok() const { return error.kind == ErrorKind::kNone; }
};

struct TemplateSet;

class Template {
 public:
  // `name` names the template in error messages. {{define}}d templates in
  // `text` are callable with {{template}}.
  static ParseResult Parse(std::string name, std::string_view text, Limits limits = Limits());

  // Renders over `data` (a copy is taken, so the template's `set` never
  // changes the caller's value). Thread-safe.
  ExecResult Execute(const Value& data) const;

  const std::string& name() const;

  explicit Template(std::unique_ptr<TemplateSet> set, Limits limits);
  ~Template();

 private:
  std::unique_ptr<const TemplateSet> set_;
  Limits limits_;
};

}  // namespace tmpl
}  // namespace stepca

#endif  // STEPCA_AUTHORITY_TEMPLATE_TEMPLATE_H
