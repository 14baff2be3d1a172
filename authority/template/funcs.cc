#include "authority/template/funcs.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <utility>

#include "authority/template/format.h"
#include "authority/template/json_encode.h"
#include "authority/template/regex.h"
#include "authority/template/utf8.h"

namespace stepca {
namespace tmpl {

bool CallContext::Charge(uint64_t n) const {
  if (*steps + n > max_steps) return false;
  *steps += n;
  return true;
}

Value CallContext::NewMap(Value::Map m) const {
  auto shared = std::make_shared<Value::Map>(std::move(m));
  maps->push_back(shared);
  return Value::FromSharedMap(std::move(shared));
}

namespace {

using Args = std::vector<Value>;
using K = Value::Kind;

bool Fail(FuncError* err, std::string msg, FuncError::Kind kind = FuncError::Kind::kError) {
  err->kind = kind;
  err->message = std::move(msg);
  return false;
}

bool TooLarge(const CallContext& ctx, FuncError* err) {
  return Fail(err, "result exceeds " + std::to_string(ctx.max_bytes) + " bytes",
              FuncError::Kind::kLimit);
}

// Go converts each argument to the parameter's type before the call.
bool WantString(const Value& v, const std::string** s, FuncError* err) {
  if (v.kind() == K::kString) {
    *s = &v.as_string();
    return true;
  }
  if (v.is_null()) return Fail(err, "invalid value; expected string", FuncError::Kind::kArgType);
  return Fail(err, "wrong type for value; expected string; got " + v.TypeName(),
              FuncError::Kind::kArgType);
}

bool WantMap(const Value& v, FuncError* err) {
  if (v.kind() == K::kMap) return true;
  if (v.is_null())
    return Fail(err, "invalid value; expected map[string]interface {}", FuncError::Kind::kArgType);
  return Fail(err, "wrong type for value; expected map[string]interface {}; got " + v.TypeName(),
              FuncError::Kind::kArgType);
}

#define STRING_ARG(var, i)          \
  const std::string* var = nullptr; \
  if (!WantString(args[i], &var, err)) return false

// ---- Go's builtins ----

bool Not(const CallContext&, Args& args, Value* out, FuncError*) {
  *out = Value::Bool(!Truth(args[0]));
  return true;
}

bool IsNumber(const Value& v) { return v.kind() == K::kInt || v.kind() == K::kFloat; }
double AsDouble(const Value& v) {
  return v.kind() == K::kInt ? static_cast<double>(v.as_int()) : v.as_float();
}

// Integers compare exactly; an integer and a float compare as numbers
// (Go refuses to compare int with float64: a documented difference).
bool Equal(const Value& a, const Value& b, bool* eq, FuncError* err) {
  if (a.is_null() || b.is_null()) {
    *eq = a.is_null() && b.is_null();
    return true;
  }
  if (IsNumber(a) && IsNumber(b)) {
    *eq = (a.kind() == K::kInt && b.kind() == K::kInt) ? a.as_int() == b.as_int()
                                                       : AsDouble(a) == AsDouble(b);
    return true;
  }
  if (a.kind() != b.kind()) return Fail(err, "incompatible types for comparison");
  switch (a.kind()) {
    case K::kBool: *eq = a.as_bool() == b.as_bool(); return true;
    case K::kString: *eq = a.as_string() == b.as_string(); return true;
    default: return Fail(err, "non-comparable type " + a.TypeName());
  }
}

bool Eq(const CallContext&, Args& args, Value* out, FuncError* err) {
  if (args.size() < 2) return Fail(err, "missing argument for comparison");
  for (size_t i = 1; i < args.size(); ++i) {
    bool eq;
    if (!Equal(args[0], args[i], &eq, err)) return false;
    if (eq) {
      *out = Value::Bool(true);
      return true;
    }
  }
  *out = Value::Bool(false);
  return true;
}

bool Ne(const CallContext&, Args& args, Value* out, FuncError* err) {
  bool eq;
  if (!Equal(args[0], args[1], &eq, err)) return false;
  *out = Value::Bool(!eq);
  return true;
}

// -1, 0, 1 for ordered basic kinds.
bool Order(const Value& a, const Value& b, int* cmp, FuncError* err) {
  if (IsNumber(a) && IsNumber(b)) {
    if (a.kind() == K::kInt && b.kind() == K::kInt) {
      *cmp = a.as_int() < b.as_int() ? -1 : a.as_int() > b.as_int() ? 1 : 0;
    } else {
      const double x = AsDouble(a), y = AsDouble(b);
      *cmp = x < y ? -1 : x > y ? 1 : 0;
    }
    return true;
  }
  const auto ordered = [](const Value& v) { return IsNumber(v) || v.kind() == K::kString; };
  if (!ordered(a) || !ordered(b)) return Fail(err, "invalid type for comparison");
  if (a.kind() != b.kind()) return Fail(err, "incompatible types for comparison");
  const int c = a.as_string().compare(b.as_string());
  *cmp = c < 0 ? -1 : c > 0 ? 1 : 0;
  return true;
}

template <bool (*Pred)(int)>
bool Cmp(const CallContext&, Args& args, Value* out, FuncError* err) {
  int c;
  if (!Order(args[0], args[1], &c, err)) return false;
  *out = Value::Bool(Pred(c));
  return true;
}
bool LtP(int c) { return c < 0; }
bool LeP(int c) { return c <= 0; }
bool GtP(int c) { return c > 0; }
bool GeP(int c) { return c >= 0; }

bool Len(const CallContext&, Args& args, Value* out, FuncError* err) {
  const Value& v = args[0];
  switch (v.kind()) {
    case K::kString: *out = Value::Int(static_cast<int64_t>(v.as_string().size())); return true;
    case K::kList: *out = Value::Int(static_cast<int64_t>(v.as_list().size())); return true;
    case K::kMap: *out = Value::Int(static_cast<int64_t>(v.as_map().size())); return true;
    case K::kNull: return Fail(err, "len of nil pointer");
    default: return Fail(err, "len of type " + v.TypeName());
  }
}

bool Index(const CallContext&, Args& args, Value* out, FuncError* err) {
  Value item = args[0];
  for (size_t i = 1; i < args.size(); ++i) {
    const Value& ix = args[i];
    if (item.is_null()) return Fail(err, "index of untyped nil");
    if (item.kind() == K::kList || item.kind() == K::kString) {
      if (ix.kind() != K::kInt)
        return Fail(err, "cannot index slice/array with type " + ix.TypeName());
      const int64_t n = item.kind() == K::kList ? static_cast<int64_t>(item.as_list().size())
                                                : static_cast<int64_t>(item.as_string().size());
      if (ix.as_int() < 0 || ix.as_int() >= n)
        return Fail(err, "index out of range: " + std::to_string(ix.as_int()));
      if (item.kind() == K::kList) {
        const Value next = item.as_list()[static_cast<size_t>(ix.as_int())];
        item = next;
      } else {
        // A string indexes to its byte, as Go's uint8.
        item = Value::Int(static_cast<unsigned char>(item.as_string()[static_cast<size_t>(ix.as_int())]))
                   .WithType("uint8");
      }
    } else if (item.kind() == K::kMap) {
      if (ix.kind() != K::kString)
        return Fail(err, "value has type " + ix.TypeName() + "; should be string");
      const auto& m = item.as_map();
      auto it = m.find(ix.as_string());
      if (it == m.end()) {
        item = Value();
      } else {
        const Value next = it->second;
        item = next;
      }
    } else {
      return Fail(err, "can't index item of type " + item.TypeName());
    }
  }
  *out = item;
  return true;
}

bool Print(const CallContext& ctx, Args& args, Value* out, FuncError* err) {
  std::string s;
  if (!Sprint(args, ctx.max_bytes, &s)) return TooLarge(ctx, err);
  *out = Value::String(std::move(s));
  return true;
}

bool Println(const CallContext& ctx, Args& args, Value* out, FuncError* err) {
  std::string s;
  if (!Sprintln(args, ctx.max_bytes, &s)) return TooLarge(ctx, err);
  *out = Value::String(std::move(s));
  return true;
}

bool Printf(const CallContext& ctx, Args& args, Value* out, FuncError* err) {
  STRING_ARG(f, 0);
  std::vector<Value> rest(args.begin() + 1, args.end());
  std::string s;
  if (!Sprintf(*f, rest, ctx.max_bytes, &s)) return TooLarge(ctx, err);
  *out = Value::String(std::move(s));
  return true;
}

// html, js and urlquery take their arguments as Go's evalArgs does: one
// string as it is, anything else through fmt.Sprint.
bool Joined(const CallContext& ctx, Args& args, std::string* s, FuncError* err) {
  if (args.size() == 1 && args[0].kind() == K::kString) {
    *s = args[0].as_string();
    return true;
  }
  if (!Sprint(args, ctx.max_bytes, s)) return TooLarge(ctx, err);
  return true;
}

bool Html(const CallContext& ctx, Args& args, Value* out, FuncError* err) {
  std::string s, r;
  if (!Joined(ctx, args, &s, err)) return false;
  for (char c : s) {
    switch (c) {
      case '<': r += "&lt;"; break;
      case '>': r += "&gt;"; break;
      case '&': r += "&amp;"; break;
      case '\'': r += "&#39;"; break;
      case '"': r += "&#34;"; break;
      case '\0': r += "\xEF\xBF\xBD"; break;
      default: r += c;
    }
  }
  if (r.size() > ctx.max_bytes) return TooLarge(ctx, err);
  *out = Value::String(std::move(r));
  return true;
}

bool Js(const CallContext& ctx, Args& args, Value* out, FuncError* err) {
  std::string s, r;
  if (!Joined(ctx, args, &s, err)) return false;
  static const char kHex[] = "0123456789ABCDEF";
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '\\': r += "\\\\"; break;
        case '\'': r += "\\'"; break;
        case '"': r += "\\\""; break;
        case '<': r += "\\u003C"; break;
        case '>': r += "\\u003E"; break;
        case '&': r += "\\u0026"; break;
        case '=': r += "\\u003D"; break;
        default:
          if (c < ' ') {
            r += "\\u00";
            r += kHex[c >> 4];
            r += kHex[c & 15];
          } else {
            r += static_cast<char>(c);
          }
      }
      ++i;
      continue;
    }
    uint32_t cp;
    const size_t n = DecodeUtf8(std::string_view(s).substr(i), &cp);
    if (n == 0) {
      r += "\xEF\xBF\xBD";
      ++i;
      continue;
    }
    if (IsPrintRune(cp)) {
      r.append(s, i, n);
    } else {
      char b[16];
      std::snprintf(b, sizeof b, "\\u%04X", cp);
      r += b;
    }
    i += n;
  }
  if (r.size() > ctx.max_bytes) return TooLarge(ctx, err);
  *out = Value::String(std::move(r));
  return true;
}

bool UrlQuery(const CallContext& ctx, Args& args, Value* out, FuncError* err) {
  std::string s, r;
  if (!Joined(ctx, args, &s, err)) return false;
  static const char kHex[] = "0123456789ABCDEF";
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      r += static_cast<char>(c);
    } else if (c == ' ') {
      r += '+';
    } else {
      r += '%';
      r += kHex[c >> 4];
      r += kHex[c & 15];
    }
  }
  if (r.size() > ctx.max_bytes) return TooLarge(ctx, err);
  *out = Value::String(std::move(r));
  return true;
}

// ---- sprig ----

bool ToJson(const CallContext& ctx, Args& args, Value* out, FuncError* err) {
  std::string s;
  switch (EncodeJson(args[0], ctx.max_bytes, &s)) {
    case JsonResult::kOk: break;
    // sprig ignores Marshal's error and returns "".
    case JsonResult::kUnsupported: s.clear(); break;
    case JsonResult::kTooLarge: return TooLarge(ctx, err);
  }
  *out = Value::String(std::move(s));
  return true;
}

bool FailFn(const CallContext&, Args& args, Value*, FuncError* err) {
  STRING_ARG(msg, 0);
  return Fail(err, *msg, FuncError::Kind::kFail);
}

bool HasPrefix(const CallContext&, Args& args, Value* out, FuncError* err) {
  STRING_ARG(pre, 0);
  STRING_ARG(s, 1);
  *out = Value::Bool(s->compare(0, pre->size(), *pre) == 0 && s->size() >= pre->size());
  return true;
}

bool HasSuffix(const CallContext&, Args& args, Value* out, FuncError* err) {
  STRING_ARG(suf, 0);
  STRING_ARG(s, 1);
  *out = Value::Bool(s->size() >= suf->size() &&
                     s->compare(s->size() - suf->size(), suf->size(), *suf) == 0);
  return true;
}

bool Contains(const CallContext&, Args& args, Value* out, FuncError* err) {
  STRING_ARG(sub, 0);
  STRING_ARG(s, 1);
  *out = Value::Bool(s->find(*sub) != std::string::npos);
  return true;
}

bool Lower(const CallContext&, Args& args, Value* out, FuncError* err) {
  STRING_ARG(s, 0);
  std::string r = *s;
  for (char& c : r)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  *out = Value::String(std::move(r));
  return true;
}

bool Upper(const CallContext&, Args& args, Value* out, FuncError* err) {
  STRING_ARG(s, 0);
  std::string r = *s;
  for (char& c : r)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  *out = Value::String(std::move(r));
  return true;
}

bool IsUnicodeSpace(uint32_t cp) {
  switch (cp) {
    case '\t': case '\n': case '\v': case '\f': case '\r': case ' ':
    case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029: case 0x202F:
    case 0x205F: case 0x3000:
      return true;
    default:
      return cp >= 0x2000 && cp <= 0x200A;
  }
}

// strings.TrimSpace.
std::string TrimSpace(const std::string& s) {
  size_t b = 0;
  while (b < s.size()) {
    uint32_t cp;
    const size_t n = DecodeUtf8(std::string_view(s).substr(b), &cp);
    if (n == 0 || !IsUnicodeSpace(cp)) break;
    b += n;
  }
  size_t e = s.size();
  while (e > b) {
    size_t start = e - 1;
    while (start > b && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
    uint32_t cp;
    const size_t n = DecodeUtf8(std::string_view(s).substr(start, e - start), &cp);
    if (n != e - start || !IsUnicodeSpace(cp)) break;
    e = start;
  }
  return s.substr(b, e - b);
}

bool Trim(const CallContext&, Args& args, Value* out, FuncError* err) {
  STRING_ARG(s, 0);
  *out = Value::String(TrimSpace(*s));
  return true;
}

bool TrimPrefix(const CallContext&, Args& args, Value* out, FuncError* err) {
  STRING_ARG(pre, 0);
  STRING_ARG(s, 1);
  const bool has = s->size() >= pre->size() && s->compare(0, pre->size(), *pre) == 0;
  *out = Value::String(has ? s->substr(pre->size()) : *s);
  return true;
}

bool TrimSuffix(const CallContext&, Args& args, Value* out, FuncError* err) {
  STRING_ARG(suf, 0);
  STRING_ARG(s, 1);
  const bool has =
      s->size() >= suf->size() && s->compare(s->size() - suf->size(), suf->size(), *suf) == 0;
  *out = Value::String(has ? s->substr(0, s->size() - suf->size()) : *s);
  return true;
}

// strings.Split: an empty separator splits after each UTF-8 sequence.
bool SplitParts(const CallContext& ctx, const std::string& sep, const std::string& s,
                std::vector<std::string>* parts, FuncError* err) {
  if (sep.empty()) {
    for (size_t i = 0; i < s.size();) {
      uint32_t cp;
      size_t n = DecodeUtf8(std::string_view(s).substr(i), &cp);
      if (n == 0) n = 1;
      parts->push_back(s.substr(i, n));
      i += n;
      if (parts->size() % 1024 == 0 && !ctx.Charge(1024))
        return Fail(err, "too many parts", FuncError::Kind::kLimit);
    }
  } else {
    size_t start = 0;
    for (;;) {
      const size_t at = s.find(sep, start);
      if (at == std::string::npos) break;
      parts->push_back(s.substr(start, at - start));
      start = at + sep.size();
      if (parts->size() % 1024 == 0 && !ctx.Charge(1024))
        return Fail(err, "too many parts", FuncError::Kind::kLimit);
    }
    parts->push_back(s.substr(start));
  }
  if (!ctx.Charge(parts->size() % 1024)) return Fail(err, "too many parts", FuncError::Kind::kLimit);
  return true;
}

bool Split(const CallContext& ctx, Args& args, Value* out, FuncError* err) {
  STRING_ARG(sep, 0);
  STRING_ARG(s, 1);
  std::vector<std::string> parts;
  if (!SplitParts(ctx, *sep, *s, &parts, err)) return false;
  Value::Map m;
  for (size_t i = 0; i < parts.size(); ++i)
    m.emplace("_" + std::to_string(i), Value::String(std::move(parts[i])));
  *out = ctx.NewMap(std::move(m));
  return true;
}

bool SplitList(const CallContext& ctx, Args& args, Value* out, FuncError* err) {
  STRING_ARG(sep, 0);
  STRING_ARG(s, 1);
  std::vector<std::string> parts;
  if (!SplitParts(ctx, *sep, *s, &parts, err)) return false;
  Value::List l;
  l.reserve(parts.size());
  for (auto& p : parts) l.push_back(Value::String(std::move(p)));
  *out = Value::MakeList(std::move(l));
  return true;
}

bool Join(const CallContext& ctx, Args& args, Value* out, FuncError* err) {
  STRING_ARG(sep, 0);
  const Value& v = args[1];
  std::string r;
  if (v.kind() == K::kList) {
    bool first = true;
    for (const Value& e : v.as_list()) {
      if (e.is_null()) continue;  // sprig's strslice drops nils
      if (!first) r += *sep;
      first = false;
      if (!StrVal(e, ctx.max_bytes, &r)) return TooLarge(ctx, err);
    }
  } else if (!v.is_null()) {
    if (!StrVal(v, ctx.max_bytes, &r)) return TooLarge(ctx, err);
  }
  if (r.size() > ctx.max_bytes) return TooLarge(ctx, err);
  *out = Value::String(std::move(r));
  return true;
}

bool First(const CallContext&, Args& args, Value* out, FuncError* err) {
  if (args[0].kind() != K::kList)
    return Fail(err, "Cannot find first on type " + args[0].KindName());
  const auto& l = args[0].as_list();
  *out = l.empty() ? Value() : l.front();
  return true;
}

bool Last(const CallContext&, Args& args, Value* out, FuncError* err) {
  if (args[0].kind() != K::kList)
    return Fail(err, "Cannot find last on type " + args[0].KindName());
  const auto& l = args[0].as_list();
  *out = l.empty() ? Value() : l.back();
  return true;
}

// sprig's empty: the zero value of its kind.
bool IsEmpty(const Value& v) { return !Truth(v); }

bool Default(const CallContext&, Args& args, Value* out, FuncError*) {
  *out = (args.size() < 2 || IsEmpty(args[1])) ? args[0] : args[1];
  return true;
}

bool Empty(const CallContext&, Args& args, Value* out, FuncError*) {
  *out = Value::Bool(IsEmpty(args[0]));
  return true;
}

bool Coalesce(const CallContext&, Args& args, Value* out, FuncError*) {
  for (const Value& v : args) {
    if (!IsEmpty(v)) {
      *out = v;
      return true;
    }
  }
  *out = Value();
  return true;
}

bool ListFn(const CallContext&, Args& args, Value* out, FuncError*) {
  *out = Value::MakeList(std::move(args));
  return true;
}

bool Dict(const CallContext& ctx, Args& args, Value* out, FuncError* err) {
  Value::Map m;
  for (size_t i = 0; i < args.size(); i += 2) {
    std::string key;
    if (!StrVal(args[i], ctx.max_bytes, &key)) return TooLarge(ctx, err);
    m[key] = i + 1 < args.size() ? args[i + 1] : Value::String("");
  }
  *out = ctx.NewMap(std::move(m));
  return true;
}

bool Get(const CallContext&, Args& args, Value* out, FuncError* err) {
  if (!WantMap(args[0], err)) return false;
  STRING_ARG(key, 1);
  const auto& m = args[0].as_map();
  auto it = m.find(*key);
  // sprig: a missing key is "".
  *out = it == m.end() ? Value::String("") : it->second;
  return true;
}

bool Set(const CallContext&, Args& args, Value* out, FuncError* err) {
  if (!WantMap(args[0], err)) return false;
  STRING_ARG(key, 1);
  (*args[0].shared_map())[*key] = args[2];
  *out = args[0];
  return true;
}

bool Unset(const CallContext&, Args& args, Value* out, FuncError* err) {
  if (!WantMap(args[0], err)) return false;
  STRING_ARG(key, 1);
  args[0].shared_map()->erase(*key);
  *out = args[0];
  return true;
}

bool HasKey(const CallContext&, Args& args, Value* out, FuncError* err) {
  if (!WantMap(args[0], err)) return false;
  STRING_ARG(key, 1);
  *out = Value::Bool(args[0].as_map().count(*key) > 0);
  return true;
}

bool RegexMatchFn(const CallContext&, Args& args, Value* out, FuncError* err) {
  STRING_ARG(re, 0);
  STRING_ARG(s, 1);
  bool matched = false;
  // sprig's regexMatch ignores a compile error: no match.
  if (RegexMatch(*re, *s, &matched) == RegexResult::kTooCostly)
    return Fail(err, "pattern too costly for an input of " + std::to_string(s->size()) + " bytes",
                FuncError::Kind::kLimit);
  *out = Value::Bool(matched);
  return true;
}

const char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

bool B64Enc(const CallContext& ctx, Args& args, Value* out, FuncError* err) {
  STRING_ARG(s, 0);
  if (s->size() / 3 * 4 + 4 > ctx.max_bytes) return TooLarge(ctx, err);
  std::string r;
  size_t i = 0;
  for (; i + 2 < s->size(); i += 3) {
    const uint32_t v = (static_cast<unsigned char>((*s)[i]) << 16) |
                       (static_cast<unsigned char>((*s)[i + 1]) << 8) |
                       static_cast<unsigned char>((*s)[i + 2]);
    r += kB64[v >> 18];
    r += kB64[(v >> 12) & 63];
    r += kB64[(v >> 6) & 63];
    r += kB64[v & 63];
  }
  if (i < s->size()) {
    uint32_t v = static_cast<unsigned char>((*s)[i]) << 16;
    if (i + 1 < s->size()) v |= static_cast<unsigned char>((*s)[i + 1]) << 8;
    r += kB64[v >> 18];
    r += kB64[(v >> 12) & 63];
    r += i + 1 < s->size() ? kB64[(v >> 6) & 63] : '=';
    r += '=';
  }
  *out = Value::String(std::move(r));
  return true;
}

// Go's base64.StdEncoding.DecodeString: padding required, CR and LF
// skipped; sprig returns the error's text instead of failing.
bool B64Dec(const CallContext&, Args& args, Value* out, FuncError* err) {
  STRING_ARG(s, 0);
  std::string r;
  uint32_t acc = 0;
  int bits = 0, pad = 0;
  size_t quantum = 0;  // characters of the current 4-character group
  size_t bad = std::string::npos;
  for (size_t i = 0; i < s->size(); ++i) {
    const char c = (*s)[i];
    if (c == '\r' || c == '\n') continue;
    if (pad > 0 && c != '=') {
      bad = i;
      break;
    }
    if (c == '=') {
      if (quantum < 2) {
        bad = i;
        break;
      }
      ++pad;
      ++quantum;
      if (quantum == 4) quantum = 0;
      continue;
    }
    const char* p = std::strchr(kB64, c);
    if (!p || c == '\0') {
      bad = i;
      break;
    }
    acc = (acc << 6) | static_cast<uint32_t>(p - kB64);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      r += static_cast<char>((acc >> bits) & 0xFF);
    }
    quantum = (quantum + 1) % 4;
  }
  if (bad == std::string::npos && (quantum != 0 || pad > 2)) bad = s->size();
  if (bad != std::string::npos) {
    *out = Value::String("illegal base64 data at input byte " + std::to_string(bad));
    return true;
  }
  *out = Value::String(std::move(r));
  return true;
}

bool Replace(const CallContext& ctx, Args& args, Value* out, FuncError* err) {
  STRING_ARG(from, 0);
  STRING_ARG(to, 1);
  STRING_ARG(s, 2);
  if (from->empty()) {
    // strings.Replace with an empty old string inserts `to` around every
    // UTF-8 sequence.
    size_t runes = 0;
    for (unsigned char c : *s)
      if ((c & 0xC0) != 0x80) ++runes;
    if (s->size() + (runes + 1) * to->size() > ctx.max_bytes) return TooLarge(ctx, err);
    std::string r = *to;
    for (size_t i = 0; i < s->size();) {
      uint32_t cp;
      size_t n = DecodeUtf8(std::string_view(*s).substr(i), &cp);
      if (n == 0) n = 1;
      r.append(*s, i, n);
      r += *to;
      i += n;
    }
    *out = Value::String(std::move(r));
    return true;
  }
  size_t count = 0;
  for (size_t at = s->find(*from); at != std::string::npos; at = s->find(*from, at + from->size()))
    ++count;
  if (to->size() > from->size() && s->size() + count * (to->size() - from->size()) > ctx.max_bytes)
    return TooLarge(ctx, err);
  std::string r;
  size_t start = 0;
  for (size_t at = s->find(*from); at != std::string::npos; at = s->find(*from, start)) {
    r.append(*s, start, at - start);
    r += *to;
    start = at + from->size();
  }
  r.append(*s, start, std::string::npos);
  *out = Value::String(std::move(r));
  return true;
}

bool Quote(const CallContext& ctx, Args& args, Value* out, FuncError* err) {
  std::string r;
  bool first = true;
  for (const Value& v : args) {
    if (v.is_null()) continue;
    std::string s;
    if (!StrVal(v, ctx.max_bytes, &s)) return TooLarge(ctx, err);
    if (!first) r += ' ';
    first = false;
    r += GoQuote(s);
    if (r.size() > ctx.max_bytes) return TooLarge(ctx, err);
  }
  *out = Value::String(std::move(r));
  return true;
}

bool Squote(const CallContext& ctx, Args& args, Value* out, FuncError* err) {
  std::string r;
  bool first = true;
  for (const Value& v : args) {
    if (v.is_null()) continue;
    if (!first) r += ' ';
    first = false;
    r += '\'';
    if (!StrVal(v, ctx.max_bytes, &r)) return TooLarge(ctx, err);
    r += '\'';
  }
  *out = Value::String(std::move(r));
  return true;
}

bool ToString(const CallContext& ctx, Args& args, Value* out, FuncError* err) {
  std::string s;
  if (!StrVal(args[0], ctx.max_bytes, &s)) return TooLarge(ctx, err);
  *out = Value::String(std::move(s));
  return true;
}

bool TypeOf(const CallContext&, Args& args, Value* out, FuncError*) {
  *out = Value::String(args[0].TypeName());
  return true;
}

bool TypeIs(const CallContext&, Args& args, Value* out, FuncError* err) {
  STRING_ARG(t, 0);
  *out = Value::Bool(*t == args[1].TypeName());
  return true;
}

bool KindOf(const CallContext&, Args& args, Value* out, FuncError*) {
  *out = Value::String(args[0].KindName());
  return true;
}

bool KindIs(const CallContext&, Args& args, Value* out, FuncError* err) {
  STRING_ARG(k, 0);
  *out = Value::Bool(*k == args[1].KindName());
  return true;
}

// Sorted by name for the binary search.
const Func kFuncs[] = {
    {"and", 1, -1, nullptr, true},
    {"b64dec", 1, 1, B64Dec, false},
    {"b64enc", 1, 1, B64Enc, false},
    {"coalesce", 0, -1, Coalesce, false},
    {"contains", 2, 2, Contains, false},
    {"default", 1, -1, Default, false},
    {"dict", 0, -1, Dict, false},
    {"empty", 1, 1, Empty, false},
    {"eq", 1, -1, Eq, false},
    {"fail", 1, 1, FailFn, false},
    {"first", 1, 1, First, false},
    {"ge", 2, 2, Cmp<GeP>, false},
    {"get", 2, 2, Get, false},
    {"gt", 2, 2, Cmp<GtP>, false},
    {"hasKey", 2, 2, HasKey, false},
    {"hasPrefix", 2, 2, HasPrefix, false},
    {"hasSuffix", 2, 2, HasSuffix, false},
    {"html", 0, -1, Html, false},
    {"index", 1, -1, Index, false},
    {"join", 2, 2, Join, false},
    {"js", 0, -1, Js, false},
    {"kindIs", 2, 2, KindIs, false},
    {"kindOf", 1, 1, KindOf, false},
    {"last", 1, 1, Last, false},
    {"le", 2, 2, Cmp<LeP>, false},
    {"len", 1, 1, Len, false},
    {"list", 0, -1, ListFn, false},
    {"lower", 1, 1, Lower, false},
    {"lt", 2, 2, Cmp<LtP>, false},
    {"ne", 2, 2, Ne, false},
    {"not", 1, 1, Not, false},
    {"or", 1, -1, nullptr, true},
    {"print", 0, -1, Print, false},
    {"printf", 1, -1, Printf, false},
    {"println", 0, -1, Println, false},
    {"quote", 0, -1, Quote, false},
    {"regexMatch", 2, 2, RegexMatchFn, false},
    {"replace", 3, 3, Replace, false},
    {"set", 3, 3, Set, false},
    {"split", 2, 2, Split, false},
    {"splitList", 2, 2, SplitList, false},
    {"squote", 0, -1, Squote, false},
    {"toJson", 1, 1, ToJson, false},
    {"toString", 1, 1, ToString, false},
    {"trim", 1, 1, Trim, false},
    {"trimPrefix", 2, 2, TrimPrefix, false},
    {"trimSuffix", 2, 2, TrimSuffix, false},
    {"typeIs", 2, 2, TypeIs, false},
    {"typeOf", 1, 1, TypeOf, false},
    {"unset", 2, 2, Unset, false},
    {"upper", 1, 1, Upper, false},
    {"urlquery", 0, -1, UrlQuery, false},
};

}  // namespace

const Func* LookupFunc(std::string_view name) {
  const Func* end = kFuncs + sizeof kFuncs / sizeof kFuncs[0];
  const Func* it = std::lower_bound(kFuncs, end, name, [](const Func& f, std::string_view n) {
    return std::string_view(f.name) < n;
  });
  if (it == end || std::string_view(it->name) != name) return nullptr;
  return it;
}

}  // namespace tmpl
}  // namespace stepca
