// vaultcas: a registration authority over Vault's PKI secrets engine.
// Policy authorizes the client with this CA's own provisioners; this
// service sends the CSR to <pkiMountPath>/sign/<role> (the role chosen by
// the CSR's key type) and revokes through <pkiMountPath>/revoke.
#ifndef STEPCA_AUTHORITY_RA_VAULT_CAS_H
#define STEPCA_AUTHORITY_RA_VAULT_CAS_H

#include "authority/config/ra_config.h"
#include "authority/ra/step_cas.h"
#include "authority/status.h"

namespace stepca {

// Configuration time, in the master: reads the mount's CA chain
// (<mount>/cert/ca_chain, else <mount>/ca/pem), keeps the root whose
// SHA-256 is certificateAuthorityFingerprint (none: the load fails), and
// logs in. Any failure fails the load with the field named. observer (may
// be empty) sees every call to Vault once running (sign, revoke, login).
Result<StepCasService> MakeVaultCas(const RaConfig& config, UpstreamObserver observer = {});

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_RA_VAULT_CAS_H
