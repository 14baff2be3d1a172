// What an OpenID issuer (or Google, or Azure AD) serves: the discovery
// document and the JWKS, and the Cache-Control header that sets how long
// the keys are kept. The input is split at the first NUL: discovery
// document / JWKS; the whole input is also read as a Cache-Control value.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "authority/provisioner/remote_key_set.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  const size_t nul = in.find('\0');
  std::string_view first = in.substr(0, nul);
  std::string_view second = nul == std::string_view::npos ? in : in.substr(nul + 1);
  auto disc = stepca::ParseOidcDiscovery(first);
  if (disc.ok() && (disc->issuer.empty() || disc->jwks_uri.empty())) std::abort();
  auto keys = stepca::ParseJwkSet(second);
  if (keys.ok()) {
    if (keys->empty()) std::abort();  // an empty set is an error, never ok
    for (const auto& k : *keys)
      if (k.has_private || !k.key) std::abort();
  }
  auto age = stepca::CacheMaxAge(std::string(in), std::chrono::seconds(7));
  if (age.count() < 0) std::abort();
  return 0;
}
