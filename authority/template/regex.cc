#include "authority/template/regex.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "authority/template/utf8.h"

namespace stepca {
namespace tmpl {

namespace {

constexpr size_t kMaxInsts = 10000;
constexpr int kMaxRepeat = 1000;  // RE2's bound on {n,m}
constexpr int kMaxDepth = 200;
constexpr uint64_t kMaxCost = 100000000;

using Ranges = std::vector<std::pair<uint32_t, uint32_t>>;

enum class AssertKind { kBeginText, kEndText, kBeginLine, kEndLine, kWordB, kNotWordB };

struct Node {
  enum Type { kEmpty, kClass, kAny, kAnyNotNL, kCat, kAlt, kRepeat, kAssert } type = kEmpty;
  Ranges ranges;  // kClass, already negated and case-folded
  std::vector<std::unique_ptr<Node>> subs;
  int min = 0, max = 0;  // kRepeat; max -1 for no bound
  AssertKind assert_kind = AssertKind::kBeginText;
};
using NodePtr = std::unique_ptr<Node>;

struct Flags {
  bool fold = false;       // i
  bool multiline = false;  // m
  bool dotnl = false;      // s
};

struct Invalid {};

Ranges Negate(Ranges r) {
  std::sort(r.begin(), r.end());
  Ranges out;
  uint32_t next = 0;
  for (const auto& [lo, hi] : r) {
    if (lo > next) out.emplace_back(next, lo - 1);
    if (hi + 1 > next) next = hi + 1;
  }
  if (next <= 0x10FFFF) out.emplace_back(next, 0x10FFFF);
  return out;
}

void Fold(Ranges* r) {
  const size_t n = r->size();
  for (size_t i = 0; i < n; ++i) {
    const auto [lo, hi] = (*r)[i];
    const uint32_t a = std::max<uint32_t>(lo, 'a'), b = std::min<uint32_t>(hi, 'z');
    if (a <= b) r->emplace_back(a - 32, b - 32);
    const uint32_t c = std::max<uint32_t>(lo, 'A'), d = std::min<uint32_t>(hi, 'Z');
    if (c <= d) r->emplace_back(c + 32, d + 32);
  }
}

const Ranges kDigit = {{'0', '9'}};
const Ranges kSpace = {{'\t', '\n'}, {'\f', '\r'}, {' ', ' '}};
const Ranges kWord = {{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}};

bool IsWordRune(int64_t c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

class RegexParser {
 public:
  explicit RegexParser(std::string_view p) : p_(p) {}

  NodePtr Parse() {
    Flags f;
    NodePtr n = Alternation(&f, 0);
    if (i_ != p_.size()) throw Invalid{};  // a stray ')'
    return n;
  }

 private:
  bool More() const { return i_ < p_.size(); }
  uint32_t PeekRune(size_t* len) const {
    uint32_t cp;
    *len = DecodeUtf8(p_.substr(i_), &cp);
    if (*len == 0) throw Invalid{};  // Go rejects invalid UTF-8 in a pattern
    return cp;
  }
  uint32_t NextRune() {
    size_t n;
    const uint32_t cp = PeekRune(&n);
    i_ += n;
    return cp;
  }

  NodePtr Alternation(Flags* f, int depth) {
    if (depth > kMaxDepth) throw Invalid{};
    auto alt = std::make_unique<Node>();
    alt->type = Node::kAlt;
    alt->subs.push_back(Concat(f, depth));
    while (More() && p_[i_] == '|') {
      ++i_;
      alt->subs.push_back(Concat(f, depth));
    }
    if (alt->subs.size() == 1) return std::move(alt->subs[0]);
    return alt;
  }

  NodePtr Concat(Flags* f, int depth) {
    auto cat = std::make_unique<Node>();
    cat->type = Node::kCat;
    while (More() && p_[i_] != '|' && p_[i_] != ')') {
      NodePtr atom = Atom(f, depth);
      if (!atom) continue;  // a flag group such as (?i)
      cat->subs.push_back(Quantified(std::move(atom)));
    }
    return cat;
  }

  bool ParseInt(int* out) {
    const size_t start = i_;
    long v = 0;
    while (More() && p_[i_] >= '0' && p_[i_] <= '9') {
      v = v * 10 + (p_[i_] - '0');
      if (v > 100000) v = 100000;
      ++i_;
    }
    *out = static_cast<int>(v);
    return i_ > start;
  }

  // {n}, {n,}, {n,m}; false (and nothing consumed) when `{` is a literal.
  bool Braces(int* min, int* max) {
    const size_t save = i_;
    ++i_;
    if (!ParseInt(min)) {
      i_ = save;
      return false;
    }
    *max = *min;
    if (More() && p_[i_] == ',') {
      ++i_;
      if (More() && p_[i_] == '}') *max = -1;
      else if (!ParseInt(max)) {
        i_ = save;
        return false;
      }
    }
    if (!More() || p_[i_] != '}') {
      i_ = save;
      return false;
    }
    ++i_;
    if (*min > kMaxRepeat || *max > kMaxRepeat || (*max >= 0 && *max < *min)) throw Invalid{};
    return true;
  }

  NodePtr Quantified(NodePtr atom) {
    bool quantified = false;
    while (More()) {
      int min, max;
      const char c = p_[i_];
      if (c == '*') { min = 0; max = -1; ++i_; }
      else if (c == '+') { min = 1; max = -1; ++i_; }
      else if (c == '?') { min = 0; max = 1; ++i_; }
      else if (c == '{') {
        if (!Braces(&min, &max)) break;
      } else {
        break;
      }
      if (quantified) throw Invalid{};  // Go: invalid nested repetition operator
      quantified = true;
      if (More() && p_[i_] == '?') ++i_;  // lazy: same answer for a match test
      auto r = std::make_unique<Node>();
      r->type = Node::kRepeat;
      r->min = min;
      r->max = max;
      r->subs.push_back(std::move(atom));
      atom = std::move(r);
    }
    return atom;
  }

  NodePtr ClassNode(Ranges r, const Flags& f, bool negate = false) {
    if (f.fold) Fold(&r);
    if (negate) r = Negate(std::move(r));
    auto n = std::make_unique<Node>();
    n->type = Node::kClass;
    n->ranges = std::move(r);
    return n;
  }

  NodePtr AssertNode(AssertKind k) {
    auto n = std::make_unique<Node>();
    n->type = Node::kAssert;
    n->assert_kind = k;
    return n;
  }

  NodePtr Atom(Flags* f, int depth) {
    const char c = p_[i_];
    switch (c) {
      case '*': case '+': case '?':
        throw Invalid{};  // missing argument to repetition operator
      case '(':
        return Group(f, depth);
      case '[':
        ++i_;
        return Bracket(*f);
      case '.': {
        ++i_;
        auto n = std::make_unique<Node>();
        n->type = f->dotnl ? Node::kAny : Node::kAnyNotNL;
        return n;
      }
      case '^':
        ++i_;
        return AssertNode(f->multiline ? AssertKind::kBeginLine : AssertKind::kBeginText);
      case '$':
        ++i_;
        return AssertNode(f->multiline ? AssertKind::kEndLine : AssertKind::kEndText);
      case '\\':
        return Escape(*f);
      case '{': {
        int a, b;
        if (Braces(&a, &b)) throw Invalid{};
        ++i_;
        return ClassNode({{'{', '{'}}, *f);
      }
      default: {
        const uint32_t cp = NextRune();
        return ClassNode({{cp, cp}}, *f);
      }
    }
  }

  NodePtr Group(Flags* f, int depth) {
    ++i_;
    Flags inner = *f;
    if (More() && p_[i_] == '?') {
      ++i_;
      if (More() && p_[i_] == 'P') {
        ++i_;
        if (!More() || p_[i_] != '<') throw Invalid{};
        const size_t close = p_.find('>', i_);
        if (close == std::string_view::npos || close == i_ + 1) throw Invalid{};
        for (size_t k = i_ + 1; k < close; ++k)
          if (!IsWordRune(static_cast<unsigned char>(p_[k]))) throw Invalid{};
        i_ = close + 1;
      } else {
        bool neg = false, any = false;
        for (;;) {
          if (!More()) throw Invalid{};
          const char c = p_[i_++];
          if (c == 'i') { inner.fold = !neg; any = true; }
          else if (c == 'm') { inner.multiline = !neg; any = true; }
          else if (c == 's') { inner.dotnl = !neg; any = true; }
          else if (c == 'U') { any = true; }
          else if (c == '-' && !neg) { neg = true; any = false; }
          else if (c == ')') {
            if (!any) throw Invalid{};
            *f = inner;  // flags for the rest of the enclosing group
            return nullptr;
          } else if (c == ':') {
            if (neg && !any) throw Invalid{};
            break;
          } else {
            throw Invalid{};
          }
        }
      }
    }
    NodePtr n = Alternation(&inner, depth + 1);
    if (!More() || p_[i_] != ')') throw Invalid{};
    ++i_;
    return n;
  }

  uint32_t HexDigits(size_t min, size_t max, char close) {
    uint32_t v = 0;
    size_t n = 0;
    while (More() && n < max && std::isxdigit(static_cast<unsigned char>(p_[i_]))) {
      const char h = p_[i_++];
      v = v * 16 + static_cast<uint32_t>(h <= '9' ? h - '0' : (h | 0x20) - 'a' + 10);
      if (v > 0x10FFFF) throw Invalid{};
      ++n;
    }
    if (n < min) throw Invalid{};
    if (close) {
      if (!More() || p_[i_] != close) throw Invalid{};
      ++i_;
    }
    return v;
  }

  // After the backslash of an escape that stands for one rune or a class,
  // inside or outside brackets. Returns the ranges.
  Ranges EscapeRanges(bool* is_class) {
    *is_class = false;
    if (!More()) throw Invalid{};
    const char c = p_[i_++];
    switch (c) {
      case 'd': *is_class = true; return kDigit;
      case 'D': *is_class = true; return Negate(kDigit);
      case 's': *is_class = true; return kSpace;
      case 'S': *is_class = true; return Negate(kSpace);
      case 'w': *is_class = true; return kWord;
      case 'W': *is_class = true; return Negate(kWord);
      case 'a': return {{7, 7}};
      case 'f': return {{12, 12}};
      case 't': return {{9, 9}};
      case 'n': return {{10, 10}};
      case 'r': return {{13, 13}};
      case 'v': return {{11, 11}};
      case 'x': {
        uint32_t v;
        if (More() && p_[i_] == '{') {
          ++i_;
          v = HexDigits(1, 8, '}');
        } else {
          v = HexDigits(2, 2, 0);
        }
        return {{v, v}};
      }
      case '0': {
        uint32_t v = 0;
        for (int k = 0; k < 2 && More() && p_[i_] >= '0' && p_[i_] <= '7'; ++k)
          v = v * 8 + static_cast<uint32_t>(p_[i_++] - '0');
        return {{v, v}};
      }
      default:
        if (static_cast<unsigned char>(c) < 0x80 && !std::isalnum(static_cast<unsigned char>(c)) &&
            c >= 0x20) {
          const uint32_t v = static_cast<unsigned char>(c);
          return {{v, v}};
        }
        throw Invalid{};  // \pN, back-references and unknown escapes
    }
  }

  NodePtr Escape(const Flags& f) {
    ++i_;
    if (!More()) throw Invalid{};
    switch (p_[i_]) {
      case 'b': ++i_; return AssertNode(AssertKind::kWordB);
      case 'B': ++i_; return AssertNode(AssertKind::kNotWordB);
      case 'A': ++i_; return AssertNode(AssertKind::kBeginText);
      case 'z': ++i_; return AssertNode(AssertKind::kEndText);
      case 'Q': {
        ++i_;
        const size_t end = p_.find("\\E", i_);
        const std::string_view lit = p_.substr(i_, end == std::string_view::npos ? end : end - i_);
        i_ = end == std::string_view::npos ? p_.size() : end + 2;
        auto cat = std::make_unique<Node>();
        cat->type = Node::kCat;
        for (size_t k = 0; k < lit.size();) {
          uint32_t cp;
          const size_t n = DecodeUtf8(lit.substr(k), &cp);
          if (n == 0) throw Invalid{};
          cat->subs.push_back(ClassNode({{cp, cp}}, f));
          k += n;
        }
        return cat;
      }
      default: {
        bool is_class;
        Ranges r = EscapeRanges(&is_class);
        return ClassNode(std::move(r), f);
      }
    }
  }

  bool Posix(Ranges* out) {
    static const struct {
      const char* name;
      Ranges r;
    } kPosix[] = {
        {"alnum", {{'0', '9'}, {'A', 'Z'}, {'a', 'z'}}},
        {"alpha", {{'A', 'Z'}, {'a', 'z'}}},
        {"ascii", {{0, 0x7F}}},
        {"blank", {{'\t', '\t'}, {' ', ' '}}},
        {"cntrl", {{0, 0x1F}, {0x7F, 0x7F}}},
        {"digit", {{'0', '9'}}},
        {"graph", {{'!', '~'}}},
        {"lower", {{'a', 'z'}}},
        {"print", {{' ', '~'}}},
        {"punct", {{'!', '/'}, {':', '@'}, {'[', '`'}, {'{', '~'}}},
        {"space", {{'\t', '\r'}, {' ', ' '}}},
        {"upper", {{'A', 'Z'}}},
        {"word", {{'0', '9'}, {'A', 'Z'}, {'_', '_'}, {'a', 'z'}}},
        {"xdigit", {{'0', '9'}, {'A', 'F'}, {'a', 'f'}}},
    };
    if (p_.substr(i_, 2) != "[:") return false;
    const size_t close = p_.find(":]", i_ + 2);
    if (close == std::string_view::npos) return false;
    std::string_view name = p_.substr(i_ + 2, close - i_ - 2);
    const bool neg = !name.empty() && name[0] == '^';
    if (neg) name.remove_prefix(1);
    for (const auto& p : kPosix) {
      if (name == p.name) {
        const Ranges r = neg ? Negate(p.r) : p.r;
        out->insert(out->end(), r.begin(), r.end());
        i_ = close + 2;
        return true;
      }
    }
    throw Invalid{};
  }

  NodePtr Bracket(const Flags& f) {
    bool negate = false;
    if (More() && p_[i_] == '^') {
      negate = true;
      ++i_;
    }
    Ranges r;
    bool first = true;
    for (;;) {
      if (!More()) throw Invalid{};  // missing closing ]
      if (p_[i_] == ']' && !first) {
        ++i_;
        break;
      }
      first = false;
      if (Posix(&r)) continue;
      uint32_t lo;
      if (p_[i_] == '\\') {
        ++i_;
        bool is_class;
        Ranges e = EscapeRanges(&is_class);
        if (is_class) {
          r.insert(r.end(), e.begin(), e.end());
          continue;
        }
        lo = e[0].first;
      } else {
        lo = NextRune();
      }
      uint32_t hi = lo;
      if (i_ + 1 < p_.size() && p_[i_] == '-' && p_[i_ + 1] != ']') {
        ++i_;
        if (p_[i_] == '\\') {
          ++i_;
          bool is_class;
          Ranges e = EscapeRanges(&is_class);
          if (is_class) throw Invalid{};
          hi = e[0].first;
        } else {
          hi = NextRune();
        }
        if (hi < lo) throw Invalid{};  // invalid character class range
      }
      r.emplace_back(lo, hi);
    }
    return ClassNode(std::move(r), f, negate);
  }

  std::string_view p_;
  size_t i_ = 0;
};

struct Inst {
  enum Op { kClass, kAny, kAnyNotNL, kSplit, kJmp, kAssert, kMatch } op;
  int x = 0, y = 0;
  int cls = -1;
  AssertKind assert_kind = AssertKind::kBeginText;
};

class Compiler {
 public:
  std::vector<Inst> prog;
  std::vector<Ranges> classes;

  void Emit(const Node& n) {
    if (prog.size() > kMaxInsts) throw Invalid{};
    switch (n.type) {
      case Node::kEmpty: return;
      case Node::kClass:
        classes.push_back(n.ranges);
        Push({Inst::kClass, 0, 0, static_cast<int>(classes.size() - 1)});
        return;
      case Node::kAny: Push({Inst::kAny}); return;
      case Node::kAnyNotNL: Push({Inst::kAnyNotNL}); return;
      case Node::kAssert: {
        Inst i{Inst::kAssert};
        i.assert_kind = n.assert_kind;
        Push(i);
        return;
      }
      case Node::kCat:
        for (const auto& s : n.subs) Emit(*s);
        return;
      case Node::kAlt: {
        std::vector<size_t> jumps;
        for (size_t k = 0; k < n.subs.size(); ++k) {
          if (k + 1 < n.subs.size()) {
            const size_t split = Push({Inst::kSplit});
            prog[split].x = static_cast<int>(prog.size());
            Emit(*n.subs[k]);
            jumps.push_back(Push({Inst::kJmp}));
            prog[split].y = static_cast<int>(prog.size());
          } else {
            Emit(*n.subs[k]);
          }
        }
        for (size_t j : jumps) prog[j].x = static_cast<int>(prog.size());
        return;
      }
      case Node::kRepeat: {
        const Node& sub = *n.subs[0];
        for (int k = 0; k < n.min; ++k) Emit(sub);
        if (n.max < 0) {
          const size_t split = Push({Inst::kSplit});
          prog[split].x = static_cast<int>(prog.size());
          Emit(sub);
          const size_t j = Push({Inst::kJmp});
          prog[j].x = static_cast<int>(split);
          prog[split].y = static_cast<int>(prog.size());
        } else {
          std::vector<size_t> splits;
          for (int k = n.min; k < n.max; ++k) {
            const size_t split = Push({Inst::kSplit});
            prog[split].x = static_cast<int>(prog.size());
            splits.push_back(split);
            Emit(sub);
          }
          for (size_t s : splits) prog[s].y = static_cast<int>(prog.size());
        }
        return;
      }
    }
  }

 private:
  size_t Push(Inst i) {
    if (prog.size() >= kMaxInsts) throw Invalid{};
    prog.push_back(i);
    return prog.size() - 1;
  }
};

bool InRanges(const Ranges& r, uint32_t c) {
  for (const auto& [lo, hi] : r)
    if (c >= lo && c <= hi) return true;
  return false;
}

class Vm {
 public:
  Vm(const std::vector<Inst>& prog, const std::vector<Ranges>& classes)
      : prog_(prog), classes_(classes), mark_(prog.size(), 0) {}

  bool Run(std::string_view s) {
    std::vector<int> clist, nlist;
    int64_t prev = -1;
    size_t i = 0;
    for (;;) {
      uint32_t cp = 0;
      size_t n = 0;
      int64_t next = -1;
      if (i < s.size()) {
        n = DecodeUtf8(s.substr(i), &cp);
        if (n == 0) {
          cp = 0xFFFD;
          n = 1;
        }
        next = cp;
      }
      ++gen_;
      // Threads carried over were marked in the previous generation; mark
      // them again so that the new start thread does not duplicate them.
      for (int pc : clist) mark_[static_cast<size_t>(pc)] = gen_;
      // Unanchored: a new thread starts at every position.
      if (Add(&clist, 0, prev, next)) return true;
      if (i >= s.size()) return false;
      ++gen_;
      nlist.clear();
      for (int pc : clist) {
        const Inst& in = prog_[static_cast<size_t>(pc)];
        bool ok = false;
        if (in.op == Inst::kAny) ok = true;
        else if (in.op == Inst::kAnyNotNL) ok = cp != '\n';
        else if (in.op == Inst::kClass) ok = InRanges(classes_[static_cast<size_t>(in.cls)], cp);
        if (ok && Add(&nlist, pc + 1, cp, PeekAfter(s, i + n))) return true;
      }
      clist.swap(nlist);
      prev = cp;
      i += n;
    }
  }

 private:
  static int64_t PeekAfter(std::string_view s, size_t i) {
    if (i >= s.size()) return -1;
    uint32_t cp;
    return DecodeUtf8(s.substr(i), &cp) == 0 ? 0xFFFD : cp;
  }

  bool Holds(AssertKind k, int64_t prev, int64_t next) const {
    switch (k) {
      case AssertKind::kBeginText: return prev < 0;
      case AssertKind::kEndText: return next < 0;
      case AssertKind::kBeginLine: return prev < 0 || prev == '\n';
      case AssertKind::kEndLine: return next < 0 || next == '\n';
      case AssertKind::kWordB: return IsWordRune(prev) != IsWordRune(next);
      case AssertKind::kNotWordB: return IsWordRune(prev) == IsWordRune(next);
    }
    return false;
  }

  // Follows empty transitions from pc; true when Match is reached.
  bool Add(std::vector<int>* list, int start, int64_t prev, int64_t next) {
    stack_.clear();
    stack_.push_back(start);
    while (!stack_.empty()) {
      const int pc = stack_.back();
      stack_.pop_back();
      if (mark_[static_cast<size_t>(pc)] == gen_) continue;
      mark_[static_cast<size_t>(pc)] = gen_;
      const Inst& in = prog_[static_cast<size_t>(pc)];
      switch (in.op) {
        case Inst::kMatch: return true;
        case Inst::kJmp: stack_.push_back(in.x); break;
        case Inst::kSplit:
          stack_.push_back(in.y);
          stack_.push_back(in.x);
          break;
        case Inst::kAssert:
          if (Holds(in.assert_kind, prev, next)) stack_.push_back(pc + 1);
          break;
        default: list->push_back(pc);
      }
    }
    return false;
  }

  const std::vector<Inst>& prog_;
  const std::vector<Ranges>& classes_;
  std::vector<uint64_t> mark_;
  uint64_t gen_ = 0;
  std::vector<int> stack_;
};

}  // namespace

RegexResult RegexMatch(std::string_view pattern, std::string_view s, bool* matched) {
  Compiler c;
  try {
    NodePtr root = RegexParser(pattern).Parse();
    c.Emit(*root);
    c.prog.push_back({Inst::kMatch});
  } catch (const Invalid&) {
    return RegexResult::kInvalid;
  }
  if (static_cast<uint64_t>(c.prog.size()) * (s.size() + 1) > kMaxCost)
    return RegexResult::kTooCostly;
  *matched = Vm(c.prog, c.classes).Run(s);
  return RegexResult::kOk;
}

}  // namespace tmpl
}  // namespace stepca
