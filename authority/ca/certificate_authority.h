// Where signing happens: the certificate authority service. The policy part
// decides what a certificate says; this service makes it exist. Today the
// local issuer and signer (local_ca.h); next, registration-authority
// backends that forward the request to an upstream CA (step-ca, Vault,
// Google CAS), so nothing here assumes a local key or a local serial.
#ifndef STEPCA_AUTHORITY_CA_CERTIFICATE_AUTHORITY_H
#define STEPCA_AUTHORITY_CA_CERTIFICATE_AUTHORITY_H

#include <string>
#include <vector>

#include "authority/signer/signer.h"
#include "authority/status.h"
#include "authority/x509/csr.h"
#include "authority/x509/issuer.h"
#include "shared/duration.h"

namespace stepca {

// A new leaf, after policy accepted it.
struct CertificateRequest {
  // The profile policy decided: key, subject, names, validity, provisioner
  // extension. A local CA builds exactly this; an upstream builds from it.
  LeafRequest leaf;
  // The validated CSR the request came with (not owned; nullptr when there
  // is none): backends that forward a CSR upstream send this one.
  const Csr* csr = nullptr;
};

// Revocation of a certificate this service issued, after policy accepted
// it and before it is recorded: an upstream CA is told first.
struct RevokeCertificateRequest {
  std::string serial;  // decimal
  int reason_code = 0;
  std::string reason;
};

// Renew (same key) or rekey (csr's key) of a certificate we issued.
struct ReissueCertificateRequest {
  ReissueRequest reissue;
  const Csr* csr = nullptr;  // rekey: the CSR with the new key; not owned
  // Renew by token (x5cInsecure, `step ca renew --mtls=false`): the
  // client's token, already verified and spent here. An upstream CA that
  // cannot sign a key without its holder's proof is shown this one.
  std::string renew_token;
};

class CertificateAuthorityService {
 public:
  virtual ~CertificateAuthorityService() = default;

  // Per-process setup after fork (key sessions, upstream clients).
  virtual Status InitProcess() = 0;

  virtual Result<IssuedCertificate> Issue(const CertificateRequest& request) const = 0;
  virtual Result<IssuedCertificate> Reissue(const ReissueCertificateRequest& request) const = 0;
  // Ok when nothing outside this process needs to know (a local CA).
  virtual Status Revoke(const RevokeCertificateRequest& request) const = 0;

  // True when the service picks the serial itself (an upstream CA): the
  // request's serial is then empty and the record is written after signing,
  // under the serial the certificate carries.
  virtual bool ChoosesSerial() const = 0;

  // PEM of the certificates answered with every leaf, issuing certificate
  // first (step-ca's "ca" is the first, "certChain" is the leaf + these).
  virtual const std::vector<std::string>& ChainPems() const = 0;
  // The certificate that issues leaves (a local intermediate, or the
  // upstream's as it answered last); leaves never outlive it.
  virtual X509* IssuingCertificate() const = 0;
  virtual TimePoint IssuerNotAfter() const = 0;
  // The issuing certificate's key, for what the CA signs besides leaves
  // (CRLs, OCSP responses); nullptr for a CA without a local key (RA mode).
  virtual const Signer* RevocationSigner() const = 0;
};

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_CA_CERTIFICATE_AUTHORITY_H
