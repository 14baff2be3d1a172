#include "authority/signer/pkcs11_signer.h"

#include <openssl/evp.h>

#include "authority/signer/pkcs11_probe.h"
#include "authority/signer/remote_signer.h"

namespace stepca {
namespace {

class Pkcs11Signer : public RemoteSigner {
 public:
  Pkcs11Signer(EvpPkeyPtr public_key, SignatureAlgorithm algorithm, Pkcs11KeyRef key,
               Pkcs11SignerOptions options, std::shared_ptr<Pkcs11Token> token)
      : RemoteSigner(std::move(public_key), algorithm), key_(std::move(key)),
        options_(std::move(options)), token_(std::move(token)) {}

  ~Pkcs11Signer() override { Wipe(options_.pin); }

  Status InitProcess() override {
    if (token_) return Status::Ok();
    auto t = LoadPkcs11Module(options_.uri, options_.pin);
    if (!t.ok()) return t.status().Wrap("ca key " + DescribePkcs11Key(options_.uri));
    token_ = std::move(t).value();
    return Status::Ok();
  }

 protected:
  Result<std::string> SignDigest(std::string_view digest) const override {
    if (!token_) return Internal("signer: pkcs11 signer used before InitProcess");
    const SignatureAlgorithm alg = Algorithm();
    Pkcs11Mechanism mech = Pkcs11Mechanism::kEcdsa;
    std::string input(digest);
    if (alg == SignatureAlgorithm::kRsaPkcs1Sha256 || alg == SignatureAlgorithm::kRsaPkcs1Sha512) {
      mech = Pkcs11Mechanism::kRsaPkcs1;
      input = RsaDigestInfo(alg, digest);
    } else if (alg == SignatureAlgorithm::kRsaPssSha256) {
      mech = Pkcs11Mechanism::kRsaPssSha256;
    }
    auto sig = token_->Sign(key_, mech, input);
    if (!sig.ok()) {
      // The client sees "unavailable"; the log sees why.
      const Status& st = sig.status();
      if (st.code() == Code::kInternal) return st;
      return Unavailable("the CA key is unavailable")
          .WithDetail("ca key " + DescribePkcs11Key(options_.uri) + ": " + st.LogText());
    }
    if (EVP_PKEY_get_base_id(PublicKey()) == EVP_PKEY_EC) return EcdsaRawToDer(sig.value());
    return sig;
  }

 private:
  Pkcs11KeyRef key_;
  Pkcs11SignerOptions options_;
  std::shared_ptr<Pkcs11Token> token_;
};

Result<SignatureAlgorithm> AlgorithmFor(EVP_PKEY* pub, bool rsa_pss, bool rsa_sha512) {
  auto a = RemoteAlgorithmFor(pub, rsa_pss, rsa_sha512);
  if (!a.ok()) return InvalidArgument("pkcs11: " + a.status().message());
  return a;
}

Pkcs11KeyRef RefOf(const Pkcs11Uri& uri) { return Pkcs11KeyRef{uri.id, uri.object}; }

}  // namespace

Result<std::unique_ptr<Signer>> MakePkcs11Signer(Pkcs11SignerOptions options) {
  const Pkcs11KeyRef ref = RefOf(options.uri);
  if (ref.id.empty() && ref.label.empty())
    return InvalidArgument("pkcs11: the key URI names no id or object");
  auto pub = ProbePkcs11Key(options.uri, options.pin, ref);
  if (!pub.ok()) return pub.status();
  STEPCA_ASSIGN_OR_RETURN(SignatureAlgorithm alg, AlgorithmFor(pub->get(), options.rsa_pss, options.rsa_sha512));
  std::unique_ptr<Signer> s = std::make_unique<Pkcs11Signer>(std::move(pub).value(), alg, ref,
                                                             std::move(options), nullptr);
  return s;
}

Result<std::unique_ptr<Signer>> MakePkcs11SignerOnToken(std::shared_ptr<Pkcs11Token> token,
                                                        Pkcs11KeyRef key, bool rsa_pss,
                                                        bool rsa_sha512) {
  if (!token) return InvalidArgument("pkcs11: no token");
  STEPCA_ASSIGN_OR_RETURN(EvpPkeyPtr pub, token->ReadPublicKey(key));
  STEPCA_ASSIGN_OR_RETURN(SignatureAlgorithm alg, AlgorithmFor(pub.get(), rsa_pss, rsa_sha512));
  Pkcs11SignerOptions o;
  o.uri.id = key.id;
  o.uri.object = key.label;
  std::unique_ptr<Signer> s =
      std::make_unique<Pkcs11Signer>(std::move(pub), alg, key, std::move(o), std::move(token));
  return s;
}

}  // namespace stepca
