#include "cli/go_json.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace stepca {
namespace cli {
namespace {

void AppendEscaped(std::string& out, const char* s, size_t n) {
  static const char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (size_t i = 0; i < n; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"': out += "\\\""; continue;
      case '\\': out += "\\\\"; continue;
      case '\n': out += "\\n"; continue;
      case '\r': out += "\\r"; continue;
      case '\t': out += "\\t"; continue;
      default: break;
    }
    if (c < 0x20 || c == '<' || c == '>' || c == '&') {
      out += "\\u00";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
      continue;
    }
    // U+2028 and U+2029 (E2 80 A8 / E2 80 A9).
    if (c == 0xe2 && i + 2 < n && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
        (static_cast<unsigned char>(s[i + 2]) & 0xfe) == 0xa8) {
      out += (static_cast<unsigned char>(s[i + 2]) == 0xa8) ? "\\u2028"
                                                             : "\\u2029";
      i += 2;
      continue;
    }
    out.push_back(static_cast<char>(c));
  }
  out.push_back('"');
}

std::string FormatReal(double v) {
  if (!std::isfinite(v)) return "null";
  char buf[64];
  // Shortest representation that reads back to the same double.
  for (int prec = 1; prec <= 17; ++prec) {
    std::snprintf(buf, sizeof buf, "%.*g", prec, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  std::string s = buf;
  double a = std::fabs(v);
  if (s.find('e') != std::string::npos && a >= 1e-6 && a < 1e21) {
    // Go uses plain notation in this range.
    std::snprintf(buf, sizeof buf, "%.17f", v);
    s = buf;
    for (int prec = 0; prec <= 17; ++prec) {
      std::snprintf(buf, sizeof buf, "%.*f", prec, v);
      if (std::strtod(buf, nullptr) == v) {
        s = buf;
        break;
      }
    }
  }
  return s;
}

void Write(std::string& out, const json_t* v, const std::string& indent,
           int depth) {
  auto newline = [&](int d) {
    if (indent.empty()) return;
    out.push_back('\n');
    for (int i = 0; i < d; ++i) out += indent;
  };
  switch (json_typeof(v)) {
    case JSON_OBJECT: {
      if (json_object_size(v) == 0) {
        out += "{}";
        return;
      }
      out.push_back('{');
      bool first = true;
      const char* key;
      json_t* member;
      // Jansson keeps insertion order.
      json_object_foreach(const_cast<json_t*>(v), key, member) {
        if (!first) out.push_back(',');
        first = false;
        newline(depth + 1);
        AppendEscaped(out, key, std::strlen(key));
        out += indent.empty() ? ":" : ": ";
        Write(out, member, indent, depth + 1);
      }
      newline(depth);
      out.push_back('}');
      return;
    }
    case JSON_ARRAY: {
      if (json_array_size(v) == 0) {
        out += "[]";
        return;
      }
      out.push_back('[');
      for (size_t i = 0; i < json_array_size(v); ++i) {
        if (i > 0) out.push_back(',');
        newline(depth + 1);
        Write(out, json_array_get(v, i), indent, depth + 1);
      }
      newline(depth);
      out.push_back(']');
      return;
    }
    case JSON_STRING:
      AppendEscaped(out, json_string_value(v), json_string_length(v));
      return;
    case JSON_INTEGER:
      out += std::to_string(static_cast<long long>(json_integer_value(v)));
      return;
    case JSON_REAL:
      out += FormatReal(json_real_value(v));
      return;
    case JSON_TRUE:
      out += "true";
      return;
    case JSON_FALSE:
      out += "false";
      return;
    case JSON_NULL:
      out += "null";
      return;
  }
}

}  // namespace

std::string GoJson(const json_t* value, const std::string& indent) {
  std::string out;
  if (value == nullptr) return "null";
  Write(out, value, indent, 0);
  return out;
}

}  // namespace cli
}  // namespace stepca
