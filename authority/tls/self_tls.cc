#include "authority/tls/self_tls.h"

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <chrono>

#include "authority/x509/csr.h"
#include "authority/x509/issuer.h"

namespace stepca {
namespace {

using std::chrono::seconds;

// X.509 holds whole seconds; renew_at is computed from what the
// certificate says, not from a finer time it cannot carry.
TimePoint WholeSeconds(TimePoint t) {
  return std::chrono::time_point_cast<seconds>(t);
}

EvpPkeyPtr NewP256() {
  return EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
}

Result<std::string> KeyToPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_secmem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1)
    return Internal("tls: cannot encode the key: " + OpensslError());
  BUF_MEM* mem = nullptr;
  BIO_get_mem_ptr(bio.get(), &mem);
  return std::string(mem->data, mem->length);
}

}  // namespace

Status CheckSelfTls(const std::string& ca_json, const std::vector<std::string>& dns_names,
                    const CertificateAuthorityService& ca, bool key_on_token) {
  if (dns_names.empty())
    return InvalidArgument(ca_json + ": \"dnsNames\" is empty: the CA's own TLS certificate "
                           "(stepca_tls_certificate) needs at least one name to be issued for");
  STEPCA_RETURN_IF_ERROR(CheckLeafNames(dns_names[0], ClassifySans(dns_names)));
  if (ca.ChoosesSerial() || ca.RevocationSigner() == nullptr)
    return InvalidArgument(ca_json + ": a registration authority has no local key to issue "
                           "its own TLS certificate (stepca_tls_certificate); use ssl_certificate");
  if (key_on_token)
    return InvalidArgument(ca_json + ": the intermediate key is on a PKCS#11 token, which only "
                           "the workers open, but the first TLS certificate is issued by the "
                           "master at configuration time (stepca_tls_certificate); use "
                           "ssl_certificate");
  return Status::Ok();
}

Result<SelfTlsCertificate> IssueSelfTls(const CertificateAuthorityService& ca,
                                        const SelfTlsRequest& request) {
  if (request.dns_names.empty()) return InvalidArgument("tls: no dnsNames to issue for");
  if (request.lifetime < kMinSelfTlsLifetime)
    return InvalidArgument("tls: a lifetime under 60s");
  SelfTlsCertificate out;
  out.key = NewP256();
  if (!out.key) return Internal("tls: cannot generate a key: " + OpensslError());

  const TimePoint issuer_end = ca.IssuerNotAfter();
  out.not_before = WholeSeconds(request.now - request.backdate);
  out.not_after = WholeSeconds(request.now + request.lifetime);
  if (out.not_after > issuer_end) out.not_after = WholeSeconds(issuer_end);
  if (out.not_after <= request.now)
    return Unavailable("tls: the intermediate certificate has expired");

  CertificateRequest cr;
  cr.leaf.public_key = out.key.get();
  cr.leaf.common_name = request.dns_names[0];
  cr.leaf.sans = ClassifySans(request.dns_names);
  cr.leaf.validity.not_before = out.not_before;
  cr.leaf.validity.not_after = out.not_after;
  cr.leaf.add_provisioner_extension = false;
  STEPCA_ASSIGN_OR_RETURN(IssuedCertificate issued, ca.Issue(cr));

  out.chain_pem = issued.pem;
  for (const std::string& pem : ca.ChainPems()) out.chain_pem += pem;
  out.leaf = std::move(issued.cert);
  STEPCA_ASSIGN_OR_RETURN(out.key_pem, KeyToPem(out.key.get()));
  out.renew_at = SelfTlsRenewAt(out.not_before, out.not_after);
  return out;
}

Result<SelfTlsCertificate> PlaceholderTlsCertificate(TimePoint now) {
  SelfTlsCertificate out;
  out.key = NewP256();
  out.leaf = X509Ptr(X509_new());
  if (!out.key || !out.leaf) return Internal("tls: " + OpensslError());
  out.not_before = WholeSeconds(now);
  out.not_after = WholeSeconds(now + std::chrono::hours(1));
  X509* c = out.leaf.get();
  const unsigned char cn[] = "nginx-stepca placeholder";
  X509_NAME* name = X509_get_subject_name(c);
  if (X509_set_version(c, X509_VERSION_3) != 1 ||
      ASN1_INTEGER_set(X509_get_serialNumber(c), 1) != 1 ||
      X509_time_adj_ex(X509_getm_notBefore(c), 0, 0, nullptr) == nullptr ||
      X509_time_adj_ex(X509_getm_notAfter(c), 0, 3600, nullptr) == nullptr ||
      X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, cn, -1, -1, 0) != 1 ||
      X509_set_issuer_name(c, name) != 1 || X509_set_pubkey(c, out.key.get()) != 1 ||
      X509_sign(c, out.key.get(), EVP_sha256()) <= 0)
    return Internal("tls: cannot make the placeholder certificate: " + OpensslError());
  out.chain_pem = CertificateToPem(c);
  STEPCA_ASSIGN_OR_RETURN(out.key_pem, KeyToPem(out.key.get()));
  out.renew_at = SelfTlsRenewAt(out.not_before, out.not_after);
  return out;
}

TimePoint SelfTlsRenewAt(TimePoint not_before, TimePoint not_after) {
  return not_before + (not_after - not_before) * 2 / 3;
}

}  // namespace stepca
