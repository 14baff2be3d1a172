// A CRL (RFC 5280, v2) signed through a Signer: the issuing certificate's
// name and key id, CRL number, thisUpdate/nextUpdate, an entry per revoked
// serial with its reason code, and the issuing distribution point when one
// is configured. Used for the intermediate's leaf CRL (crl_service.h) and,
// by the CLI, for a root's CRL of intermediates.
#ifndef STEPCA_AUTHORITY_REVOCATION_CRL_BUILDER_H
#define STEPCA_AUTHORITY_REVOCATION_CRL_BUILDER_H

#include <openssl/x509.h>

#include <cstdint>
#include <string>
#include <vector>

#include "authority/signer/signer.h"
#include "authority/status.h"
#include "shared/duration.h"

namespace stepca {

struct CrlEntry {
  std::string serial;  // decimal
  TimePoint revoked_at{};
  // RFC 5280 CRLReason; 0 (unspecified) is left out of the entry, as the
  // RFC asks.
  int reason_code = 0;
};

struct CrlContents {
  int64_t number = 1;
  TimePoint this_update{};
  TimePoint next_update{};
  std::string idp_url;  // empty: no issuing distribution point
  std::vector<CrlEntry> entries;
};

// The DER CRL. kInvalidArgument for a serial that is not a non-negative
// decimal or a reason code outside RFC 5280's list; kInternal when
// OpenSSL or the signer fails.
Result<std::string> BuildCrl(X509* issuer, const Signer& signer, const CrlContents& contents);

// RFC 5280's reason names (the `openssl crl -text` spelling is not used):
// "unspecified" 0, "keyCompromise" 1, "cACompromise" 2,
// "affiliationChanged" 3, "superseded" 4, "cessationOfOperation" 5,
// "certificateHold" 6, "removeFromCRL" 8, "privilegeWithdrawn" 9,
// "aACompromise" 10. -1 for anything else.
int CrlReasonCode(const std::string& name);
bool ValidCrlReason(int code);

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_REVOCATION_CRL_BUILDER_H
