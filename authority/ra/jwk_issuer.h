// certificateIssuer type "jwk": tokens of an upstream JWK provisioner,
// signed with its private key. The key is either the provisioner's
// encryptedKey, downloaded from the upstream's /provisioners at load and
// decrypted with the issuer password, or a local PEM ("key") encrypted
// with it. Kept in memory, as step-ca does.
#ifndef STEPCA_AUTHORITY_RA_JWK_ISSUER_H
#define STEPCA_AUTHORITY_RA_JWK_ISSUER_H

#include <memory>

#include "authority/config/ra_config.h"
#include "authority/ra/upstream_client.h"
#include "authority/ra/upstream_issuer.h"
#include "authority/status.h"

namespace stepca {

// Configuration time (the master). A wrong password, a provisioner the
// upstream does not list, or an unreachable upstream fail the load.
Result<std::unique_ptr<UpstreamIssuer>> MakeJwkIssuer(const StepCasIssuerConfig& config,
                                                      const UpstreamClient& upstream);

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_RA_JWK_ISSUER_H
