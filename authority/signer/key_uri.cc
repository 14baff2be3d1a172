#include "authority/signer/key_uri.h"

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <utility>
#include <vector>

namespace stepca {

const char kSupportedKeySchemes[] =
    "a PEM file path, pkcs11:, yubikey:, awskms:, cloudkms (projects/.../cryptoKeyVersions/N) "
    "or azurekms:";

namespace {

// KMS schemes of step-ca that name a key which is not a file, and that
// this version does not open.
constexpr const char* kOtherKmsSchemes[] = {"sshagentkms", "tpmkms", "capi", "softkms"};

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<std::string> PercentDecode(std::string_view v, const std::string& attr) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] != '%') {
      out += v[i];
      continue;
    }
    if (i + 2 >= v.size()) {
      return InvalidArgument("pkcs11 URI: attribute " + attr + ": truncated %-escape");
    }
    int hi = HexDigit(v[i + 1]), lo = HexDigit(v[i + 2]);
    if (hi < 0 || lo < 0)
      return InvalidArgument("pkcs11 URI: attribute " + attr + ": invalid %-escape");
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

bool IsEvenHex(std::string_view v) {
  if (v.empty() || v.size() % 2 != 0) return false;
  for (char c : v)
    if (HexDigit(c) < 0) return false;
  return true;
}

bool Informative(const std::string& name) {
  return name == "type" || name == "manufacturer" || name == "model" ||
         name == "library-manufacturer" || name == "library-description" ||
         name == "library-version" || name == "slot-description" ||
         name == "slot-manufacturer" || name == "module-name" || name.rfind("x-", 0) == 0;
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t p = s.find(sep, start);
    out.push_back(s.substr(start, p == std::string_view::npos ? std::string_view::npos : p - start));
    if (p == std::string_view::npos) break;
    start = p + 1;
  }
  return out;
}

}  // namespace

Result<KeyScheme> ClassifyKey(std::string_view key) {
  std::string lower(key.substr(0, 16));
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower.rfind("pkcs11:", 0) == 0) return KeyScheme::kPkcs11;
  if (lower.rfind("yubikey:", 0) == 0) return KeyScheme::kYubiKey;
  if (lower.rfind("awskms:", 0) == 0) return KeyScheme::kAwsKms;
  if (lower.rfind("azurekms:", 0) == 0) return KeyScheme::kAzureKms;
  // A Cloud KMS key is its resource name, optionally after "cloudkms:".
  if (key.rfind("projects/", 0) == 0 || lower.rfind("cloudkms:", 0) == 0) return KeyScheme::kCloudKms;
  std::string scheme;
  {
    size_t colon = key.find(':');
    size_t slash = key.find('/');
    if (colon != std::string_view::npos && (slash == std::string_view::npos || slash > colon)) {
      std::string s(key.substr(0, colon));
      for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      for (const char* k : kOtherKmsSchemes)
        if (s == k) scheme = s + ":";
      // Any "scheme://" is a URI too, never a relative file name.
      if (scheme.empty() && key.substr(colon).rfind("://", 0) == 0) scheme = s + "://";
    }
  }
  if (scheme.empty()) return KeyScheme::kFile;
  return InvalidArgument("the " + scheme + " key scheme is not supported by this version; " +
                         "supported: " + kSupportedKeySchemes);
}

Result<Pkcs11Uri> ParsePkcs11Uri(std::string_view uri) {
  if (uri.rfind("pkcs11:", 0) != 0) return InvalidArgument("pkcs11 URI: must start with pkcs11:");
  std::string_view rest = uri.substr(7);
  std::string_view path = rest, query;
  size_t q = rest.find('?');
  if (q != std::string_view::npos) {
    path = rest.substr(0, q);
    query = rest.substr(q + 1);
  }
  std::vector<std::string_view> parts;
  if (!path.empty())
    for (auto p : Split(path, ';')) parts.push_back(p);
  if (q != std::string_view::npos)
    for (auto p : Split(query, '&')) parts.push_back(p);

  Pkcs11Uri out;
  std::vector<std::string> seen;
  for (std::string_view part : parts) {
    if (part.empty()) continue;  // "a=1;" and "?&" are harmless
    size_t eq = part.find('=');
    if (eq == std::string_view::npos || eq == 0)
      return InvalidArgument("pkcs11 URI: \"" + std::string(part.substr(0, eq == 0 ? 0 : 40)) +
                             "\" is not attribute=value");
    std::string name(part.substr(0, eq));
    std::string_view raw = part.substr(eq + 1);
    for (auto& s : seen)
      if (s == name) return InvalidArgument("pkcs11 URI: attribute " + name + " is repeated");
    seen.push_back(name);
    STEPCA_ASSIGN_OR_RETURN(std::string value, PercentDecode(raw, name));
    if (name == "module-path") {
      out.module_path = value;
    } else if (name == "token") {
      out.token = value;
    } else if (name == "serial") {
      out.serial = value;
    } else if (name == "slot-id") {
      char* end = nullptr;
      errno = 0;
      unsigned long n = value.empty() || !std::isdigit(static_cast<unsigned char>(value[0]))
                            ? 0 : std::strtoul(value.c_str(), &end, 10);
      if (value.empty() || end == nullptr || *end != '\0' || errno != 0)
        return InvalidArgument("pkcs11 URI: slot-id must be a decimal number");
      out.slot_id = n;
    } else if (name == "id") {
      if (value.empty()) return InvalidArgument("pkcs11 URI: id is empty");
      if (raw.find('%') == std::string_view::npos && IsEvenHex(raw)) {
        std::string bytes;
        for (size_t i = 0; i < raw.size(); i += 2)
          bytes += static_cast<char>(HexDigit(raw[i]) * 16 + HexDigit(raw[i + 1]));
        value = bytes;
      }
      out.id = value;
    } else if (name == "object") {
      out.object = value;
    } else if (name == "pin-value") {
      out.pin_value = value;
    } else if (name == "pin-source") {
      // RFC 7512 allows a file: URI; step takes a path.
      if (value.rfind("file:", 0) == 0) value = value.substr(5);
      if (value.empty()) return InvalidArgument("pkcs11 URI: pin-source is empty");
      out.pin_source = value;
    } else if (!Informative(name)) {
      return InvalidArgument("pkcs11 URI: unknown attribute " + name +
                             " (known: module-path, token, slot-id, serial, id, object, "
                             "pin-value, pin-source)");
    }
  }
  if (!out.pin_value.empty() && !out.pin_source.empty())
    return InvalidArgument("pkcs11 URI: give pin-value or pin-source, not both");
  return out;
}

Pkcs11Uri MergePkcs11Uri(const Pkcs11Uri& kms, const Pkcs11Uri& key) {
  Pkcs11Uri out = kms;
  if (!key.module_path.empty()) out.module_path = key.module_path;
  if (!key.token.empty()) out.token = key.token;
  if (key.slot_id) out.slot_id = key.slot_id;
  if (!key.serial.empty()) out.serial = key.serial;
  if (!key.id.empty()) out.id = key.id;
  if (!key.object.empty()) out.object = key.object;
  if (!key.pin_value.empty() || !key.pin_source.empty()) {
    out.pin_value = key.pin_value;
    out.pin_source = key.pin_source;
  }
  return out;
}

std::string DescribePkcs11Key(const Pkcs11Uri& uri) {
  std::string out;
  if (!uri.id.empty()) {
    static const char kHex[] = "0123456789abcdef";
    std::string id;
    for (unsigned char c : uri.id) {
      id += kHex[c >> 4];
      id += kHex[c & 15];
    }
    out = "id=" + id;
  }
  if (!uri.object.empty()) out += std::string(out.empty() ? "" : ";") + "object=" + uri.object;
  if (!uri.token.empty()) out += std::string(out.empty() ? "" : ";") + "token=" + uri.token;
  return out.empty() ? "(no id or object)" : out;
}

}  // namespace stepca
