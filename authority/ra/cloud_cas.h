// cloudCAS: a registration authority over Google Cloud Certificate
// Authority Service (the v1 API). Policy authorizes the client with this
// CA's own provisioners; this service creates the certificate in the CA
// pool from the CSR (certificates create, pemCsr and lifetime), pinned to
// the named certificate authority when the name has one, and revokes it
// (the certificate found by its serial, then :revoke with the reason).
#ifndef STEPCA_AUTHORITY_RA_CLOUD_CAS_H
#define STEPCA_AUTHORITY_RA_CLOUD_CAS_H

#include "authority/config/ra_config.h"
#include "authority/ra/step_cas.h"
#include "authority/status.h"

namespace stepca {

// Configuration time, in the master: loads the service account key, gets
// an access token, and fetches the root: the certificate authority's
// pemCaCertificates, or the pool's fetchCaCerts. With
// certificateAuthorityFingerprint the root must have that SHA-256.
// observer (may be empty) sees every CA Service call once running.
Result<StepCasService> MakeCloudCas(const RaConfig& config, UpstreamObserver observer = {});

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_RA_CLOUD_CAS_H
