// StepCAS: a registration authority over an upstream step-ca. Policy
// (authority/policy/) authorizes the client with this CA's own
// provisioners; this service then mints a one-time token of the upstream
// provisioner (certificateIssuer) and forwards the CSR, and answers with
// what the upstream signed. Rekey forwards the new CSR the same way under
// the old certificate's names; renewal by token forwards the client's own
// renew token to the upstream's /renew; renewal over mutual TLS goes to an
// upstream nginx-stepca that trusts this RA's client certificate header
// (nginxStepca.upstream.clientCertHeader), and is refused otherwise with a
// message saying what works: step-ca itself takes the proof of a key only
// from the key's holder.
#ifndef STEPCA_AUTHORITY_RA_STEP_CAS_H
#define STEPCA_AUTHORITY_RA_STEP_CAS_H

#include <memory>
#include <vector>

#include "authority/ca/certificate_authority.h"
#include "authority/config/ra_config.h"
#include "authority/ossl.h"
#include "authority/ra/upstream_client.h"
#include "authority/status.h"

namespace stepca {

struct StepCasService {
  std::unique_ptr<CertificateAuthorityService> service;
  X509Ptr root;                     // the upstream root, its fingerprint checked
  std::vector<X509Ptr> federated;   // the other roots of the upstream's /federation
  // The upstream's intermediate as its TLS chain showed it at start (when
  // it is issued by the root): for proving client certificates.
  std::vector<X509Ptr> intermediates;
};

// Configuration time, in the master: fetches /root/<fingerprint> without
// trusting the TLS certificate, refuses it unless its SHA-256 is the
// pinned fingerprint, then trusts only that root for every later call
// (/federation, /provisioners, sign, revoke). Any failure fails the load
// with the field named. Every call is bounded by config.timeouts; observer
// (may be empty) sees each call the service makes once running.
Result<StepCasService> MakeStepCas(const RaConfig& config, UpstreamObserver observer = {});

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_RA_STEP_CAS_H
