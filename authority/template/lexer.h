// Splits template text into tokens: text between actions, and inside
// `{{ }}` the operands, keywords and punctuation of Go's text/template.
// Trim markers (`{{- `, ` -}}`) are applied to the neighbouring text here;
// comments are dropped here.
#ifndef STEPCA_AUTHORITY_TEMPLATE_LEXER_H
#define STEPCA_AUTHORITY_TEMPLATE_LEXER_H

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace stepca {
namespace tmpl {

enum class Tok {
  kError,  // text is the message; always the last token
  kEof,
  kText,
  kLeftDelim,
  kRightDelim,
  kSpace,
  kBool,
  kChar,        // a punctuation character the parser may reject (',' ...)
  kCharConst,   // 'x'
  kNumber,
  kString,      // "..." with its quotes
  kRawString,   // `...` with its quotes
  kIdentifier,  // a function name
  kField,       // .Name
  kVariable,    // $ or $name
  kDot,
  kNil,
  kPipe,
  kLeftParen,
  kRightParen,
  kDeclare,  // :=
  kAssign,   // =
  // Keywords.
  kBlock,
  kBreak,
  kContinue,
  kDefine,
  kElse,
  kEnd,
  kIf,
  kRange,
  kTemplate,
  kWith,
};

struct Token {
  Tok type;
  std::string text;
  size_t pos;  // byte offset in the template text
};

// Tokenizes all of `input`; the last token is kEof or kError.
std::vector<Token> Lex(std::string_view input);

}  // namespace tmpl
}  // namespace stepca

#endif  // STEPCA_AUTHORITY_TEMPLATE_LEXER_H
