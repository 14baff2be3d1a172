#include "authority/ra/vault_cas.h"

#include <openssl/evp.h>

#include <memory>

#include "authority/ra/cas_certs.h"
#include "authority/ra/cas_request.h"
#include "authority/ra/vault_api.h"
#include "authority/ra/vault_auth.h"

namespace stepca {
namespace {

// Vault names serials in colon-separated lower-case hex pairs.
Result<std::string> VaultSerial(const std::string& decimal) {
  STEPCA_ASSIGN_OR_RETURN(std::string h, SerialHex(decimal));
  std::string out;
  for (size_t i = 0; i < h.size(); i += 2) {
    if (i) out += ':';
    out += h.substr(i, 2);
  }
  return out;
}

class VaultCas : public CertificateAuthorityService {
 public:
  VaultCas(const RaConfig& config, std::unique_ptr<VaultAuth> auth, X509* root,
           std::vector<std::string> chain, UpstreamObserver observer)
      : config_(config.vault),
        api_(config, true, std::move(observer)),
        auth_(std::move(auth)),
        chain_pems_(std::move(chain)),
        issuer_(root) {
    if (!chain_pems_.empty()) issuer_.Note(chain_pems_.front());
  }

  Status InitProcess() override { return Status::Ok(); }

  Result<IssuedCertificate> Issue(const CertificateRequest& request) const override {
    if (request.csr == nullptr) return Internal("vaultcas: a certificate without a CSR");
    EVP_PKEY* key = X509_REQ_get0_pubkey(request.csr->req.get());
    const std::string& role = RoleFor(key);
    JsonPtr body(json_object());
    json_object_set_new(body.get(), "csr", json_string(CsrToPem(*request.csr).c_str()));
    json_object_set_new(body.get(), "format", json_string("pem"));
    json_object_set_new(body.get(), "ttl",
                        json_string(LifetimeSeconds(request.leaf.validity.not_after).c_str()));
    STEPCA_ASSIGN_OR_RETURN(VaultResponse r,
                            Call(config_.pki_mount_path + "/sign/" + role, body.get()));
    if (r.status != 200) return FromVault(r, "sign the certificate", api_.address());
    const json_t* data = r.body ? json_object_get(r.body.get(), "data") : nullptr;
    const json_t* crt = json_object_get(data, "certificate");
    if (!json_is_string(crt))
      return Unavailable("the upstream CA gave an answer the registration authority cannot use")
          .WithDetail(api_.address() + ": no data.certificate in the sign answer");
    // ca_chain is the issuing CA up to the root, as Vault knows it; the
    // root is the client's already.
    std::vector<std::string> chain = WithoutRoots(PemArrayCerts(json_object_get(data, "ca_chain")));
    if (chain.empty()) {
      const json_t* ca = json_object_get(data, "issuing_ca");
      if (json_is_string(ca)) chain.push_back(json_string_value(ca));
    }
    STEPCA_ASSIGN_OR_RETURN(IssuedCertificate out,
                            CheckedIssued(json_string_value(crt), std::move(chain), key, api_.address()));
    issuer_.Note(out.chain_pems.front());
    return out;
  }

  Result<IssuedCertificate> Reissue(const ReissueCertificateRequest&) const override {
    return Unimplemented(
        "renew and rekey through Vault are not supported by this registration authority; get a "
        "new certificate with a token");
  }

  Status Revoke(const RevokeCertificateRequest& request) const override {
    STEPCA_ASSIGN_OR_RETURN(std::string serial, VaultSerial(request.serial));
    JsonPtr body(json_object());
    json_object_set_new(body.get(), "serial_number", json_string(serial.c_str()));
    STEPCA_ASSIGN_OR_RETURN(VaultResponse r, Call(config_.pki_mount_path + "/revoke", body.get()));
    if (r.status != 200 && r.status != 204) return FromVault(r, "revoke the certificate", api_.address());
    return Status::Ok();
  }

  bool ChoosesSerial() const override { return true; }
  const std::vector<std::string>& ChainPems() const override { return chain_pems_; }
  X509* IssuingCertificate() const override { return issuer_.Issuing(); }
  const Signer* RevocationSigner() const override { return nullptr; }
  TimePoint IssuerNotAfter() const override { return issuer_.NotAfter(); }

 private:
  const std::string& RoleFor(EVP_PKEY* key) const {
    switch (EVP_PKEY_get_base_id(key)) {
      case EVP_PKEY_RSA:
      case EVP_PKEY_RSA_PSS:
        return config_.role_rsa;
      case EVP_PKEY_EC:
        return config_.role_ec;
      case EVP_PKEY_ED25519:
        return config_.role_ed25519;
      default:
        return config_.role_default;
    }
  }

  // One call with the RA's token; a token Vault no longer accepts (revoked
  // or expired before its lease said) is replaced once by a new login.
  Result<VaultResponse> Call(const std::string& path, const json_t* body) const {
    for (int attempt = 0;; ++attempt) {
      STEPCA_ASSIGN_OR_RETURN(std::string token, auth_->Token(api_));
      auto r = api_.Call(path, body, token);
      if (r.ok() && r->status == 403 && attempt == 0) {
        auth_->Forget(token);
        Wipe(token);
        continue;
      }
      Wipe(token);
      return r;
    }
  }

  VaultCasConfig config_;
  VaultApi api_;
  std::unique_ptr<VaultAuth> auth_;
  std::vector<std::string> chain_pems_;
  IssuerMemory issuer_;
};

// The mount's CA certificates, unauthenticated in Vault: the chain when
// the mount has one, else its issuing CA alone.
Result<std::vector<X509Ptr>> CaChain(const VaultApi& api, const std::string& mount) {
  auto r = api.Call(mount + "/cert/ca_chain", nullptr, "");
  if (!r.ok()) return r.status();
  std::vector<X509Ptr> out;
  if (r->status == 200) {
    const json_t* data = r->body ? json_object_get(r->body.get(), "data") : nullptr;
    const json_t* pem = json_object_get(data, "certificate");
    if (json_is_string(pem)) {
      auto c = ParsePemChain(json_string_value(pem));
      if (c.ok()) out = std::move(c).value();
    }
  } else if (r->status != 404 && r->status != 204) {
    return FromVault(*r, "give its CA chain", api.address());
  }
  auto ca = api.Call(mount + "/ca/pem", nullptr, "");
  if (!ca.ok()) return ca.status();
  if (ca->status == 200) {
    auto c = ParsePemChain(ca->text);
    if (c.ok())
      for (auto& x : c.value()) {
        bool seen = false;
        for (const auto& y : out) seen = seen || X509_cmp(x.get(), y.get()) == 0;
        if (!seen) out.push_back(std::move(x));
      }
  }
  if (out.empty()) {
    if (ca->status != 200) return FromVault(*ca, "give its CA certificate", api.address());
    return Unavailable("Vault's " + mount + "/ca/pem is not a PEM certificate");
  }
  return out;
}

}  // namespace

Result<StepCasService> MakeVaultCas(const RaConfig& config, UpstreamObserver observer) {
  VaultApi once(config, false);
  auto chain = CaChain(once, config.vault.pki_mount_path);
  if (!chain.ok())
    return RaFieldError("certificateAuthority", Described(chain.status()));
  auto root = PickRoot(chain.value(), config.fingerprint, "Vault's " + config.vault.pki_mount_path + " mount");
  if (!root.ok()) return RaFieldError("certificateAuthorityFingerprint", root.status().message());
  auto auth = VaultAuth::Make(config.vault, once);
  if (!auth.ok()) {
    const Status& s = auth.status();
    if (s.code() == Code::kUnavailable)
      return RaFieldError("certificateAuthority", Described(s));
    return InvalidArgument(s.message());
  }
  StepCasService out;
  std::vector<std::string> pems;
  // The chain up to the pinned root: what every leaf is answered with.
  for (const auto& c : chain.value()) {
    if (X509_cmp(c.get(), root->get()) == 0) break;
    if (!IsSelfSigned(c.get())) {
      pems.push_back(CertificateToPem(c.get()));
      out.intermediates.emplace_back(X509_dup(c.get()));
    }
  }
  out.service = std::make_unique<VaultCas>(config, std::move(auth).value(), root->get(), std::move(pems),
                                         std::move(observer));
  out.root = std::move(root).value();
  return out;
}

}  // namespace stepca
