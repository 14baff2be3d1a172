#include "authority/ssh/signature.h"

#include <openssl/ecdsa.h>

#include "authority/ssh/wire.h"

namespace stepca::ssh {

const char* SignatureAlgorithmName(SignatureAlgorithm alg) {
  switch (alg) {
    case SignatureAlgorithm::kEcdsaSha256: return "ecdsa-sha2-nistp256";
    case SignatureAlgorithm::kEcdsaSha384: return "ecdsa-sha2-nistp384";
    case SignatureAlgorithm::kEcdsaSha512: return "ecdsa-sha2-nistp521";
    case SignatureAlgorithm::kRsaPkcs1Sha256: return "rsa-sha2-256";
    case SignatureAlgorithm::kRsaPkcs1Sha512: return "rsa-sha2-512";
    case SignatureAlgorithm::kEd25519: return "ssh-ed25519";
  }
  return "";
}

Result<std::string> MakeSignature(const Signer& signer, std::string_view message) {
  const SignatureAlgorithm alg = signer.Algorithm();
  STEPCA_ASSIGN_OR_RETURN(std::string sig, signer.Sign(message));
  WireWriter w;
  w.String(SignatureAlgorithmName(alg));
  if (alg == SignatureAlgorithm::kEcdsaSha256 || alg == SignatureAlgorithm::kEcdsaSha384 ||
      alg == SignatureAlgorithm::kEcdsaSha512) {
    // The signer gives DER Ecdsa-Sig-Value; SSH carries mpint r, mpint s.
    const unsigned char* p = reinterpret_cast<const unsigned char*>(sig.data());
    EcdsaSigPtr es(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size())));
    if (!es) return Internal("ssh: signer returned a malformed ECDSA signature");
    WireWriter rs;
    rs.Mpint(ECDSA_SIG_get0_r(es.get()));
    rs.Mpint(ECDSA_SIG_get0_s(es.get()));
    w.String(rs.bytes());
  } else {
    w.String(sig);
  }
  return w.Take();
}

Status VerifySignature(EVP_PKEY* key, std::string_view blob, std::string_view message) {
  WireReader r(blob);
  std::string_view alg, sig;
  if (!r.String(&alg) || !r.String(&sig) || !r.empty())
    return Unauthenticated("ssh: malformed signature");
  const EVP_MD* md = nullptr;
  std::string raw(sig);
  const int id = EVP_PKEY_get_base_id(key);
  if (id == EVP_PKEY_ED25519) {
    if (alg != "ssh-ed25519") return Unauthenticated("ssh: signature algorithm does not match the key");
  } else if (id == EVP_PKEY_RSA) {
    if (alg == "rsa-sha2-256") md = EVP_sha256();
    else if (alg == "rsa-sha2-512") md = EVP_sha512();
    else return Unauthenticated("ssh: signature algorithm " + std::string(alg.substr(0, 32)) + " is not accepted");
  } else if (id == EVP_PKEY_EC) {
    const int bits = EVP_PKEY_get_bits(key);
    const char* want = bits == 256 ? "ecdsa-sha2-nistp256" : bits == 384 ? "ecdsa-sha2-nistp384" : "ecdsa-sha2-nistp521";
    if (alg != want) return Unauthenticated("ssh: signature algorithm does not match the key");
    md = bits == 256 ? EVP_sha256() : bits == 384 ? EVP_sha384() : EVP_sha512();
    WireReader rs(sig);
    std::string_view rb, sb;
    if (!rs.MpintPositive(&rb) || !rs.MpintPositive(&sb) || !rs.empty())
      return Unauthenticated("ssh: malformed signature");
    EcdsaSigPtr es(ECDSA_SIG_new());
    BIGNUM* br = BN_bin2bn(reinterpret_cast<const unsigned char*>(rb.data()), rb.size(), nullptr);
    BIGNUM* bs = BN_bin2bn(reinterpret_cast<const unsigned char*>(sb.data()), sb.size(), nullptr);
    if (!es || !br || !bs || ECDSA_SIG_set0(es.get(), br, bs) != 1) {
      BN_free(br);
      BN_free(bs);
      return Internal("ssh: out of memory");
    }
    unsigned char* der = nullptr;
    int n = i2d_ECDSA_SIG(es.get(), &der);
    if (n <= 0) return Internal("ssh: cannot encode signature");
    raw.assign(reinterpret_cast<char*>(der), n);
    OPENSSL_free(der);
  } else {
    return Unauthenticated("ssh: unsupported key type");
  }
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, md, nullptr, key) != 1)
    return Internal("ssh: cannot verify: " + OpensslError());
  int ok = EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(raw.data()), raw.size(),
                            reinterpret_cast<const unsigned char*>(message.data()), message.size());
  if (ok != 1) {
    OpensslError();
    return Unauthenticated("ssh: signature does not verify");
  }
  return Status::Ok();
}

}  // namespace stepca::ssh
