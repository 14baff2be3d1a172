// ACME anti-replay nonces (RFC 8555 section 6.5), shared by every worker
// and node.
//
// Key: acme_nonce/<nonce> (base64url of 32 random bytes, 43 characters).
// Value: "1". TTL: kNonceTtl (1 hour). Spent with the store's atomic
// get-and-delete (Store::Take), so one nonce redeems exactly once anywhere.
#ifndef STEPCA_AUTHORITY_STATE_ACME_NONCES_H
#define STEPCA_AUTHORITY_STATE_ACME_NONCES_H

#include <chrono>
#include <string>
#include <string_view>

#include "authority/status.h"
#include "authority/store/store.h"

namespace stepca {

class AcmeNonces {
 public:
  static constexpr std::chrono::seconds kNonceTtl{3600};

  explicit AcmeNonces(Store& store) : store_(store) {}

  // A fresh nonce, recorded in the store.
  [[nodiscard]] Result<std::string> Issue();

  // true when the nonce was live and is now spent; false when unknown,
  // expired, already spent or not of our shape (which never reaches the
  // store).
  [[nodiscard]] Result<bool> Spend(std::string_view nonce);

  static std::string Key(std::string_view nonce);

 private:
  Store& store_;
};

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_STATE_ACME_NONCES_H
