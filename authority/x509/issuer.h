// Builds and signs leaf certificates with step-ca's default leaf profile.
#ifndef STEPCA_AUTHORITY_X509_ISSUER_H
#define STEPCA_AUTHORITY_X509_ISSUER_H

#include <memory>
#include <string>
#include <vector>

#include "authority/ossl.h"
#include "authority/signer/signer.h"
#include "authority/status.h"
#include "authority/x509/csr.h"
#include "authority/x509/validity.h"

namespace stepca {

namespace tmpl {
struct X509CertificateTemplate;
}

// Provisioner type codes of OID 1.3.6.1.4.1.37476.9000.64.1.
enum class ProvisionerType {
  kJwk = 1, kOidc = 2, kGcp = 3, kAws = 4, kAzure = 5, kAcme = 6, kX5c = 7,
  kK8sSa = 8, kSshPop = 9, kScep = 10, kNebula = 11,
};

struct ProvisionerInfo {
  ProvisionerType type = ProvisionerType::kJwk;
  std::string name;
  std::string credential_id;  // JWK: the key's kid
};

// DER of the extension value: SEQUENCE { INTEGER type, OCTET STRING name,
// OCTET STRING credentialID }.
std::string EncodeProvisionerExtension(const ProvisionerInfo& info);

struct LeafRequest {
  EVP_PKEY* public_key = nullptr;   // not owned
  // Optional, not owned: the CSR's SubjectPublicKeyInfo that public_key was
  // decoded from. When set, IssueLeaf can take a cheaper way to the same
  // SPKI bytes than re-encoding public_key (see SetEcPubkeyFast).
  const X509_PUBKEY* spki = nullptr;
  std::string common_name;          // subject CN=..., omitted when empty
  SanSet sans;
  Validity validity;
  bool add_provisioner_extension = true;
  ProvisionerInfo provisioner;
  // Decimal, chosen (and recorded) by the caller before signing
  // (NewSerial); empty draws a random one here.
  std::string serial;
  // A rendered certificate template (template_profile.h): when set, the
  // subject, names and extensions are its, common_name and sans are not
  // used, and the certificate is built as step-ca builds it from a
  // template (template_issue.cc).
  std::shared_ptr<const tmpl::X509CertificateTemplate> profile;
};

struct IssuedCertificate {
  X509Ptr cert;
  std::string der;
  std::string pem;
  std::string serial;  // decimal
  // The certificates to answer with this leaf, issuing certificate first,
  // when they are its own (an upstream CA's answer); empty: the service's
  // ChainPems().
  std::vector<std::string> chain_pems;
};

// Renew and rekey: a new certificate from an existing one.
struct ReissueRequest {
  X509* old = nullptr;                 // not owned
  EVP_PKEY* new_public_key = nullptr;  // rekey: the CSR's key; nullptr keeps the old key
  Validity validity;
  std::string serial;                  // as LeafRequest::serial
};

std::string CertificateToPem(X509* cert);
// SHA-1 of a certificate's subjectPublicKey bits: its subject key id.
Result<std::string> PublicKeyId(X509* cert);
std::string SerialDecimal(X509* cert);
// A fresh serial, decimal: 128 random bits, positive (step-ca's size).
Result<std::string> NewSerial();
// The names a leaf may carry: a printable common name of at most
// kMaxNameLength bytes, at most kMaxSans SANs, each valid for its kind.
Status CheckLeafNames(const std::string& common_name, const SanSet& sans);
// Go's choice for a name attribute: PrintableString when every character
// is in its set (no '*', no '&'), else UTF8String.
bool IsPrintableStringSet(const std::string& s);

class Issuer {
 public:
  // cert: the issuing (intermediate) certificate; signer holds its key.
  Issuer(X509Ptr cert, std::unique_ptr<Signer> signer);

  // Leaf: version 3, 128-bit random positive serial, subject CN only, issuer
  // = our subject, extensions in step-ca's order: keyUsage (critical,
  // digitalSignature, + keyEncipherment for RSA keys), extKeyUsage
  // (serverAuth, clientAuth), subjectKeyIdentifier (SHA-1 of the key bits),
  // authorityKeyIdentifier (keyid), subjectAltName (DNS, email, IP, URI;
  // omitted when empty), the provisioner extension (non-critical).
  // With request.profile, IssueFromTemplate.
  Result<IssuedCertificate> IssueLeaf(const LeafRequest& request) const;

  // Re-issues request.old (step-ca's renew/rekey): same subject and every
  // extension except the authorityKeyIdentifier, a new serial, the given
  // validity. Renew: our AKI first, then the old extensions in order.
  // Rekey: a new subjectKeyIdentifier first, then our AKI, then the old
  // extensions without the old SKI. (reissue.cc)
  Result<IssuedCertificate> Reissue(const ReissueRequest& request) const;

  X509* certificate() const { return cert_.get(); }
  TimePoint not_after() const;

 private:
  // A leaf from request.profile, with Go's crypto/x509 extension order:
  // keyUsage, extKeyUsage, basicConstraints, subjectKeyIdentifier,
  // authorityKeyIdentifier, authorityInfoAccess, subjectAltName,
  // certificatePolicies, nameConstraints, cRLDistributionPoints, then the
  // provisioner extension and the template's own extensions; a standard
  // extension whose OID is among those is left out. (template_issue.cc)
  Result<IssuedCertificate> IssueFromTemplate(const LeafRequest& request) const;
  // The subject public key, the cheap way when spki allows (issuer.cc).
  static Status SetPublicKey(X509* cert, EVP_PKEY* key, const X509_PUBKEY* spki);
  // What every certificate of this issuer shares: version 3, the serial
  // (decimal; empty: NewSerial), our subject as issuer, the validity window.
  Result<X509Ptr> NewCertificate(const Validity& validity, const std::string& serial) const;
  // authorityKeyIdentifier: our own key id.
  Status AddAuthorityKeyId(X509* cert) const;
  // Signs, then encodes as DER and PEM.
  Result<IssuedCertificate> Finish(X509Ptr cert) const;

  X509Ptr cert_;
  std::unique_ptr<Signer> signer_;
};

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_X509_ISSUER_H
