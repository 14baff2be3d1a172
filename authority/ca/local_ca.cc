#include "authority/ca/local_ca.h"

#include "authority/x509/issuer.h"

namespace stepca {
namespace {

class LocalCa : public CertificateAuthorityService {
 public:
  LocalCa(std::vector<X509Ptr> chain, std::unique_ptr<Signer> signer)
      : signer_(signer.get()),
        issuer_(X509Ptr(X509_dup(chain.front().get())), std::move(signer)) {
    for (auto& c : chain) chain_pems_.push_back(CertificateToPem(c.get()));
  }

  Status InitProcess() override { return signer_->InitProcess(); }

  Result<IssuedCertificate> Issue(const CertificateRequest& request) const override {
    STEPCA_RETURN_IF_ERROR(WithinIssuer(request.leaf.validity));
    return issuer_.IssueLeaf(request.leaf);
  }

  Result<IssuedCertificate> Reissue(const ReissueCertificateRequest& request) const override {
    STEPCA_RETURN_IF_ERROR(WithinIssuer(request.reissue.validity));
    return issuer_.Reissue(request.reissue);
  }

  // Revocation is state only (policy records it); nothing here to tell.
  Status Revoke(const RevokeCertificateRequest&) const override { return Status::Ok(); }
  bool ChoosesSerial() const override { return false; }

  const std::vector<std::string>& ChainPems() const override { return chain_pems_; }
  X509* IssuingCertificate() const override { return issuer_.certificate(); }
  TimePoint IssuerNotAfter() const override { return issuer_.not_after(); }
  const Signer* RevocationSigner() const override { return signer_; }

 private:
  // Policy caps every validity at IssuerNotAfter(); a leaf past it would not
  // verify, so a request that gets here is a bug above, not a client error.
  Status WithinIssuer(const Validity& v) const {
    if (v.not_after > issuer_.not_after())
      return Internal("local ca: the leaf would outlive the issuing certificate");
    return Status::Ok();
  }

  Signer* signer_;  // owned by issuer_
  Issuer issuer_;
  std::vector<std::string> chain_pems_;
};

}  // namespace

Result<std::unique_ptr<CertificateAuthorityService>> MakeLocalCa(
    std::vector<X509Ptr> chain, std::unique_ptr<Signer> signer) {
  if (chain.empty() || !chain.front()) return InvalidArgument("local ca: no issuing certificate");
  if (!signer) return InvalidArgument("local ca: no signer");
  if (EVP_PKEY_eq(X509_get0_pubkey(chain.front().get()), signer->PublicKey()) != 1)
    return InvalidArgument("local ca: the key does not match the issuing certificate");
  std::unique_ptr<CertificateAuthorityService> ca =
      std::make_unique<LocalCa>(std::move(chain), std::move(signer));
  return ca;
}

}  // namespace stepca
