#include "authority/signer/kms_uri.h"

#include <cctype>

namespace stepca {
namespace {

int Hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

Result<KmsUri> ParseKmsUri(std::string_view uri, std::string_view scheme,
                           std::initializer_list<const char*> known) {
  const std::string prefix = std::string(scheme) + ":";
  std::string head(uri.substr(0, prefix.size()));
  for (char& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (head != prefix) return InvalidArgument(prefix + " URI: must start with " + prefix);
  KmsUri out;
  out.scheme = std::string(scheme);
  std::string_view rest = uri.substr(prefix.size());
  size_t start = 0;
  while (start <= rest.size()) {
    size_t end = rest.find_first_of(";?&", start);
    std::string_view part = rest.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    start = end == std::string_view::npos ? rest.size() + 1 : end + 1;
    if (part.empty()) continue;
    size_t eq = part.find('=');
    if (eq == std::string_view::npos || eq == 0)
      return InvalidArgument(prefix + " URI: an attribute is not name=value");
    std::string name(part.substr(0, eq));
    bool ok = false;
    for (const char* k : known) ok = ok || name == k;
    if (!ok) {
      std::string list;
      for (const char* k : known) list += std::string(list.empty() ? "" : ", ") + k;
      return InvalidArgument(prefix + " URI: unknown attribute " + name.substr(0, 40) + " (known: " + list + ")");
    }
    if (out.values.count(name)) return InvalidArgument(prefix + " URI: attribute " + name + " is repeated");
    std::string value;
    std::string_view raw = part.substr(eq + 1);
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] != '%') {
        value += raw[i];
        continue;
      }
      if (i + 2 >= raw.size() || Hex(raw[i + 1]) < 0 || Hex(raw[i + 2]) < 0)
        return InvalidArgument(prefix + " URI: attribute " + name + ": invalid %-escape");
      value += static_cast<char>(Hex(raw[i + 1]) * 16 + Hex(raw[i + 2]));
      i += 2;
    }
    out.values[name] = std::move(value);
  }
  return out;
}

KmsUri MergeKmsUri(const KmsUri& kms, const KmsUri& key) {
  KmsUri out = kms;
  out.scheme = key.scheme.empty() ? kms.scheme : key.scheme;
  for (const auto& [k, v] : key.values) out.values[k] = v;
  return out;
}

}  // namespace stepca
