#include "authority/acme/common.h"

#include <arpa/inet.h>
#include <openssl/rand.h>

#include <cctype>
#include <cstdlib>

#include "authority/state/acme_orders.h"
#include "shared/base64.h"
#include "shared/duration.h"

namespace stepca {
namespace acme {

std::string RandomId() {
  unsigned char b[16];
  // RAND_bytes fails only without an entropy source, which OpenSSL's
  // initialisation (at configuration time) would already have refused.
  if (RAND_bytes(b, sizeof b) != 1) std::abort();
  return Base64UrlEncode(std::string(reinterpret_cast<char*>(b), sizeof b));
}

std::string Dump(const json_t* j) {
  char* s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
  std::string out = s ? s : "";
  std::free(s);
  return out;
}

std::string PathEscape(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '@') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string CanonicalIp(const std::string& s) {
  unsigned char b[16];
  char out[INET6_ADDRSTRLEN];
  if (inet_pton(AF_INET, s.c_str(), b) == 1) return inet_ntop(AF_INET, b, out, sizeof out);
  if (inet_pton(AF_INET6, s.c_str(), b) == 1) return inet_ntop(AF_INET6, b, out, sizeof out);
  return "";
}

std::string Now3339() { return FormatRfc3339(Clock::now()); }

bool Expired(const std::string& rfc3339) {
  auto t = ParseRfc3339(rfc3339);
  return t && *t < Clock::now();
}

bool ProcessingIsStale(const std::string& since) {
  auto t = ParseRfc3339(since);
  return !t || *t + kProcessingTimeout < Clock::now();
}

}  // namespace acme
}  // namespace stepca
