// ParseStoreUri on arbitrary bytes. Property: an error message never echoes
// a redis password that the URI carried (store.h: "without echoing a
// password").
#include <cstdint>
#include <cstdlib>
#include <string>

#include "authority/store/store.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view uri(reinterpret_cast<const char*>(data), size);
  auto cfg = stepca::ParseStoreUri(uri);
  (void)cfg;
  // The same text with a known password in the userinfo.
  if (uri.substr(0, 8) == "redis://") {
    std::string with = "redis://:Sekr1tPassw0rd@" + std::string(uri.substr(8));
    auto r = stepca::ParseStoreUri(with);
    if (!r.ok() && (r.status().message().find("Sekr1tPassw0rd") != std::string::npos ||
                    r.status().LogText().find("Sekr1tPassw0rd") != std::string::npos))
      std::abort();
  }
  for (const char* scheme : {"unix://", "redis+unix://"}) {
    std::string_view sv(scheme);
    if (uri.substr(0, sv.size()) != sv) continue;
    std::string with = std::string(uri) + (uri.find('?') == std::string_view::npos ? "?" : "&") +
                       "password=Sekr1tPassw0rd";
    auto r = stepca::ParseStoreUri(with);
    if (!r.ok() && r.status().LogText().find("Sekr1tPassw0rd") != std::string::npos) std::abort();
  }
  return 0;
}
