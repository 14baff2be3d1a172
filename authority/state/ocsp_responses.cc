#include "authority/state/ocsp_responses.h"

namespace stepca {

std::string OcspResponses::Key(std::string_view serial) {
  return "ocsp_response/" + std::string(serial);
}

Result<std::optional<std::string>> OcspResponses::Get(std::string_view serial) {
  return store_.Get(Key(serial));
}

Status OcspResponses::Put(std::string_view serial, std::string_view der, std::chrono::seconds ttl) {
  return store_.Put(Key(serial), der, ttl);
}

Status OcspResponses::Invalidate(std::string_view serial) { return store_.Delete(Key(serial)); }

}  // namespace stepca
