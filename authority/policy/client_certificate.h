// How a renew, rekey or passive revoke proves which certificate it is
// about: the TLS client certificate, verified against our roots, federated
// roots and intermediates now (as Go's TLS stack does for step-ca), or an
// x5cInsecure renew token, whose chain is verified at its leaf's NotAfter
// minus one minute so that an expired certificate can still renew.
#ifndef STEPCA_AUTHORITY_POLICY_CLIENT_CERTIFICATE_H
#define STEPCA_AUTHORITY_POLICY_CLIENT_CERTIFICATE_H

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "authority/ossl.h"
#include "authority/provisioner/token_claims.h"
#include "authority/status.h"
#include "shared/duration.h"

namespace stepca {

struct TrustAnchors {
  const std::vector<X509Ptr>* roots = nullptr;
  const std::vector<X509Ptr>* federated_roots = nullptr;
  const std::vector<X509Ptr>* intermediates = nullptr;
};

// The certificate a renew, rekey or revoke is about, and how it was proven.
struct RenewSubject {
  X509Ptr cert;
  bool by_token = false;
  TokenClaims claims;     // the renew token's, when by_token
  std::string token_key;  // its one-time-use key
};

// The DER client certificate, verified now. kUnauthenticated otherwise.
Result<X509Ptr> VerifiedPeerCertificate(std::string_view der, const TrustAnchors& anchors,
                                        TimePoint now);

// step-ca's AuthorizeRenewToken up to the checks that need the
// certificate's provisioner: chain, signature by the leaf, claims parsed.
Result<RenewSubject> RenewSubjectFromToken(std::string_view token, const TrustAnchors& anchors);

// The token of "Authorization: Bearer <token>"; "" when there is none.
std::string_view BearerToken(std::string_view header);

// The provisioner name in step's extension; nullopt when there is none,
// "" with *bad when it does not parse.
std::optional<std::string> ProvisionerNameFromExtension(X509* cert, bool* bad);

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_POLICY_CLIENT_CERTIFICATE_H
