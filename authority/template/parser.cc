#include "authority/template/parser.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <utility>

#include "authority/template/format.h"
#include "authority/template/funcs.h"
#include "authority/template/lexer.h"
#include "authority/template/utf8.h"

namespace stepca {
namespace tmpl {

namespace {

// Parse errors unwind the recursive descent; they never leave this file.
struct ParseFailure {
  size_t pos;
  std::string message;
  bool limit;
};

int HexVal(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The body of a quoted literal with Go's escapes; `quote` is the literal's
// own quote character, the only one that may be escaped besides backslash.
bool UnescapeGo(std::string_view s, char quote, std::string* out) {
  size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (c == quote || c == '\n') return false;
    if (c != '\\') {
      out->push_back(c);
      ++i;
      continue;
    }
    if (++i >= s.size()) return false;
    const char e = s[i++];
    switch (e) {
      case 'a': out->push_back('\a'); break;
      case 'b': out->push_back('\b'); break;
      case 'f': out->push_back('\f'); break;
      case 'n': out->push_back('\n'); break;
      case 'r': out->push_back('\r'); break;
      case 't': out->push_back('\t'); break;
      case 'v': out->push_back('\v'); break;
      case '\\': out->push_back('\\'); break;
      case '\'':
      case '"':
        if (e != quote) return false;
        out->push_back(e);
        break;
      case 'x': {
        if (i + 2 > s.size() || HexVal(s[i]) < 0 || HexVal(s[i + 1]) < 0) return false;
        out->push_back(static_cast<char>(HexVal(s[i]) * 16 + HexVal(s[i + 1])));
        i += 2;
        break;
      }
      case 'u':
      case 'U': {
        const size_t n = e == 'u' ? 4 : 8;
        if (i + n > s.size()) return false;
        uint32_t cp = 0;
        for (size_t k = 0; k < n; ++k) {
          const int h = HexVal(s[i + k]);
          if (h < 0) return false;
          cp = cp * 16 + static_cast<uint32_t>(h);
        }
        if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
        AppendUtf8(cp, out);
        i += n;
        break;
      }
      default: {
        if (e < '0' || e > '7' || i + 2 > s.size()) return false;
        int v = e - '0';
        for (int k = 0; k < 2; ++k) {
          const char d = s[i++];
          if (d < '0' || d > '7') return false;
          v = v * 8 + (d - '0');
        }
        if (v > 255) return false;
        out->push_back(static_cast<char>(v));
      }
    }
  }
  return true;
}

bool ParseIntGo(std::string text, int64_t* out, bool* overflow) {
  *overflow = false;
  bool neg = false;
  if (!text.empty() && (text[0] == '+' || text[0] == '-')) {
    neg = text[0] == '-';
    text.erase(0, 1);
  }
  int base = 10;
  if (text.size() > 1 && text[0] == '0') {
    const char p = text[1];
    if (p == 'x' || p == 'X') base = 16;
    else if (p == 'o' || p == 'O') base = 8;
    else if (p == 'b' || p == 'B') base = 2;
    if (base != 10) text.erase(0, 2);
    else base = 8, text.erase(0, 1);
  }
  std::string digits;
  for (char c : text)
    if (c != '_') digits.push_back(c);
  if (digits.empty()) return base == 8 && text.empty() ? (*out = 0, true) : false;
  unsigned long long v = 0;
  for (char c : digits) {
    const int d = HexVal(c);
    if (d < 0 || d >= base) return false;
    if (v > (~0ULL - static_cast<unsigned>(d)) / static_cast<unsigned>(base)) {
      *overflow = true;
      return false;
    }
    v = v * static_cast<unsigned>(base) + static_cast<unsigned>(d);
  }
  if (neg ? v > (1ULL << 63) : v > static_cast<unsigned long long>(INT64_MAX)) {
    *overflow = true;
    return false;
  }
  *out = neg ? static_cast<int64_t>(0 - v) : static_cast<int64_t>(v);
  return true;
}

std::string Describe(const Token& t) {
  switch (t.type) {
    case Tok::kEof: return "EOF";
    case Tok::kBlock: case Tok::kBreak: case Tok::kContinue: case Tok::kDefine:
    case Tok::kElse: case Tok::kEnd: case Tok::kIf: case Tok::kRange:
    case Tok::kTemplate: case Tok::kWith:
      return "<" + t.text + ">";
    case Tok::kLeftDelim: return "\"{{\"";
    case Tok::kRightDelim: return "\"}}\"";
    default:
      if (t.text.size() > 10) return GoQuote(t.text.substr(0, 10)) + "...";
      return GoQuote(t.text);
  }
}

class Parser {
 public:
  Parser(const std::string& name, std::string_view text, const Limits& limits)
      : limits_(limits), toks_(Lex(text)) {
    set_ = std::make_unique<TemplateSet>();
    set_->name = name;
    set_->text = std::string(text);
  }

  std::unique_ptr<TemplateSet> Run() {
    vars_ = {"$"};
    auto root = std::make_unique<NodeList>();
    while (Peek().type != Tok::kEof) {
      if (Peek().type == Tok::kLeftDelim) {
        const size_t save = i_;
        Next();
        if (NextNonSpace().type == Tok::kDefine) {
          Definition();
          continue;
        }
        i_ = save;
      }
      Item it = TextOrAction();
      if (it.marker != Marker::kNone)
        Fail(it.pos, it.marker == Marker::kEnd ? "unexpected {{end}}" : "unexpected {{else}}");
      root->push_back(std::move(it.node));
    }
    Add(set_->name, std::move(root), 0);
    return std::move(set_);
  }

 private:
  enum class Marker { kNone, kEnd, kElse };
  struct Item {
    std::unique_ptr<Node> node;
    Marker marker = Marker::kNone;
    Tok chained = Tok::kEof;  // {{else if}} / {{else with}}: kIf / kWith
    size_t pos = 0;
  };

  [[noreturn]] void Fail(size_t pos, std::string msg, bool limit = false) {
    throw ParseFailure{pos, std::move(msg), limit};
  }

  const Token& Peek() {
    if (toks_[i_].type == Tok::kError) Fail(toks_[i_].pos, toks_[i_].text);
    return toks_[i_];
  }
  const Token& Next() {
    const Token& t = Peek();
    if (i_ + 1 < toks_.size()) ++i_;
    return t;
  }
  const Token& NextNonSpace() {
    while (Peek().type == Tok::kSpace) Next();
    return Next();
  }
  const Token& PeekNonSpace() {
    while (Peek().type == Tok::kSpace) Next();
    return Peek();
  }
  size_t EndOfLast() const {
    if (i_ == 0) return 0;
    const Token& t = toks_[i_ - 1];
    return t.pos + t.text.size();
  }
  // The source text from `from` to the end of the last token consumed.
  std::string Source(size_t from) const {
    const size_t end = EndOfLast();
    if (end <= from) return "";
    std::string s = set_->text.substr(from, end - from);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == '\t' ||
                          s.back() == '\r'))
      s.pop_back();
    return s;
  }
  [[noreturn]] void Unexpected(const Token& t, const std::string& context) {
    Fail(t.pos, "unexpected " + Describe(t) + " in " + context);
  }
  void Expect(Tok type, const std::string& context) {
    const Token& t = NextNonSpace();
    if (t.type != type) Unexpected(t, context);
  }

  struct Depth {
    Parser* p;
    explicit Depth(Parser* parser, size_t pos) : p(parser) {
      if (++p->depth_ > p->limits_.max_nesting)
        p->Fail(pos, "template nesting exceeds " + std::to_string(p->limits_.max_nesting) +
                         " levels",
                true);
    }
    ~Depth() { --p->depth_; }
  };

  static bool IsEmptyTree(const NodeList& l) {
    for (const auto& n : l) {
      if (n->type != NodeType::kText) return false;
      for (char c : n->text)
        if (c != ' ' && c != '\t' && c != '\r' && c != '\n') return false;
    }
    return true;
  }

  void Add(const std::string& name, std::unique_ptr<NodeList> list, size_t pos) {
    auto it = set_->trees.find(name);
    if (it == set_->trees.end() || IsEmptyTree(*it->second)) {
      set_->trees[name] = std::move(list);
      return;
    }
    if (!IsEmptyTree(*list)) Fail(pos, "template: multiple definition of template \"" + name + "\"");
  }

  std::string TemplateName(const std::string& context) {
    const Token& t = NextNonSpace();
    if (t.type != Tok::kString && t.type != Tok::kRawString) Unexpected(t, context);
    std::string name;
    if (!UnquoteGo(t.text, &name)) Fail(t.pos, "invalid syntax");
    return name;
  }

  void Definition() {
    const size_t pos = toks_[i_ - 1].pos;
    const std::string name = TemplateName("define clause");
    Expect(Tok::kRightDelim, "define clause");
    std::vector<std::string> saved = std::move(vars_);
    vars_ = {"$"};
    auto [list, marker] = ItemList();
    if (marker.marker != Marker::kEnd) Fail(marker.pos, "unexpected {{else}} in define clause");
    vars_ = std::move(saved);
    Add(name, std::move(list), pos);
  }

  std::pair<std::unique_ptr<NodeList>, Item> ItemList() {
    auto list = std::make_unique<NodeList>();
    while (Peek().type != Tok::kEof) {
      Item it = TextOrAction();
      if (it.marker != Marker::kNone) return {std::move(list), std::move(it)};
      list->push_back(std::move(it.node));
    }
    Fail(Peek().pos, "unexpected EOF");
  }

  Item TextOrAction() {
    const Token& t = NextNonSpace();
    if (t.type == Tok::kText) {
      Item it;
      it.node = std::make_unique<Node>();
      it.node->type = NodeType::kText;
      it.node->pos = t.pos;
      it.node->text = t.text;
      return it;
    }
    if (t.type == Tok::kLeftDelim) return Action();
    Unexpected(t, "input");
  }

  Item Action() {
    const Token& t = NextNonSpace();
    Item it;
    it.pos = t.pos;
    switch (t.type) {
      case Tok::kBlock: return Block(t.pos);
      case Tok::kBreak:
      case Tok::kContinue: {
        const bool is_break = t.type == Tok::kBreak;
        const std::string kw = is_break ? "{{break}}" : "{{continue}}";
        if (range_depth_ == 0) Fail(t.pos, kw + " outside {{range}}");
        Expect(Tok::kRightDelim, kw);
        it.node = std::make_unique<Node>();
        it.node->type = is_break ? NodeType::kBreak : NodeType::kContinue;
        it.node->pos = t.pos;
        return it;
      }
      case Tok::kElse: {
        const Token& p = PeekNonSpace();
        it.marker = Marker::kElse;
        if (p.type == Tok::kIf || p.type == Tok::kWith) {
          it.chained = p.type;
          return it;
        }
        Expect(Tok::kRightDelim, "else");
        return it;
      }
      case Tok::kEnd:
        Expect(Tok::kRightDelim, "end");
        it.marker = Marker::kEnd;
        return it;
      case Tok::kIf: return Control(NodeType::kIf, "if", t.pos);
      case Tok::kRange: return Control(NodeType::kRange, "range", t.pos);
      case Tok::kWith: return Control(NodeType::kWith, "with", t.pos);
      case Tok::kTemplate: {
        it.node = std::make_unique<Node>();
        it.node->type = NodeType::kTemplate;
        it.node->text = TemplateName("template clause");
        // Go places a template call at its name.
        it.node->pos = toks_[i_ - 1].pos;
        if (PeekNonSpace().type == Tok::kRightDelim) {
          Next();
        } else {
          it.node->pipe = ParsePipeline("template clause", Tok::kRightDelim);
        }
        return it;
      }
      default: {
        --i_;
        it.node = std::make_unique<Node>();
        it.node->type = NodeType::kAction;
        it.node->pos = t.pos;
        it.node->pipe = ParsePipeline("command", Tok::kRightDelim);
        return it;
      }
    }
  }

  Item Block(size_t pos) {
    Depth d(this, pos);
    const std::string name = TemplateName("block clause");
    auto pipe = ParsePipeline("block clause", Tok::kRightDelim);
    std::vector<std::string> saved = std::move(vars_);
    vars_ = {"$"};
    const int saved_range = range_depth_;
    range_depth_ = 0;
    auto [list, marker] = ItemList();
    if (marker.marker != Marker::kEnd) Fail(marker.pos, "unexpected {{else}} in block clause");
    range_depth_ = saved_range;
    vars_ = std::move(saved);
    Add(name, std::move(list), pos);
    Item it;
    it.node = std::make_unique<Node>();
    it.node->type = NodeType::kTemplate;
    it.node->pos = pos;
    it.node->text = name;
    it.node->pipe = std::move(pipe);
    return it;
  }

  Item Control(NodeType type, const std::string& context, size_t pos) {
    Depth d(this, pos);
    const size_t mark = vars_.size();
    Item it;
    it.node = std::make_unique<Node>();
    it.node->type = type;
    it.node->pos = pos;
    it.node->pipe = ParsePipeline(context, Tok::kRightDelim);
    if (type == NodeType::kRange) ++range_depth_;
    auto [list, next] = ItemList();
    if (type == NodeType::kRange) --range_depth_;
    it.node->list = std::move(*list);
    if (next.marker == Marker::kElse) {
      if (next.chained != Tok::kEof) {
        const bool ok = (next.chained == Tok::kIf && type == NodeType::kIf) ||
                        (next.chained == Tok::kWith && type == NodeType::kWith);
        if (!ok) Fail(next.pos, "expected end; found {{else " + context + "}}");
        const Token& kw = NextNonSpace();
        // The chained control consumes the one {{end}} of the whole chain.
        Item inner = Control(type, context, kw.pos);
        it.node->else_list.push_back(std::move(inner.node));
      } else {
        auto [else_list, end] = ItemList();
        if (end.marker != Marker::kEnd) Fail(end.pos, "expected end; found {{else}}");
        it.node->else_list = std::move(*else_list);
      }
    }
    vars_.resize(mark);
    return it;
  }

  bool VarDefined(const std::string& name) const {
    for (const auto& v : vars_)
      if (v == name) return true;
    return false;
  }

  std::unique_ptr<Pipeline> ParsePipeline(const std::string& context, Tok end) {
    auto pipe = std::make_unique<Pipeline>();
    pipe->pos = PeekNonSpace().pos;
    for (;;) {  // declarations
      if (PeekNonSpace().type != Tok::kVariable) break;
      const size_t vi = i_;
      const Token& v = Next();
      const Token& next = PeekNonSpace();
      if (next.type == Tok::kAssign || next.type == Tok::kDeclare) {
        pipe->is_assign = next.type == Tok::kAssign;
        Next();
        if (pipe->is_assign && !VarDefined(v.text))
          Fail(v.pos, "undefined variable \"" + v.text + "\"");
        pipe->decl.push_back(v.text);
        vars_.push_back(v.text);
        break;
      }
      if (next.type == Tok::kChar && next.text == ",") {
        Next();
        pipe->decl.push_back(v.text);
        vars_.push_back(v.text);
        if (context == "range" && pipe->decl.size() < 2) {
          const Tok t = PeekNonSpace().type;
          if (t == Tok::kVariable) continue;
          Fail(PeekNonSpace().pos, "range can only initialize variables");
        }
        Fail(v.pos, "too many declarations in " + context);
      }
      i_ = vi;
      break;
    }
    for (;;) {
      const Token& t = PeekNonSpace();
      if (t.type == end) {
        pipe->text = Source(pipe->pos);
        Next();
        break;
      }
      switch (t.type) {
        case Tok::kBool: case Tok::kCharConst: case Tok::kDot: case Tok::kField:
        case Tok::kIdentifier: case Tok::kNumber: case Tok::kNil: case Tok::kRawString:
        case Tok::kString: case Tok::kVariable: case Tok::kLeftParen:
          pipe->cmds.push_back(ParseCommand());
          break;
        default:
          Unexpected(t, context);
      }
    }
    if (pipe->cmds.empty()) Fail(pipe->pos, "missing value for " + context);
    for (size_t k = 1; k < pipe->cmds.size(); ++k) {
      const ArgType a = pipe->cmds[k].args[0].type;
      if (a == ArgType::kConstant || a == ArgType::kDot || a == ArgType::kNil)
        Fail(pipe->cmds[k].pos,
             "non executable command in pipeline stage " + std::to_string(k + 1));
    }
    return pipe;
  }

  Command ParseCommand() {
    Command cmd;
    cmd.pos = PeekNonSpace().pos;
    for (;;) {
      PeekNonSpace();
      if (auto a = Operand()) cmd.args.push_back(std::move(*a));
      cmd.text = Source(cmd.pos);
      const Token& t = Next();
      if (t.type == Tok::kSpace) continue;
      if (t.type == Tok::kRightDelim || t.type == Tok::kRightParen) {
        --i_;
      } else if (t.type != Tok::kPipe) {
        Unexpected(t, "operand");
      }
      break;
    }
    if (cmd.args.empty()) Fail(cmd.pos, "empty command");
    return cmd;
  }

  std::unique_ptr<Arg> Operand() {
    auto a = Term();
    if (!a) return a;
    if (Peek().type == Tok::kField) {
      std::vector<std::string> chain;
      while (Peek().type == Tok::kField) chain.push_back(Next().text.substr(1));
      switch (a->type) {
        case ArgType::kField:
        case ArgType::kVariable:
          for (auto& c : chain) a->idents.push_back(std::move(c));
          break;
        case ArgType::kConstant:
        case ArgType::kNil:
        case ArgType::kDot:
          Fail(a->pos, "unexpected . after term " + GoQuote(a->text));
        default: {
          auto c = std::make_unique<Arg>();
          c->type = ArgType::kChain;
          c->pos = a->pos;
          c->idents = std::move(chain);
          c->base = std::move(a);
          a = std::move(c);
        }
      }
      a->text = Source(a->pos);
    }
    return a;
  }

  std::unique_ptr<Arg> Term() {
    const Token& t = NextNonSpace();
    auto a = std::make_unique<Arg>();
    a->pos = t.pos;
    a->text = t.text;
    switch (t.type) {
      case Tok::kIdentifier:
        a->type = ArgType::kIdentifier;
        a->name = t.text;
        a->func = LookupFunc(t.text);
        if (!a->func) Fail(t.pos, "function \"" + t.text + "\" not defined");
        return a;
      case Tok::kDot: a->type = ArgType::kDot; return a;
      case Tok::kNil: a->type = ArgType::kNil; return a;
      case Tok::kVariable:
        if (!VarDefined(t.text)) Fail(t.pos, "undefined variable \"" + t.text + "\"");
        a->type = ArgType::kVariable;
        a->name = t.text;
        return a;
      case Tok::kField:
        a->type = ArgType::kField;
        a->idents.push_back(t.text.substr(1));
        return a;
      case Tok::kBool:
        a->type = ArgType::kConstant;
        a->constant = Value::Bool(t.text == "true");
        return a;
      case Tok::kCharConst: {
        std::string s;
        if (!UnescapeGo(std::string_view(t.text).substr(1, t.text.size() - 2), '\'', &s))
          Fail(t.pos, "malformed character constant: " + t.text);
        uint32_t cp;
        if (DecodeUtf8(s, &cp) != s.size() || s.empty()) {
          if (s.size() != 1) Fail(t.pos, "malformed character constant: " + t.text);
          cp = static_cast<unsigned char>(s[0]);
        }
        a->type = ArgType::kConstant;
        a->constant = Value::Int(cp);
        return a;
      }
      case Tok::kNumber:
        a->type = ArgType::kConstant;
        a->constant = Number(t);
        return a;
      case Tok::kLeftParen: {
        Depth d(this, t.pos);
        a->type = ArgType::kPipe;
        a->pipe = ParsePipeline("parenthesized pipeline", Tok::kRightParen);
        a->text = "(" + a->pipe->text + ")";
        return a;
      }
      case Tok::kString:
      case Tok::kRawString: {
        std::string s;
        if (!UnquoteGo(t.text, &s)) Fail(t.pos, "invalid syntax");
        a->type = ArgType::kConstant;
        a->constant = Value::String(std::move(s));
        return a;
      }
      default:
        --i_;
        return nullptr;
    }
  }

  Value Number(const Token& t) {
    const std::string& s = t.text;
    if (!s.empty() && s.back() == 'i') Fail(t.pos, "complex numbers are not supported: " + s);
    const bool hex = s.find("0x") != std::string::npos || s.find("0X") != std::string::npos;
    const bool floaty = hex ? s.find_first_of("pP") != std::string::npos
                            : s.find_first_of(".eE") != std::string::npos;
    if (!floaty) {
      int64_t v;
      bool overflow;
      if (ParseIntGo(s, &v, &overflow)) return Value::Int(v);
      if (overflow) Fail(t.pos, s + " overflows int");
      Fail(t.pos, "illegal number syntax: " + GoQuote(s));
    }
    std::string clean;
    for (char c : s)
      if (c != '_') clean.push_back(c);
    errno = 0;
    char* end = nullptr;
    const double d = std::strtod(clean.c_str(), &end);
    if (end == clean.c_str() || *end != '\0' || !std::isfinite(d))
      Fail(t.pos, "illegal number syntax: " + GoQuote(s));
    return Value::Float(d);
  }

  const Limits& limits_;
  std::vector<Token> toks_;
  size_t i_ = 0;
  std::unique_ptr<TemplateSet> set_;
  std::vector<std::string> vars_;
  int range_depth_ = 0;
  int depth_ = 0;
};

}  // namespace

bool UnquoteGo(std::string_view lit, std::string* out) {
  if (lit.size() < 2) return false;
  if (lit.front() == '`') {
    if (lit.back() != '`') return false;
    for (char c : lit.substr(1, lit.size() - 2))
      if (c != '\r') out->push_back(c);
    return true;
  }
  if (lit.front() != '"' || lit.back() != '"') return false;
  return UnescapeGo(lit.substr(1, lit.size() - 2), '"', out);
}

void Locate(std::string_view text, size_t pos, int* line, int* column) {
  if (pos > text.size()) pos = text.size();
  const std::string_view before = text.substr(0, pos);
  *line = 1;
  for (char c : before)
    if (c == '\n') ++*line;
  const size_t nl = before.rfind('\n');
  *column = static_cast<int>(nl == std::string_view::npos ? pos : pos - nl - 1);
}

std::unique_ptr<TemplateSet> ParseTemplateSet(const std::string& name, std::string_view text,
                                              const Limits& limits, Error* err) {
  try {
    return Parser(name, text, limits).Run();
  } catch (const ParseFailure& f) {
    err->kind = f.limit ? ErrorKind::kLimit : ErrorKind::kParse;
    Locate(text, f.pos, &err->line, &err->column);
    err->message = "template: " + name + ":" + std::to_string(err->line) + ":" +
                   std::to_string(err->column) + ": " + f.message;
    return nullptr;
  }
}

}  // namespace tmpl
}  // namespace stepca
