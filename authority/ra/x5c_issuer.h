// certificateIssuer type "x5c": tokens of an upstream X5C provisioner,
// carrying the RA's certificate chain (x5c header) and signed with its key.
// crt and key are read on every token, so a rotated certificate needs no
// reload; the key may be encrypted with the issuer password.
#ifndef STEPCA_AUTHORITY_RA_X5C_ISSUER_H
#define STEPCA_AUTHORITY_RA_X5C_ISSUER_H

#include <memory>

#include "authority/config/ra_config.h"
#include "authority/ra/upstream_issuer.h"
#include "authority/status.h"

namespace stepca {

// Reads crt and key once so that a broken pair fails the load.
Result<std::unique_ptr<UpstreamIssuer>> MakeX5cIssuer(const StepCasIssuerConfig& config);

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_RA_X5C_ISSUER_H
