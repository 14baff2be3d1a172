#include "authority/template/lexer.h"

namespace stepca {
namespace tmpl {

namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

bool IsAlnum(char c) {
  const unsigned char u = static_cast<unsigned char>(c);
  // Bytes of multi-byte UTF-8 sequences count as letters, as Go accepts
  // Unicode letters in identifiers.
  return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || u >= 0x80;
}

class Lexer {
 public:
  explicit Lexer(std::string_view in) : in_(in) {}

  std::vector<Token> Run() {
    while (LexText()) {
    }
    return std::move(out_);
  }

 private:
  void Emit(Tok t, size_t start, size_t end) {
    out_.push_back(Token{t, std::string(in_.substr(start, end - start)), start});
  }
  bool Error(size_t at, std::string msg) {
    out_.push_back(Token{Tok::kError, std::move(msg), at});
    return false;
  }

  // " -}}" or "}}" at pos_: length of the delimiter, trimmed or not.
  size_t AtRightDelim(bool* trim) const {
    const std::string_view rest = in_.substr(pos_);
    if (rest.size() >= 4 && IsSpace(rest[0]) && rest[1] == '-' && rest.substr(2, 2) == "}}") {
      *trim = true;
      return 4;
    }
    if (rest.substr(0, 2) == "}}") {
      *trim = false;
      return 2;
    }
    return 0;
  }

  void SkipSpaceAfterTrim() {
    while (pos_ < in_.size() && IsSpace(in_[pos_])) ++pos_;
  }

  // Text up to the next action; false at the end of input or on error.
  bool LexText() {
    const size_t start = pos_;
    const size_t x = in_.find("{{", pos_);
    if (x == std::string_view::npos) {
      if (start < in_.size()) Emit(Tok::kText, start, in_.size());
      out_.push_back(Token{Tok::kEof, "", in_.size()});
      return false;
    }
    const bool trim = x + 3 < in_.size() && in_[x + 2] == '-' && IsSpace(in_[x + 3]);
    size_t end = x;
    if (trim)
      while (end > start && IsSpace(in_[end - 1])) --end;
    if (end > start) Emit(Tok::kText, start, end);
    pos_ = x + 2 + (trim ? 2 : 0);
    // A comment must follow the delimiter (and trim marker) directly.
    if (in_.substr(pos_, 2) == "/*") return LexComment(x);
    Emit(Tok::kLeftDelim, x, x + 2);
    return LexInsideAction();
  }

  bool LexComment(size_t delim) {
    const size_t close = in_.find("*/", pos_ + 2);
    if (close == std::string_view::npos) return Error(delim, "unclosed comment");
    pos_ = close + 2;
    bool trim;
    const size_t n = AtRightDelim(&trim);
    if (n == 0) return Error(delim, "comment ends before closing delimiter");
    pos_ += n;
    if (trim) SkipSpaceAfterTrim();
    return true;
  }

  bool AtTerminator() const {
    if (pos_ >= in_.size()) return true;
    const char c = in_[pos_];
    if (IsSpace(c) || c == '.' || c == ',' || c == '|' || c == ':' || c == ')' || c == '(')
      return true;
    return in_.substr(pos_, 2) == "}}";
  }

  bool LexInsideAction() {
    int parens = 0;
    for (;;) {
      bool trim;
      if (const size_t n = AtRightDelim(&trim)) {
        if (parens > 0) return Error(pos_, "unclosed left paren");
        Emit(Tok::kRightDelim, pos_ + n - 2, pos_ + n);
        pos_ += n;
        if (trim) SkipSpaceAfterTrim();
        return true;
      }
      if (pos_ >= in_.size()) return Error(pos_, "unclosed action");
      const size_t start = pos_;
      const char c = in_[pos_];
      if (IsSpace(c)) {
        // Stop before " -}}": its space belongs to the trim marker.
        while (pos_ < in_.size() && IsSpace(in_[pos_])) {
          bool t;
          if (AtRightDelim(&t) && t) break;
          ++pos_;
        }
        if (pos_ > start) Emit(Tok::kSpace, start, pos_);
        continue;
      }
      ++pos_;
      switch (c) {
        case '=':
          Emit(Tok::kAssign, start, pos_);
          continue;
        case ':':
          if (pos_ >= in_.size() || in_[pos_] != '=') return Error(start, "expected :=");
          ++pos_;
          Emit(Tok::kDeclare, start, pos_);
          continue;
        case '|':
          Emit(Tok::kPipe, start, pos_);
          continue;
        case '"':
          if (!LexQuote(start)) return false;
          continue;
        case '`': {
          const size_t close = in_.find('`', pos_);
          if (close == std::string_view::npos)
            return Error(start, "unterminated raw quoted string");
          pos_ = close + 1;
          Emit(Tok::kRawString, start, pos_);
          continue;
        }
        case '\'':
          if (!LexChar(start)) return false;
          continue;
        case '$':
          if (!LexFieldOrVariable(start, Tok::kVariable)) return false;
          continue;
        case '(':
          ++parens;
          Emit(Tok::kLeftParen, start, pos_);
          continue;
        case ')':
          if (--parens < 0) return Error(start, "unexpected right paren");
          Emit(Tok::kRightParen, start, pos_);
          continue;
        default:
          break;
      }
      if (c == '.' && !(pos_ < in_.size() && in_[pos_] >= '0' && in_[pos_] <= '9')) {
        if (!LexFieldOrVariable(start, Tok::kField)) return false;
        continue;
      }
      if (c == '.' || c == '+' || c == '-' || (c >= '0' && c <= '9')) {
        pos_ = start;
        if (!LexNumber()) return false;
        continue;
      }
      if (IsAlnum(c)) {
        if (!LexIdentifier(start)) return false;
        continue;
      }
      if (static_cast<unsigned char>(c) < 0x7F && c >= 0x20) {
        Emit(Tok::kChar, start, pos_);
        continue;
      }
      return Error(start, "unrecognized character in action");
    }
  }

  bool LexQuote(size_t start) {
    while (pos_ < in_.size()) {
      const char c = in_[pos_++];
      if (c == '\\') {
        if (pos_ < in_.size() && in_[pos_] != '\n') {
          ++pos_;
          continue;
        }
        break;
      }
      if (c == '\n') break;
      if (c == '"') {
        Emit(Tok::kString, start, pos_);
        return true;
      }
    }
    return Error(start, "unterminated quoted string");
  }

  bool LexChar(size_t start) {
    while (pos_ < in_.size()) {
      const char c = in_[pos_++];
      if (c == '\\') {
        if (pos_ < in_.size() && in_[pos_] != '\n') {
          ++pos_;
          continue;
        }
        break;
      }
      if (c == '\n') break;
      if (c == '\'') {
        Emit(Tok::kCharConst, start, pos_);
        return true;
      }
    }
    return Error(start, "unterminated character constant");
  }

  bool LexFieldOrVariable(size_t start, Tok t) {
    if (AtTerminator()) {
      Emit(t == Tok::kVariable ? Tok::kVariable : Tok::kDot, start, pos_);
      return true;
    }
    while (pos_ < in_.size() && IsAlnum(in_[pos_])) ++pos_;
    if (!AtTerminator()) return Error(pos_, "bad character in field or variable name");
    if (pos_ == start + 1) return Error(start, "bad character in field or variable name");
    Emit(t, start, pos_);
    return true;
  }

  bool LexIdentifier(size_t start) {
    while (pos_ < in_.size() && IsAlnum(in_[pos_])) ++pos_;
    if (!AtTerminator()) return Error(pos_, "bad character after identifier");
    const std::string_view w = in_.substr(start, pos_ - start);
    Tok t = Tok::kIdentifier;
    if (w == "true" || w == "false") t = Tok::kBool;
    else if (w == "nil") t = Tok::kNil;
    else if (w == "block") t = Tok::kBlock;
    else if (w == "break") t = Tok::kBreak;
    else if (w == "continue") t = Tok::kContinue;
    else if (w == "define") t = Tok::kDefine;
    else if (w == "else") t = Tok::kElse;
    else if (w == "end") t = Tok::kEnd;
    else if (w == "if") t = Tok::kIf;
    else if (w == "range") t = Tok::kRange;
    else if (w == "template") t = Tok::kTemplate;
    else if (w == "with") t = Tok::kWith;
    Emit(t, start, pos_);
    return true;
  }

  // Go's number syntax; the parser converts and may still reject it.
  bool LexNumber() {
    const size_t start = pos_;
    auto accept = [&](std::string_view valid) {
      if (pos_ < in_.size() && valid.find(in_[pos_]) != std::string_view::npos) {
        ++pos_;
        return true;
      }
      return false;
    };
    auto run = [&](std::string_view valid) {
      while (accept(valid)) {
      }
    };
    accept("+-");
    std::string_view digits = "0123456789_";
    if (accept("0")) {
      if (accept("xX")) digits = "0123456789abcdefABCDEF_";
      else if (accept("oO")) digits = "01234567_";
      else if (accept("bB")) digits = "01_";
    }
    run(digits);
    if (accept(".")) run(digits);
    if (digits.size() == 11 && accept("eE")) {
      accept("+-");
      run("0123456789_");
    }
    if (digits.size() == 23 && accept("pP")) {
      accept("+-");
      run("0123456789_");
    }
    accept("i");
    if (pos_ < in_.size() && IsAlnum(in_[pos_])) {
      ++pos_;
      return Error(start, "bad number syntax: \"" + std::string(in_.substr(start, pos_ - start)) + "\"");
    }
    Emit(Tok::kNumber, start, pos_);
    return true;
  }

  std::string_view in_;
  size_t pos_ = 0;
  std::vector<Token> out_;
};

}  // namespace

std::vector<Token> Lex(std::string_view input) { return Lexer(input).Run(); }

}  // namespace tmpl
}  // namespace stepca
