#include "authority/template/json_encode.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "authority/template/utf8.h"

namespace stepca {
namespace tmpl {

namespace {

constexpr int kMaxDepth = 64;

void EncodeString(const std::string& s, std::string* out) {
  static const char kHex[] = "0123456789abcdef";
  *out += '"';
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      if (c == '"' || c == '\\') {
        *out += '\\';
        *out += static_cast<char>(c);
      } else if (c == '\n') {
        *out += "\\n";
      } else if (c == '\r') {
        *out += "\\r";
      } else if (c == '\t') {
        *out += "\\t";
      } else if (c < 0x20 || c == '<' || c == '>' || c == '&') {
        *out += "\\u00";
        *out += kHex[c >> 4];
        *out += kHex[c & 15];
      } else {
        *out += static_cast<char>(c);
      }
      ++i;
      continue;
    }
    uint32_t cp;
    const size_t n = DecodeUtf8(std::string_view(s).substr(i), &cp);
    if (n == 0) {
      *out += "\\ufffd";
      ++i;
      continue;
    }
    if (cp == 0x2028 || cp == 0x2029) {
      *out += cp == 0x2028 ? "\\u2028" : "\\u2029";
    } else {
      out->append(s, i, n);
    }
    i += n;
  }
  *out += '"';
}

// strconv.FormatFloat(f, 'f' or 'e', -1, 64) as encoding/json uses it.
bool EncodeFloat(double d, std::string* out) {
  if (!std::isfinite(d)) return false;
  const double a = std::fabs(d);
  char buf[64];
  int p = 1;
  // The shortest %e that reads back gives the digits for both forms.
  for (; p <= 17; ++p) {
    std::snprintf(buf, sizeof buf, "%.*e", p - 1, d);
    if (std::strtod(buf, nullptr) == d) break;
  }
  if (a != 0 && (a < 1e-6 || a >= 1e21)) {
    std::string s = buf;
    // Go: shortest mantissa, then "e-07" cleaned up to "e-7".
    const size_t e = s.find('e');
    std::string mant = s.substr(0, e);
    if (mant.find('.') != std::string::npos) {
      while (mant.back() == '0') mant.pop_back();
      if (mant.back() == '.') mant.pop_back();
    }
    std::string ex = s.substr(e + 1);
    const char sign = ex[0];
    ex.erase(0, 1);
    while (ex.size() > 1 && ex[0] == '0') ex.erase(0, 1);
    *out += mant + "e" + sign + ex;
    return true;
  }
  if (a == 0) {
    *out += std::signbit(d) ? "-0" : "0";
    return true;
  }
  const int exp = std::atoi(std::strchr(buf, 'e') + 1);
  const int frac = std::max(0, p - 1 - exp);
  std::snprintf(buf, sizeof buf, "%.*f", frac, d);
  *out += buf;
  return true;
}

JsonResult Encode(const Value& v, size_t max_bytes, std::string* out, int depth) {
  if (depth > kMaxDepth) return JsonResult::kTooLarge;
  switch (v.kind()) {
    case Value::Kind::kNull: *out += "null"; break;
    case Value::Kind::kBool: *out += v.as_bool() ? "true" : "false"; break;
    case Value::Kind::kInt: *out += std::to_string(v.as_int()); break;
    case Value::Kind::kFloat:
      if (!EncodeFloat(v.as_float(), out)) return JsonResult::kUnsupported;
      break;
    case Value::Kind::kString: EncodeString(v.as_string(), out); break;
    case Value::Kind::kList: {
      *out += '[';
      bool first = true;
      for (const Value& e : v.as_list()) {
        if (!first) *out += ',';
        first = false;
        if (const JsonResult r = Encode(e, max_bytes, out, depth + 1); r != JsonResult::kOk)
          return r;
      }
      *out += ']';
      break;
    }
    case Value::Kind::kMap: {
      *out += '{';
      bool first = true;
      if (const Value::JsonFields* fields = v.json_fields()) {
        const auto& m = v.as_map();
        for (const Value::JsonField& f : *fields) {
          if (f.json_name.empty()) continue;
          auto it = m.find(f.name);
          const Value e = it == m.end() ? Value() : it->second;
          if (f.omit_empty && !Truth(e)) continue;
          if (!first) *out += ',';
          first = false;
          EncodeString(f.json_name, out);
          *out += ':';
          if (const JsonResult r = Encode(e, max_bytes, out, depth + 1); r != JsonResult::kOk)
            return r;
        }
        *out += '}';
        break;
      }
      for (const auto& [k, e] : v.as_map()) {
        if (!first) *out += ',';
        first = false;
        EncodeString(k, out);
        *out += ':';
        if (const JsonResult r = Encode(e, max_bytes, out, depth + 1); r != JsonResult::kOk)
          return r;
      }
      *out += '}';
      break;
    }
  }
  return out->size() <= max_bytes ? JsonResult::kOk : JsonResult::kTooLarge;
}

}  // namespace

JsonResult EncodeJson(const Value& v, size_t max_bytes, std::string* out) {
  return Encode(v, max_bytes, out, 0);
}

}  // namespace tmpl
}  // namespace stepca
