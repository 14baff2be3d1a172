#include "authority/acme/options.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cctype>

namespace stepca {
namespace acme {
namespace {

bool IsPort(std::string_view s) {
  if (s.empty() || s.size() > 5) return false;
  int v = 0;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    v = v * 10 + (c - '0');
  }
  return v >= 1 && v <= 65535;
}

bool IsIp(const std::string& host, int family) {
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(family, host.c_str(), buf) == 1;
}

bool IsResolver(const std::string& text) {
  if (!text.empty() && text[0] == '[') {
    const size_t e = text.find(']');
    if (e == std::string::npos || !IsIp(text.substr(1, e - 1), AF_INET6)) return false;
    if (e + 1 == text.size()) return true;
    return text[e + 1] == ':' && IsPort(std::string_view(text).substr(e + 2));
  }
  if (IsIp(text, AF_INET) || IsIp(text, AF_INET6)) return true;
  const size_t c = text.find(':');
  return c != std::string::npos && IsIp(text.substr(0, c), AF_INET) &&
         IsPort(std::string_view(text).substr(c + 1));
}

// An absolute http(s) URL with a host and nothing a base must not carry.
bool IsBaseUrl(const std::string& url) {
  std::string_view rest(url);
  if (rest.substr(0, 8) == "https://") rest.remove_prefix(8);
  else if (rest.substr(0, 7) == "http://") rest.remove_prefix(7);
  else return false;
  if (rest.empty() || rest[0] == '/' || rest[0] == ':') return false;
  for (char c : rest) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || c == '?' || c == '#' || c == '@' || c == '\\') return false;
  }
  return true;
}

}  // namespace

Status ValidateAcmeOptions(const AcmeOptions& o) {
  if (!o.base_url.empty() && !IsBaseUrl(o.base_url))
    return InvalidArgument("stepca_acme_base_url: \"" + o.base_url +
                           "\" is not an http:// or https:// URL with a host");
  if (o.http01_port < 1 || o.http01_port > 65535)
    return InvalidArgument("stepca_acme_http01_port: " + std::to_string(o.http01_port) +
                           " is not a port (1-65535)");
  if (o.tls_alpn01_port < 1 || o.tls_alpn01_port > 65535)
    return InvalidArgument("stepca_acme_tls_alpn01_port: " + std::to_string(o.tls_alpn01_port) +
                           " is not a port (1-65535)");
  if (!o.dns_resolver.empty() && !IsResolver(o.dns_resolver))
    return InvalidArgument("stepca_acme_dns_resolver: \"" + o.dns_resolver +
                           "\" is not ip[:port] or [ipv6]:port");
  if (o.validation_threads < 1 || o.validation_threads > kMaxValidationThreads)
    return InvalidArgument("stepca_acme_validation_threads: " + std::to_string(o.validation_threads) +
                           " is not between 1 and " + std::to_string(kMaxValidationThreads));
  if (o.validation_queue < 1 || o.validation_queue > kMaxValidationQueue)
    return InvalidArgument("stepca_acme_validation_queue: " + std::to_string(o.validation_queue) +
                           " is not between 1 and " + std::to_string(kMaxValidationQueue));
  return Status::Ok();
}

}  // namespace acme
}  // namespace stepca
