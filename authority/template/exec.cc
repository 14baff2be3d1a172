#include "authority/template/exec.h"

#include <utility>

#include "authority/template/format.h"
#include "authority/template/funcs.h"
#include "authority/template/parser.h"

namespace stepca {
namespace tmpl {

namespace {

// Nested lists walked at once (blocks inside blocks, across template
// calls): bounds the native stack whatever the Limits say.
constexpr int kMaxWalkDepth = 1000;
constexpr int kMaxCopyDepth = 64;

// Execution errors unwind the walk; they never leave this file.
struct ExecFailure {
  ErrorKind kind;
  size_t pos;
  std::string context;
  std::string message;
  std::string fail_message;
};

enum class Flow { kNormal, kBreak, kContinue };

class Executor {
 public:
  Executor(const TemplateSet& set, const Limits& limits) : set_(set), limits_(limits) {}

  ~Executor() {
    // Maps may hold themselves (`set $m "k" $m`); emptying them all frees
    // every cycle.
    for (auto& m : maps_) m->clear();
  }

  ExecResult Run(const Value& data) {
    ExecResult r;
    current_ = &set_.name;
    try {
      const Value dot = Copy(data, 0);
      auto it = set_.trees.find(set_.name);
      if (it == set_.trees.end()) {
        Throw(ErrorKind::kExec, 0, "", "\"" + set_.name + "\" is an incomplete or empty template");
      }
      current_ = &set_.name;
      vars_.emplace_back("$", dot);
      Walk(dot, *it->second);
      r.output = std::move(out_);
    } catch (const ExecFailure& f) {
      r.error.kind = f.kind;
      Locate(set_.text, f.pos, &r.error.line, &r.error.column);
      r.error.message = "template: " + set_.name + ":" + std::to_string(r.error.line) + ":" +
                        std::to_string(r.error.column) + ": executing \"" + *current_ +
                        "\" at <" + f.context + ">: " + f.message;
      r.error.fail_message = f.fail_message;
    }
    return r;
  }

 private:
  [[noreturn]] void Throw(ErrorKind kind, size_t pos, const std::string& context,
                          std::string message, std::string fail = "") {
    throw ExecFailure{kind, pos, context, std::move(message), std::move(fail)};
  }

  void Step(size_t pos, const std::string& context) {
    if (++steps_ > limits_.max_steps)
      Throw(ErrorKind::kLimit, pos, context,
            "template execution exceeds " + std::to_string(limits_.max_steps) + " steps");
  }

  // The caller's data, with fresh maps that this execution may change.
  Value Copy(const Value& v, int depth) {
    if (depth > kMaxCopyDepth) return Value();
    if (v.kind() == Value::Kind::kList) {
      Value::List l;
      l.reserve(v.as_list().size());
      for (const Value& e : v.as_list()) l.push_back(Copy(e, depth + 1));
      return Retype(Value::MakeList(std::move(l)), v);
    }
    if (v.kind() == Value::Kind::kMap) {
      Value::Map m;
      for (const auto& [k, e] : v.as_map()) m.emplace(k, Copy(e, depth + 1));
      auto shared = std::make_shared<Value::Map>(std::move(m));
      maps_.push_back(shared);
      return Retype(Value::FromSharedMap(std::move(shared)), v);
    }
    return v;
  }
  static Value Retype(Value copy, const Value& original) {
    const std::string t = original.TypeName();
    if (t != copy.TypeName()) copy = copy.WithType(t);
    // The table is immutable and shared; only the map is fresh.
    if (original.json_fields() != nullptr) copy = copy.WithJsonFields(original.shared_json_fields());
    return copy;
  }

  void Write(const Value& v, const Node& n) {
    if (v.is_null()) {
      out_ += "<no value>";
    } else if (!AppendValue(v, limits_.max_output_bytes, &out_)) {
      Throw(ErrorKind::kLimit, n.pos, n.pipe ? n.pipe->text : "",
            "template output exceeds " + std::to_string(limits_.max_output_bytes) +
                " bytes (or a value nests too deeply)");
    }
    CheckOutput(n);
  }
  void CheckOutput(const Node& n) {
    if (out_.size() > limits_.max_output_bytes)
      Throw(ErrorKind::kLimit, n.pos, n.pipe ? n.pipe->text : "",
            "template output exceeds " + std::to_string(limits_.max_output_bytes) + " bytes");
  }

  Flow Walk(const Value& dot, const NodeList& list) {
    struct Guard {
      int* d;
      ~Guard() { --*d; }
    } guard{&walk_depth_};
    if (++walk_depth_ > kMaxWalkDepth)
      Throw(ErrorKind::kLimit, list.empty() ? 0 : list[0]->pos, "",
            "template nesting exceeds " + std::to_string(kMaxWalkDepth) + " levels");
    for (const auto& n : list) {
      const Flow f = WalkNode(dot, *n);
      if (f != Flow::kNormal) return f;
    }
    return Flow::kNormal;
  }

  Flow WalkNode(const Value& dot, const Node& n) {
    Step(n.pos, n.pipe ? n.pipe->text : "");
    switch (n.type) {
      case NodeType::kText:
        out_ += n.text;
        CheckOutput(n);
        return Flow::kNormal;
      case NodeType::kAction: {
        const Value v = EvalPipeline(dot, *n.pipe);
        if (n.pipe->decl.empty()) Write(v, n);
        return Flow::kNormal;
      }
      case NodeType::kIf:
      case NodeType::kWith: {
        const size_t mark = vars_.size();
        const Value v = EvalPipeline(dot, *n.pipe);
        Flow f = Flow::kNormal;
        if (Truth(v)) {
          f = Walk(n.type == NodeType::kWith ? v : dot, n.list);
        } else if (!n.else_list.empty()) {
          f = Walk(dot, n.else_list);
        }
        vars_.resize(mark);
        return f;
      }
      case NodeType::kRange: return WalkRange(dot, n);
      case NodeType::kTemplate: return WalkTemplate(dot, n);
      case NodeType::kBreak: return Flow::kBreak;
      case NodeType::kContinue: return Flow::kContinue;
    }
    return Flow::kNormal;
  }

  Flow WalkRange(const Value& dot, const Node& n) {
    const Pipeline& p = *n.pipe;
    const size_t mark = vars_.size();
    const Value v = EvalPipeline(dot, p, /*declare=*/false);
    if (!p.is_assign)
      for (const auto& d : p.decl) vars_.emplace_back(d, v);
    const size_t body_mark = vars_.size();
    bool any = false;
    auto one = [&](const Value& key, const Value& elem) {
      any = true;
      Step(n.pos, p.text);
      if (p.is_assign) {
        if (p.decl.size() > 1) SetVar(p.decl[0], key, n);
        if (!p.decl.empty()) SetVar(p.decl.back(), elem, n);
      } else {
        if (!p.decl.empty()) vars_[body_mark - 1].second = elem;
        if (p.decl.size() > 1) vars_[body_mark - 2].second = key;
      }
      const Flow f = Walk(elem, n.list);
      vars_.resize(body_mark);
      return f;
    };
    switch (v.kind()) {
      case Value::Kind::kList: {
        const Value keep = v;
        const auto& l = keep.as_list();
        for (size_t i = 0; i < l.size(); ++i)
          if (one(Value::Int(static_cast<int64_t>(i)), l[i]) == Flow::kBreak) break;
        break;
      }
      case Value::Kind::kMap: {
        // A snapshot: the body may `set` into the map it ranges over.
        const Value::Map snapshot = v.as_map();
        for (const auto& [k, e] : snapshot)
          if (one(Value::String(k), e) == Flow::kBreak) break;
        break;
      }
      case Value::Kind::kNull:
        break;
      default: {
        std::string s;
        AppendValue(v, 256, &s);
        Throw(ErrorKind::kExec, n.pos, p.text, "range can't iterate over " + s);
      }
    }
    Flow f = Flow::kNormal;
    if (!any && !n.else_list.empty()) f = Walk(dot, n.else_list);
    vars_.resize(mark);
    // break and continue end at their range.
    (void)f;
    return Flow::kNormal;
  }

  Flow WalkTemplate(const Value& dot, const Node& n) {
    auto it = set_.trees.find(n.text);
    const std::string context = "{{template " + GoQuote(n.text) + "}}";
    if (it == set_.trees.end())
      Throw(ErrorKind::kExec, n.pos, context, "template " + GoQuote(n.text) + " not defined");
    if (template_depth_ >= limits_.max_template_depth)
      Throw(ErrorKind::kLimit, n.pos, context,
            "exceeded maximum template depth (" + std::to_string(limits_.max_template_depth) +
                ")");
    const Value new_dot = n.pipe ? EvalPipeline(dot, *n.pipe) : Value();
    std::vector<std::pair<std::string, Value>> saved_vars;
    saved_vars.swap(vars_);
    vars_.emplace_back("$", new_dot);
    const std::string* saved_name = current_;
    current_ = &it->first;
    ++template_depth_;
    Walk(new_dot, *it->second);
    --template_depth_;
    current_ = saved_name;
    vars_.swap(saved_vars);
    return Flow::kNormal;
  }

  Value& VarRef(const std::string& name, size_t pos, const std::string& context) {
    for (size_t i = vars_.size(); i-- > 0;)
      if (vars_[i].first == name) return vars_[i].second;
    Throw(ErrorKind::kExec, pos, context, "undefined variable: " + name);
  }
  void SetVar(const std::string& name, const Value& v, const Node& n) {
    VarRef(name, n.pos, n.pipe ? n.pipe->text : "") = v;
  }

  Value EvalPipeline(const Value& dot, const Pipeline& p, bool declare = true) {
    Value v;
    bool have = false;
    for (const Command& c : p.cmds) {
      v = EvalCommand(dot, c, have ? &v : nullptr);
      have = true;
    }
    if (declare) {
      for (const auto& d : p.decl) {
        if (p.is_assign) VarRef(d, p.pos, p.text) = v;
        else vars_.emplace_back(d, v);
      }
    }
    return v;
  }

  void NotAFunction(const Command& c, const Value* final) {
    if (c.args.size() > 1 || final)
      Throw(ErrorKind::kExec, c.pos, c.text, "can't give argument to non-function " + c.args[0].text);
  }

  Value EvalCommand(const Value& dot, const Command& c, const Value* final) {
    const Arg& first = c.args[0];
    const bool has_args = c.args.size() > 1 || final;
    switch (first.type) {
      case ArgType::kField:
        return FieldChain(dot, first.idents, has_args, first);
      case ArgType::kChain:
        return FieldChain(EvalArg(dot, *first.base), first.idents, has_args, first);
      case ArgType::kVariable: {
        const Value v = VarRef(first.name, first.pos, first.text);
        if (first.idents.empty()) {
          NotAFunction(c, final);
          return v;
        }
        return FieldChain(v, first.idents, has_args, first);
      }
      case ArgType::kIdentifier:
        return Call(dot, c, final);
      case ArgType::kPipe:
        NotAFunction(c, final);
        return EvalPipeline(dot, *first.pipe);
      case ArgType::kDot:
        NotAFunction(c, final);
        return dot;
      case ArgType::kNil:
        Throw(ErrorKind::kExec, first.pos, c.text, "nil is not a command");
      case ArgType::kConstant:
        NotAFunction(c, final);
        return first.constant;
    }
    return Value();
  }

  Value FieldChain(Value v, const std::vector<std::string>& idents, bool has_args, const Arg& at) {
    for (size_t i = 0; i < idents.size(); ++i) {
      const std::string& name = idents[i];
      if (v.is_null()) return Value();
      if (v.kind() != Value::Kind::kMap)
        Throw(ErrorKind::kExec, at.pos, at.text,
              "can't evaluate field " + name + " in type " + v.TypeName());
      if (has_args && i + 1 == idents.size())
        Throw(ErrorKind::kExec, at.pos, at.text, name + " is not a method but has arguments");
      const auto& m = v.as_map();
      auto it = m.find(name);
      if (it == m.end()) return Value();
      // A key that is present but null is Go's nil interface: following
      // it is an error, where a missing key is merely no value.
      if (it->second.is_null() && i + 1 < idents.size())
        Throw(ErrorKind::kExec, at.pos, at.text,
              "nil pointer evaluating interface {}." + idents[i + 1]);
      const Value next = it->second;
      v = next;
    }
    return v;
  }

  Value EvalArg(const Value& dot, const Arg& a) {
    switch (a.type) {
      case ArgType::kDot: return dot;
      case ArgType::kNil: return Value();
      case ArgType::kConstant: return a.constant;
      case ArgType::kField: return FieldChain(dot, a.idents, false, a);
      case ArgType::kVariable:
        return FieldChain(VarRef(a.name, a.pos, a.text), a.idents, false, a);
      case ArgType::kChain: return FieldChain(EvalArg(dot, *a.base), a.idents, false, a);
      case ArgType::kPipe: return EvalPipeline(dot, *a.pipe);
      case ArgType::kIdentifier: {
        Command c;
        c.pos = a.pos;
        c.text = a.text;
        c.args.emplace_back();
        c.args[0].type = ArgType::kIdentifier;
        c.args[0].func = a.func;
        c.args[0].name = a.name;
        c.args[0].pos = a.pos;
        c.args[0].text = a.text;
        return Call(dot, c, nullptr);
      }
    }
    return Value();
  }

  Value Call(const Value& dot, const Command& c, const Value* final) {
    const Func& f = *c.args[0].func;
    const int n = static_cast<int>(c.args.size()) - 1 + (final ? 1 : 0);
    if (f.max_args < 0 && n < f.min_args)
      Throw(ErrorKind::kExec, c.pos, c.text,
            "wrong number of args for " + std::string(f.name) + ": want at least " +
                std::to_string(f.min_args) + " got " + std::to_string(n));
    if (f.max_args >= 0 && (n < f.min_args || n > f.max_args))
      Throw(ErrorKind::kExec, c.pos, c.text,
            "wrong number of args for " + std::string(f.name) + ": want " +
                std::to_string(f.min_args) + " got " + std::to_string(n));
    if (f.short_circuit) {
      const bool is_or = std::string(f.name) == "or";
      Value v;
      for (size_t i = 1; i < c.args.size(); ++i) {
        v = EvalArg(dot, c.args[i]);
        if (Truth(v) == is_or) return v;
      }
      if (final) v = *final;
      return v;
    }
    std::vector<Value> args;
    args.reserve(static_cast<size_t>(n));
    for (size_t i = 1; i < c.args.size(); ++i) args.push_back(EvalArg(dot, c.args[i]));
    if (final) args.push_back(*final);
    CallContext ctx{limits_.max_output_bytes, &steps_, limits_.max_steps, &maps_};
    Value out;
    FuncError err;
    if (!f.impl(ctx, args, &out, &err)) {
      switch (err.kind) {
        case FuncError::Kind::kFail:
          Throw(ErrorKind::kFail, c.pos, c.text, "error calling " + std::string(f.name) + ": " +
                                                     err.message, err.message);
        case FuncError::Kind::kLimit:
          Throw(ErrorKind::kLimit, c.pos, c.text, "error calling " + std::string(f.name) + ": " +
                                                      err.message);
        case FuncError::Kind::kArgType:
          Throw(ErrorKind::kExec, c.pos, c.text, err.message);
        case FuncError::Kind::kError:
          Throw(ErrorKind::kExec, c.pos, c.text, "error calling " + std::string(f.name) + ": " +
                                                     err.message);
      }
    }
    return out;
  }

  const TemplateSet& set_;
  const Limits& limits_;
  std::string out_;
  uint64_t steps_ = 0;
  int walk_depth_ = 0;
  int template_depth_ = 0;
  const std::string* current_ = nullptr;
  std::vector<std::pair<std::string, Value>> vars_;
  std::vector<std::shared_ptr<Value::Map>> maps_;
};

}  // namespace

ExecResult ExecuteSet(const TemplateSet& set, const Limits& limits, const Value& data) {
  Executor e(set, limits);
  return e.Run(data);
}

}  // namespace tmpl
}  // namespace stepca
