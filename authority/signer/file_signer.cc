// The file signer: a CA key loaded from a PEM file into memory.
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include <cstring>

#include "authority/signer/signer.h"

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

class FileSigner : public Signer {
 public:
  explicit FileSigner(EvpPkeyPtr key) : key_(std::move(key)) {}

  EVP_PKEY* PublicKey() const override { return key_.get(); }

  Status SignCertificate(X509* cert) const override {
    EvpMdCtxPtr ctx(EVP_MD_CTX_new());
    if (!ctx) return Internal("signer: out of memory");
    EVP_PKEY_CTX* pctx = nullptr;  // owned by ctx
    if (EVP_DigestSignInit(ctx.get(), &pctx, DigestForKey(key_.get()), nullptr,
                           key_.get()) != 1) {
      return Internal("signer: cannot initialise signing: " + OpensslError());
    }
    if (EVP_PKEY_get_base_id(key_.get()) == EVP_PKEY_RSA &&
        EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1) {
      return Internal("signer: cannot set RSA padding: " + OpensslError());
    }
    if (X509_sign_ctx(cert, ctx.get()) <= 0) {
      return Internal("signer: cannot sign certificate: " + OpensslError());
    }
    return Status::Ok();
  }

 private:
  EvpPkeyPtr key_;
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
  if (!IsSupportedCaKey(private_key.get())) {
    return InvalidArgument(
        "signer: unsupported key type: want EC P-256/P-384/P-521, RSA >= 2048 or "
        "Ed25519");
  }
  std::unique_ptr<Signer> s = std::make_unique<FileSigner>(std::move(private_key));
  return s;
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
