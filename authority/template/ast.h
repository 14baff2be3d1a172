// The parsed form of a template: what the parser builds and the executor
// walks. Immutable once parsed; positions are byte offsets into the text.
#ifndef STEPCA_AUTHORITY_TEMPLATE_AST_H
#define STEPCA_AUTHORITY_TEMPLATE_AST_H

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "authority/template/value.h"

namespace stepca {
namespace tmpl {

struct Func;
struct Pipeline;

enum class ArgType {
  kField,       // .A.B: idents
  kVariable,    // $x.A: name, then idents
  kChain,       // (pipe).A: base, then idents
  kDot,
  kNil,
  kConstant,    // bool, number, string
  kIdentifier,  // a function
  kPipe,        // ( pipeline )
};

struct Arg {
  ArgType type = ArgType::kNil;
  size_t pos = 0;
  std::string text;  // the source, for error messages
  std::string name;
  std::vector<std::string> idents;
  Value constant;
  const Func* func = nullptr;
  std::unique_ptr<Pipeline> pipe;
  std::unique_ptr<Arg> base;
};

struct Command {
  size_t pos = 0;
  std::string text;
  std::vector<Arg> args;
};

struct Pipeline {
  size_t pos = 0;
  std::string text;
  bool is_assign = false;          // `=` rather than `:=`
  std::vector<std::string> decl;   // variable names, "$x"
  std::vector<Command> cmds;
};

enum class NodeType { kText, kAction, kIf, kRange, kWith, kTemplate, kBreak, kContinue };

struct Node;
using NodeList = std::vector<std::unique_ptr<Node>>;

struct Node {
  NodeType type = NodeType::kText;
  size_t pos = 0;
  std::string text;                 // kText: the text; kTemplate: the name
  std::unique_ptr<Pipeline> pipe;   // may be null for kTemplate
  NodeList list;                    // if/range/with body
  NodeList else_list;
};

// One parse: the named templates (the main one under `name`) and the text
// their positions refer to.
struct TemplateSet {
  std::string name;
  std::string text;
  std::map<std::string, std::unique_ptr<NodeList>, std::less<>> trees;
};

}  // namespace tmpl
}  // namespace stepca

#endif  // STEPCA_AUTHORITY_TEMPLATE_AST_H
