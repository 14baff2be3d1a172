#include "authority/template/format.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "authority/template/utf8.h"

namespace stepca {
namespace tmpl {

namespace {

constexpr int kMaxDepth = 64;

// The shortest decimal digits that read back as `x` (finite, non-zero),
// as x = d1.d2d3... x 10^exp.
void ShortestDigits(double x, std::string* digits, int* exp) {
  char buf[40];
  for (int p = 1; p <= 17; ++p) {
    std::snprintf(buf, sizeof buf, "%.*e", p - 1, x);
    if (std::strtod(buf, nullptr) == x) break;
  }
  const char* s = buf;
  if (*s == '-') ++s;
  digits->clear();
  for (; *s && *s != 'e'; ++s)
    if (*s != '.') digits->push_back(*s);
  *exp = (*s == 'e') ? std::atoi(s + 1) : 0;
  while (digits->size() > 1 && digits->back() == '0') digits->pop_back();
}

std::string ExpForm(const std::string& d, int exp) {
  std::string r(1, d[0]);
  if (d.size() > 1) r += "." + d.substr(1);
  char e[16];
  std::snprintf(e, sizeof e, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
  return r + e;
}

std::string FixedForm(const std::string& d, int exp) {
  if (exp < 0) return "0." + std::string(static_cast<size_t>(-exp - 1), '0') + d;
  const size_t ip = static_cast<size_t>(exp) + 1;
  if (d.size() <= ip) return d + std::string(ip - d.size(), '0');
  return d.substr(0, ip) + "." + d.substr(ip);
}

std::string NonFinite(double d) {
  if (std::isnan(d)) return "NaN";
  return d > 0 ? "+Inf" : "-Inf";
}

bool Room(const std::string* out, size_t max_bytes) { return out->size() <= max_bytes; }

bool AppendValueAt(const Value& v, size_t max_bytes, std::string* out, int depth) {
  if (depth > kMaxDepth) return false;
  switch (v.kind()) {
    case Value::Kind::kNull: *out += "<nil>"; break;
    case Value::Kind::kBool: *out += v.as_bool() ? "true" : "false"; break;
    case Value::Kind::kInt: *out += std::to_string(v.as_int()); break;
    case Value::Kind::kFloat: *out += FormatFloatV(v.as_float()); break;
    case Value::Kind::kString: *out += v.as_string(); break;
    case Value::Kind::kList: {
      *out += '[';
      bool first = true;
      for (const Value& e : v.as_list()) {
        if (!first) *out += ' ';
        first = false;
        if (!AppendValueAt(e, max_bytes, out, depth + 1)) return false;
      }
      *out += ']';
      break;
    }
    case Value::Kind::kMap: {
      *out += "map[";
      bool first = true;
      for (const auto& [k, e] : v.as_map()) {
        if (!first) *out += ' ';
        first = false;
        *out += k;
        *out += ':';
        if (!AppendValueAt(e, max_bytes, out, depth + 1)) return false;
      }
      *out += ']';
      break;
    }
  }
  return Room(out, max_bytes);
}

// strchr finds the terminator too: a NUL verb ("%\x00") is no verb.
bool IsVerbIn(const char* verbs, char verb) {
  return verb != '\0' && std::strchr(verbs, verb) != nullptr;
}

struct Spec {
  bool minus = false, plus = false, sharp = false, zero = false, space = false;
  int width = -1, prec = -1;
  char verb = 'v';
};

size_t Runes(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

// Pads to the width with spaces (or zeros when asked, as fmt does even
// for strings), on the left unless `-`.
std::string Pad(std::string body, const Spec& sp) {
  if (sp.width < 0) return body;
  const size_t n = Runes(body);
  if (n >= static_cast<size_t>(sp.width)) return body;
  const size_t fill = static_cast<size_t>(sp.width) - n;
  if (sp.minus) return body + std::string(fill, ' ');
  return std::string(fill, sp.zero ? '0' : ' ') + body;
}

std::string FormatInt(int64_t i, const Spec& sp) {
  const bool neg = i < 0;
  uint64_t u = neg ? (~static_cast<uint64_t>(i) + 1) : static_cast<uint64_t>(i);
  int base = 10;
  const char* alphabet = "0123456789abcdef";
  std::string prefix;
  switch (sp.verb) {
    case 'x': base = 16; if (sp.sharp) prefix = "0x"; break;
    case 'X': base = 16; alphabet = "0123456789ABCDEF"; if (sp.sharp) prefix = "0X"; break;
    case 'o': base = 8; if (sp.sharp) prefix = "0"; break;
    case 'O': base = 8; prefix = "0o"; break;
    case 'b': base = 2; break;
    default: break;
  }
  std::string digits;
  do {
    digits.insert(digits.begin(), alphabet[u % static_cast<unsigned>(base)]);
    u /= static_cast<unsigned>(base);
  } while (u != 0);
  if (sp.prec == 0 && i == 0) digits.clear();
  std::string sign = neg ? "-" : sp.plus ? "+" : sp.space ? " " : "";
  if (sp.prec > 0 && digits.size() < static_cast<size_t>(sp.prec)) {
    digits.insert(0, static_cast<size_t>(sp.prec) - digits.size(), '0');
  } else if (sp.prec < 0 && sp.zero && !sp.minus && sp.width > 0) {
    const size_t used = sign.size() + prefix.size() + digits.size();
    if (used < static_cast<size_t>(sp.width))
      digits.insert(0, static_cast<size_t>(sp.width) - used, '0');
  }
  Spec plain = sp;
  plain.zero = false;
  return Pad(sign + prefix + digits, plain);
}

std::string FormatFloat(double d, const Spec& sp) {
  if (!std::isfinite(d)) {
    std::string s = NonFinite(d);
    if (s == "+Inf" && !sp.plus) s = sp.space ? " Inf" : "Inf";
    Spec plain = sp;
    plain.zero = false;
    return Pad(s, plain);
  }
  char verb = sp.verb == 'v' ? 'g' : sp.verb;
  if ((verb == 'g' || verb == 'G') && sp.prec < 0) {
    std::string body;
    if (d == 0) {
      body = std::signbit(d) ? "-0" : "0";
    } else {
      std::string digits;
      int exp;
      ShortestDigits(d, &digits, &exp);
      body = (exp < -4 || exp >= 6) ? ExpForm(digits, exp) : FixedForm(digits, exp);
      if (verb == 'G')
        for (char& c : body)
          if (c == 'e') c = 'E';
      if (d < 0) body = "-" + body;
    }
    std::string sign;
    if (body[0] == '-') {
      sign = "-";
      body.erase(0, 1);
    } else if (sp.plus) {
      sign = "+";
    } else if (sp.space) {
      sign = " ";
    }
    if (sp.zero && !sp.minus && sp.width > 0) {
      const size_t used = sign.size() + body.size();
      if (used < static_cast<size_t>(sp.width))
        body.insert(0, static_cast<size_t>(sp.width) - used, '0');
    }
    Spec plain = sp;
    plain.zero = false;
    return Pad(sign + body, plain);
  }
  std::string f = "%";
  if (sp.minus) f += '-';
  if (sp.plus) f += '+';
  if (sp.space) f += ' ';
  if (sp.zero) f += '0';
  if (sp.sharp) f += '#';
  if (sp.width >= 0) f += std::to_string(sp.width);
  f += "." + std::to_string(sp.prec < 0 ? 6 : sp.prec);
  f += verb;
  const int n = std::snprintf(nullptr, 0, f.c_str(), d);
  std::string r(static_cast<size_t>(n) + 1, '\0');
  std::snprintf(r.data(), r.size(), f.c_str(), d);
  r.resize(static_cast<size_t>(n));
  return r;
}

std::string Hex(std::string_view s, bool upper, const Spec& sp) {
  const char* a = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  std::string r;
  for (unsigned char c : s) {
    if (sp.sharp && (r.empty() || sp.space)) r += upper ? "0X" : "0x";
    r += a[c >> 4];
    r += a[c & 15];
    if (sp.space) r += ' ';
  }
  if (sp.space && !r.empty()) r.pop_back();
  return r;
}

std::string BadVerb(const Value& v, char verb) {
  std::string r = "%!";
  r += verb;
  r += '(';
  if (v.is_null()) return r + "<nil>)";
  r += v.TypeName() + "=";
  std::string s;
  AppendValueAt(v, 1 << 20, &s, 0);
  return r + s + ")";
}

bool FormatOne(const Value& v, const Spec& sp, size_t max_bytes, std::string* out, int depth);

bool FormatComposite(const Value& v, const Spec& sp, size_t max_bytes, std::string* out,
                     int depth) {
  if (depth > kMaxDepth) return false;
  if (v.kind() == Value::Kind::kList) {
    *out += '[';
    bool first = true;
    for (const Value& e : v.as_list()) {
      if (!first) *out += ' ';
      first = false;
      if (!FormatOne(e, sp, max_bytes, out, depth + 1)) return false;
    }
    *out += ']';
  } else {
    *out += "map[";
    bool first = true;
    for (const auto& [k, e] : v.as_map()) {
      if (!first) *out += ' ';
      first = false;
      if (!FormatOne(Value::String(k), sp, max_bytes, out, depth + 1)) return false;
      *out += ':';
      if (!FormatOne(e, sp, max_bytes, out, depth + 1)) return false;
    }
    *out += ']';
  }
  return Room(out, max_bytes);
}

std::string QuoteSpec(std::string_view s, const Spec& sp) {
  if (sp.sharp && s.find('`') == std::string_view::npos) {
    bool plain = true;
    for (unsigned char c : s)
      if ((c < 0x20 && c != '\t') || c == 0x7f) plain = false;
    if (plain) return "`" + std::string(s) + "`";
  }
  return GoQuote(s);
}

bool FormatOne(const Value& v, const Spec& sp, size_t max_bytes, std::string* out, int depth) {
  const char verb = sp.verb;
  if (verb == 'T') {
    *out += Pad(v.TypeName(), sp);
    return Room(out, max_bytes);
  }
  switch (v.kind()) {
    case Value::Kind::kNull:
      *out += verb == 'v' ? Pad("<nil>", sp) : BadVerb(v, verb);
      break;
    case Value::Kind::kBool:
      if (verb == 'v' || verb == 't')
        *out += Pad(v.as_bool() ? "true" : "false", sp);
      else
        *out += BadVerb(v, verb);
      break;
    case Value::Kind::kInt: {
      const int64_t i = v.as_int();
      if (IsVerbIn("vdxXobO", verb)) {
        *out += FormatInt(i, sp);
      } else if (verb == 'c' || verb == 'q') {
        std::string r;
        AppendUtf8(i < 0 || i > 0x10FFFF ? 0xFFFD : static_cast<uint32_t>(i), &r);
        if (verb == 'q') {
          std::string q = GoQuote(r);
          r = "'" + (r == "'" ? std::string("\\'") : q.substr(1, q.size() - 2)) + "'";
        }
        *out += Pad(r, sp);
      } else {
        *out += BadVerb(v, verb);
      }
      break;
    }
    case Value::Kind::kFloat:
      if (IsVerbIn("veEfFgG", verb))
        *out += FormatFloat(v.as_float(), sp);
      else
        *out += BadVerb(v, verb);
      break;
    case Value::Kind::kString: {
      std::string_view s = v.as_string();
      std::string body;
      if (sp.prec >= 0 && verb != 'x' && verb != 'X') {
        // Precision truncates to that many runes.
        size_t runes = 0, i = 0;
        for (; i < s.size(); ++i) {
          if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
            if (runes == static_cast<size_t>(sp.prec)) break;
            ++runes;
          }
        }
        s = s.substr(0, i);
      }
      if (verb == 'v' || verb == 's') body = std::string(s);
      else if (verb == 'q') body = QuoteSpec(s, sp);
      else if (verb == 'x' || verb == 'X') body = Hex(s, verb == 'X', sp);
      else {
        *out += BadVerb(v, verb);
        break;
      }
      *out += Pad(std::move(body), sp);
      break;
    }
    case Value::Kind::kList:
    case Value::Kind::kMap:
      return FormatComposite(v, sp, max_bytes, out, depth);
  }
  return Room(out, max_bytes);
}

}  // namespace

std::string FormatFloatV(double d) {
  if (!std::isfinite(d)) return NonFinite(d);
  Spec sp;
  return FormatFloat(d, sp);
}

bool AppendValue(const Value& v, size_t max_bytes, std::string* out) {
  return AppendValueAt(v, max_bytes, out, 0);
}

bool StrVal(const Value& v, size_t max_bytes, std::string* out) {
  if (v.kind() == Value::Kind::kString) {
    *out += v.as_string();
    return Room(out, max_bytes);
  }
  return AppendValue(v, max_bytes, out);
}

bool Sprint(const std::vector<Value>& args, size_t max_bytes, std::string* out) {
  bool prev_string = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const bool is_string = args[i].kind() == Value::Kind::kString;
    if (i > 0 && !is_string && !prev_string) *out += ' ';
    if (!AppendValue(args[i], max_bytes, out)) return false;
    prev_string = is_string;
  }
  return Room(out, max_bytes);
}

bool Sprintln(const std::vector<Value>& args, size_t max_bytes, std::string* out) {
  for (size_t i = 0; i < args.size(); ++i) {
    if (i > 0) *out += ' ';
    if (!AppendValue(args[i], max_bytes, out)) return false;
  }
  *out += '\n';
  return Room(out, max_bytes);
}

bool Sprintf(std::string_view f, const std::vector<Value>& args, size_t max_bytes,
             std::string* out) {
  size_t next_arg = 0;
  size_t i = 0;
  while (i < f.size()) {
    const size_t pct = f.find('%', i);
    if (pct == std::string_view::npos) {
      out->append(f.substr(i));
      break;
    }
    out->append(f.substr(i, pct - i));
    i = pct + 1;
    Spec sp;
    for (; i < f.size(); ++i) {
      const char c = f[i];
      if (c == '-') { sp.minus = true; sp.zero = false; }
      else if (c == '+') sp.plus = true;
      else if (c == '#') sp.sharp = true;
      else if (c == ' ') sp.space = true;
      else if (c == '0') sp.zero = !sp.minus;
      else break;
    }
    auto number = [&](int* dst) {
      if (i >= f.size() || f[i] < '0' || f[i] > '9') return;
      long n = 0;
      while (i < f.size() && f[i] >= '0' && f[i] <= '9') {
        n = n * 10 + (f[i] - '0');
        if (n > static_cast<long>(max_bytes)) n = static_cast<long>(max_bytes) + 1;
        ++i;
      }
      *dst = static_cast<int>(n);
    };
    number(&sp.width);
    if (i < f.size() && f[i] == '.') {
      ++i;
      sp.prec = 0;
      number(&sp.prec);
    }
    if (sp.width > static_cast<int>(max_bytes) || sp.prec > static_cast<int>(max_bytes))
      return false;
    if (i >= f.size()) {
      *out += "%!(NOVERB)";
      break;
    }
    // A multi-byte verb is a bad verb of its own; take the whole rune.
    size_t vlen = 1;
    while (i + vlen < f.size() && (static_cast<unsigned char>(f[i + vlen]) & 0xC0) == 0x80)
      ++vlen;
    const std::string_view verb_text = f.substr(i, vlen);
    sp.verb = f[i];
    i += vlen;
    if (sp.verb == '%') {
      *out += '%';
      continue;
    }
    if (next_arg >= args.size()) {
      *out += "%!" + std::string(verb_text) + "(MISSING)";
      continue;
    }
    const Value& arg = args[next_arg++];
    if (vlen > 1 || !IsVerbIn("vsdqxXobOctTeEfFgG", sp.verb)) {
      std::string bad = BadVerb(arg, 'X');
      *out += "%!" + std::string(verb_text) + bad.substr(3);
      continue;
    }
    if (!FormatOne(arg, sp, max_bytes, out, 0)) return false;
    if (!Room(out, max_bytes)) return false;
  }
  if (next_arg < args.size()) {
    *out += "%!(EXTRA ";
    for (size_t a = next_arg; a < args.size(); ++a) {
      if (a > next_arg) *out += ", ";
      if (args[a].is_null()) {
        *out += "<nil>";
        continue;
      }
      *out += args[a].TypeName() + "=";
      if (!AppendValue(args[a], max_bytes, out)) return false;
    }
    *out += ')';
  }
  return Room(out, max_bytes);
}

std::string GoQuote(std::string_view s) {
  std::string r = "\"";
  size_t i = 0;
  while (i < s.size()) {
    uint32_t cp;
    const size_t n = DecodeUtf8(s.substr(i), &cp);
    if (n == 0) {
      char b[8];
      std::snprintf(b, sizeof b, "\\x%02x", static_cast<unsigned char>(s[i]));
      r += b;
      ++i;
      continue;
    }
    switch (cp) {
      case '\a': r += "\\a"; break;
      case '\b': r += "\\b"; break;
      case '\f': r += "\\f"; break;
      case '\n': r += "\\n"; break;
      case '\r': r += "\\r"; break;
      case '\t': r += "\\t"; break;
      case '\v': r += "\\v"; break;
      case '\\': r += "\\\\"; break;
      case '"': r += "\\\""; break;
      default:
        if (IsPrintRune(cp)) {
          r.append(s.substr(i, n));
        } else {
          char b[16];
          if (cp < 0x80) std::snprintf(b, sizeof b, "\\x%02x", cp);
          else if (cp < 0x10000) std::snprintf(b, sizeof b, "\\u%04x", cp);
          else std::snprintf(b, sizeof b, "\\U%08x", cp);
          r += b;
        }
    }
    i += n;
  }
  return r + "\"";
}

}  // namespace tmpl
}  // namespace stepca
