// The certificate authority service of a registration authority, by
// authority.type: stepcas (step_cas.h), vaultcas (vault_cas.h) or cloudCAS
// (cloud_cas.h).
#ifndef STEPCA_AUTHORITY_RA_UPSTREAM_CAS_H
#define STEPCA_AUTHORITY_RA_UPSTREAM_CAS_H

#include "authority/config/ra_config.h"
#include "authority/ra/step_cas.h"
#include "authority/status.h"

namespace stepca {

// Configuration time, in the master; config.is_ra() must be true. The
// observer sees every call the running service makes to its upstream
// (step-ca, Vault, Google CAS): the metrics.
Result<StepCasService> MakeUpstreamCas(const RaConfig& config, UpstreamObserver observer = {});

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_RA_UPSTREAM_CAS_H
