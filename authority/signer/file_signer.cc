// The file signer: a CA key loaded from a PEM file into memory.
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include <cstring>

#include "authority/signer/file_signer.h"

namespace stepca {

namespace {

struct PasswordArg {
  std::string_view password;
  bool asked = false;
};

// OpenSSL's password callback; never prompts on a terminal.
int PasswordCallback(char* buf, int size, int rwflag, void* u) {
  auto* arg = static_cast<PasswordArg*>(u);
  arg->asked = true;
  if (arg->password.empty() || arg->password.size() > static_cast<size_t>(size)) {
    return 0;
  }
  std::memcpy(buf, arg->password.data(), arg->password.size());
  return static_cast<int>(arg->password.size());
}

std::string GroupName(EVP_PKEY* key) {
  char name[64] = {0};
  size_t len = 0;
  if (EVP_PKEY_get_group_name(key, name, sizeof name, &len) != 1) return "";
  return std::string(name, len);
}

bool IsSupportedCaKey(EVP_PKEY* key) {
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_EC: {
      std::string g = GroupName(key);
      return g == "prime256v1" || g == "secp384r1" || g == "secp521r1";
    }
    case EVP_PKEY_RSA:
      return EVP_PKEY_get_bits(key) >= 2048;
    case EVP_PKEY_ED25519:
      return true;
    default:
      return false;
  }
}

// The context every signature of key starts from: the key type's digest,
// PKCS#1 v1.5 padding for RSA.
Result<EvpMdCtxPtr> SigningContext(EVP_PKEY* key) {
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx) return Internal("signer: out of memory");
  EVP_PKEY_CTX* pctx = nullptr;  // owned by ctx
  if (EVP_DigestSignInit(ctx.get(), &pctx, DigestForKey(key), nullptr, key) != 1) {
    return Internal("signer: cannot initialise signing: " + OpensslError());
  }
  if (EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA &&
      EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1) {
    return Internal("signer: cannot set RSA padding: " + OpensslError());
  }
  return ctx;
}

class FileSigner : public Signer {
 public:
  FileSigner(EvpPkeyPtr key, SignatureAlgorithm algorithm)
      : key_(std::move(key)), algorithm_(algorithm) {}

  EVP_PKEY* PublicKey() const override { return key_.get(); }
  SignatureAlgorithm Algorithm() const override { return algorithm_; }
  // The key is in memory before fork; nothing is per process.
  Status InitProcess() override { return Status::Ok(); }

  Result<std::string> Sign(std::string_view message) const override {
    STEPCA_ASSIGN_OR_RETURN(EvpMdCtxPtr ctx, SigningContext(key_.get()));
    const auto* in = reinterpret_cast<const unsigned char*>(message.data());
    size_t len = 0;
    if (EVP_DigestSign(ctx.get(), nullptr, &len, in, message.size()) != 1)
      return Internal("signer: cannot size signature: " + OpensslError());
    std::string sig(len, '\0');
    if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(&sig[0]), &len, in,
                       message.size()) != 1)
      return Internal("signer: cannot sign: " + OpensslError());
    sig.resize(len);
    return sig;
  }

  Status SignCertificate(X509* cert) const override {
    STEPCA_ASSIGN_OR_RETURN(EvpMdCtxPtr ctx, SigningContext(key_.get()));
    if (X509_sign_ctx(cert, ctx.get()) <= 0) {
      return Internal("signer: cannot sign certificate: " + OpensslError());
    }
    return Status::Ok();
  }

  Status SignCrl(X509_CRL* crl) const override {
    STEPCA_ASSIGN_OR_RETURN(EvpMdCtxPtr ctx, SigningContext(key_.get()));
    if (X509_CRL_sign_ctx(crl, ctx.get()) <= 0)
      return Internal("signer: cannot sign CRL: " + OpensslError());
    return Status::Ok();
  }

  Status SignOcspResponse(OCSP_BASICRESP* response, X509* responder_cert) const override {
    STEPCA_ASSIGN_OR_RETURN(EvpMdCtxPtr ctx, SigningContext(key_.get()));
    // OCSP_basic_sign_ctx takes ownership of nothing; it keeps ctx only
    // for the call.
    if (OCSP_basic_sign_ctx(response, responder_cert, ctx.get(), nullptr, OCSP_NOCERTS) != 1)
      return Internal("signer: cannot sign OCSP response: " + OpensslError());
    return Status::Ok();
  }

 private:
  EvpPkeyPtr key_;
  SignatureAlgorithm algorithm_;
};

}  // namespace

Result<EvpPkeyPtr> LoadPrivateKeyPem(std::string_view pem,
                                     std::string_view password) {
  if (pem.empty()) return InvalidArgument("cannot read key: empty PEM");
  const bool encrypted = pem.find("Proc-Type: 4,ENCRYPTED") != std::string_view::npos ||
                         pem.find("-----BEGIN ENCRYPTED PRIVATE KEY-----") !=
                             std::string_view::npos;
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return Internal("cannot read key: out of memory");
  PasswordArg arg{password};
  ERR_clear_error();
  EvpPkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, PasswordCallback, &arg));
  if (!key) {
    std::string detail = OpensslError();
    if (encrypted) {
      if (password.empty()) {
        return InvalidArgument("cannot decrypt key: a password is required");
      }
      return InvalidArgument("cannot decrypt key (wrong password?)");
    }
    return InvalidArgument("cannot read key: " + detail);
  }
  if (!IsSupportedCaKey(key.get())) {
    return InvalidArgument(
        "unsupported key type: want EC P-256/P-384/P-521, RSA >= 2048 or Ed25519");
  }
  return key;
}

Result<std::unique_ptr<Signer>> MakeFileSigner(EvpPkeyPtr private_key) {
  if (!private_key) return InvalidArgument("signer: no key");
  auto algorithm = AlgorithmForKey(private_key.get());
  if (!algorithm.ok()) return InvalidArgument("signer: " + algorithm.status().message());
  std::unique_ptr<Signer> s =
      std::make_unique<FileSigner>(std::move(private_key), algorithm.value());
  return s;
}

Result<SignatureAlgorithm> AlgorithmForKey(EVP_PKEY* key) {
  if (key == nullptr || !IsSupportedCaKey(key))
    return InvalidArgument(
        "unsupported key type: want EC P-256/P-384/P-521, RSA >= 2048 or Ed25519");
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_ED25519:
      return SignatureAlgorithm::kEd25519;
    case EVP_PKEY_RSA:
      return SignatureAlgorithm::kRsaPkcs1Sha256;
    default: {
      const std::string g = GroupName(key);
      if (g == "secp384r1") return SignatureAlgorithm::kEcdsaSha384;
      if (g == "secp521r1") return SignatureAlgorithm::kEcdsaSha512;
      return SignatureAlgorithm::kEcdsaSha256;
    }
  }
}

const EVP_MD* DigestForKey(EVP_PKEY* key) {
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_ED25519:
    case EVP_PKEY_ED448:
      return nullptr;
    case EVP_PKEY_EC: {
      std::string g = GroupName(key);
      if (g == "secp384r1") return EVP_sha384();
      if (g == "secp521r1") return EVP_sha512();
      return EVP_sha256();
    }
    default:
      return EVP_sha256();
  }
}

}  // namespace stepca
