// Anti-replay nonces (RFC 8555 section 6.5), shared by every worker and
// node through the store: "acme_nonce/<nonce>" with a TTL, spent with the
// store's atomic get-and-delete, so one nonce redeems exactly once anywhere.
#ifndef STEPCA_AUTHORITY_ACME_NONCE_H
#define STEPCA_AUTHORITY_ACME_NONCE_H

#include <chrono>
#include <string>
#include <string_view>

#include "authority/status.h"
#include "authority/store/store.h"

namespace stepca {
namespace acme {

constexpr std::chrono::seconds kNonceTtl{3600};

// base64url of 32 random bytes (43 characters), recorded in the store.
Result<std::string> NewNonce(Store& store);

// true when the nonce was live and is now spent; false when unknown,
// expired, already spent or not of our shape.
Result<bool> SpendNonce(Store& store, std::string_view nonce);

}  // namespace acme
}  // namespace stepca

#endif  // STEPCA_AUTHORITY_ACME_NONCE_H
