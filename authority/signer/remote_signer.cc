#include "authority/signer/remote_signer.h"

#include <openssl/evp.h>
#include <openssl/ocsp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <mutex>

#include "authority/signer/file_signer.h"

namespace stepca {
namespace {

// AlgorithmIdentifier of the signature, as Go writes it: no parameters for
// ECDSA, NULL for PKCS#1 v1.5, explicit RSASSA-PSS-params for PSS.
Status SetAlgorithm(X509_ALGOR* alg, SignatureAlgorithm a) {
  switch (a) {
    case SignatureAlgorithm::kEcdsaSha256:
      return X509_ALGOR_set0(alg, OBJ_nid2obj(NID_ecdsa_with_SHA256), V_ASN1_UNDEF, nullptr) == 1
                 ? Status::Ok() : Internal("signer: out of memory");
    case SignatureAlgorithm::kEcdsaSha384:
      return X509_ALGOR_set0(alg, OBJ_nid2obj(NID_ecdsa_with_SHA384), V_ASN1_UNDEF, nullptr) == 1
                 ? Status::Ok() : Internal("signer: out of memory");
    case SignatureAlgorithm::kEcdsaSha512:
      return X509_ALGOR_set0(alg, OBJ_nid2obj(NID_ecdsa_with_SHA512), V_ASN1_UNDEF, nullptr) == 1
                 ? Status::Ok() : Internal("signer: out of memory");
    case SignatureAlgorithm::kRsaPkcs1Sha256:
      return X509_ALGOR_set0(alg, OBJ_nid2obj(NID_sha256WithRSAEncryption), V_ASN1_NULL, nullptr) == 1
                 ? Status::Ok() : Internal("signer: out of memory");
    case SignatureAlgorithm::kRsaPkcs1Sha512:
      return X509_ALGOR_set0(alg, OBJ_nid2obj(NID_sha512WithRSAEncryption), V_ASN1_NULL, nullptr) == 1
                 ? Status::Ok() : Internal("signer: out of memory");
    case SignatureAlgorithm::kRsaPssSha256: {
      OsslPtr<RSA_PSS_PARAMS, RSA_PSS_PARAMS_free> pss(RSA_PSS_PARAMS_new());
      OsslPtr<X509_ALGOR, X509_ALGOR_free> mgf_hash(X509_ALGOR_new());
      if (!pss || !mgf_hash) return Internal("signer: out of memory");
      pss->hashAlgorithm = X509_ALGOR_new();
      pss->maskGenAlgorithm = X509_ALGOR_new();
      pss->saltLength = ASN1_INTEGER_new();
      if (!pss->hashAlgorithm || !pss->maskGenAlgorithm || !pss->saltLength)
        return Internal("signer: out of memory");
      X509_ALGOR_set0(pss->hashAlgorithm, OBJ_nid2obj(NID_sha256), V_ASN1_NULL, nullptr);
      X509_ALGOR_set0(mgf_hash.get(), OBJ_nid2obj(NID_sha256), V_ASN1_NULL, nullptr);
      ASN1_STRING* mgf_param = nullptr;
      if (!ASN1_item_pack(mgf_hash.get(), ASN1_ITEM_rptr(X509_ALGOR), &mgf_param))
        return Internal("signer: cannot encode MGF1 parameters");
      X509_ALGOR_set0(pss->maskGenAlgorithm, OBJ_nid2obj(NID_mgf1), V_ASN1_SEQUENCE, mgf_param);
      ASN1_INTEGER_set(pss->saltLength, 32);
      ASN1_STRING* params = nullptr;
      if (!ASN1_item_pack(pss.get(), ASN1_ITEM_rptr(RSA_PSS_PARAMS), &params))
        return Internal("signer: cannot encode RSASSA-PSS parameters");
      X509_ALGOR_set0(alg, OBJ_nid2obj(NID_rsassaPss), V_ASN1_SEQUENCE, params);
      return Status::Ok();
    }
    case SignatureAlgorithm::kEd25519:
      break;
  }
  return Internal("signer: a remote key does not sign this algorithm");
}

// CRLs and OCSP responses have no setter for every AlgorithmIdentifier
// they carry (the CRL's inner one, the OCSP responder id and producedAt
// are set only by OpenSSL's own sign calls), and those calls need a key
// in this process. So they are first signed with a throwaway key of the
// same kind and algorithm, which fills the structure, and the signature
// is then replaced by the token's over the same re-encoded bytes.
EVP_PKEY* ThrowawayKey(bool rsa) {
  static std::once_flag once_ec, once_rsa;
  static EVP_PKEY* ec = nullptr;
  static EVP_PKEY* rsa_key = nullptr;
  if (rsa) {
    std::call_once(once_rsa, [] { rsa_key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048}); });
    return rsa_key;
  }
  std::call_once(once_ec, [] { ec = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"); });
  return ec;
}

bool IsRsa(SignatureAlgorithm a) {
  return a == SignatureAlgorithm::kRsaPkcs1Sha256 || a == SignatureAlgorithm::kRsaPkcs1Sha512 ||
         a == SignatureAlgorithm::kRsaPssSha256;
}

Result<EvpMdCtxPtr> ThrowawayContext(SignatureAlgorithm a) {
  EVP_PKEY* key = ThrowawayKey(IsRsa(a));
  if (key == nullptr) return Internal("signer: cannot make a key: " + OpensslError());
  const EVP_MD* md = DigestOf(a);
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  if (!ctx || EVP_DigestSignInit(ctx.get(), &pctx, md, nullptr, key) != 1)
    return Internal("signer: cannot start signing: " + OpensslError());
  if (a == SignatureAlgorithm::kRsaPssSha256 &&
      (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
       EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32) != 1 ||
       EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256()) != 1))
    return Internal("signer: cannot set RSA-PSS: " + OpensslError());
  return ctx;
}

Status ReplaceBits(const ASN1_BIT_STRING* target, const std::string& sig) {
  auto* bits = const_cast<ASN1_BIT_STRING*>(target);
  if (ASN1_BIT_STRING_set(bits, reinterpret_cast<unsigned char*>(const_cast<char*>(sig.data())),
                          static_cast<int>(sig.size())) != 1)
    return Internal("signer: out of memory");
  bits->flags &= ~(ASN1_STRING_FLAG_BITS_LEFT | 0x07);
  bits->flags |= ASN1_STRING_FLAG_BITS_LEFT;
  return Status::Ok();
}

}  // namespace

const EVP_MD* DigestOf(SignatureAlgorithm a) {
  switch (a) {
    case SignatureAlgorithm::kEcdsaSha384: return EVP_sha384();
    case SignatureAlgorithm::kEcdsaSha512:
    case SignatureAlgorithm::kRsaPkcs1Sha512: return EVP_sha512();
    default: return EVP_sha256();
  }
}

std::string RsaDigestInfo(SignatureAlgorithm a, std::string_view digest) {
  // DER DigestInfo prefixes (RFC 8017 9.2 note 1).
  static const unsigned char kSha256[] = {0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
                                          0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20};
  static const unsigned char kSha512[] = {0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01,
                                          0x65, 0x03, 0x04, 0x02, 0x03, 0x05, 0x00, 0x04, 0x40};
  if (a == SignatureAlgorithm::kRsaPkcs1Sha512)
    return std::string(reinterpret_cast<const char*>(kSha512), sizeof kSha512) + std::string(digest);
  return std::string(reinterpret_cast<const char*>(kSha256), sizeof kSha256) + std::string(digest);
}

Result<std::string> EcdsaRawToDer(std::string_view raw) {
  if (raw.empty() || raw.size() % 2 != 0) return Internal("signer: the key returned a malformed ECDSA signature");
  const size_t half = raw.size() / 2;
  const auto* p = reinterpret_cast<const unsigned char*>(raw.data());
  BIGNUM* r = BN_bin2bn(p, static_cast<int>(half), nullptr);
  BIGNUM* s = BN_bin2bn(p + half, static_cast<int>(half), nullptr);
  EcdsaSigPtr sig(ECDSA_SIG_new());
  if (!r || !s || !sig || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return Internal("signer: out of memory");
  }
  unsigned char* der = nullptr;
  int len = i2d_ECDSA_SIG(sig.get(), &der);
  if (len <= 0) return Internal("signer: cannot encode the ECDSA signature");
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

Result<SignatureAlgorithm> RemoteAlgorithmFor(EVP_PKEY* pub, bool rsa_pss, bool rsa_sha512) {
  if (EVP_PKEY_get_base_id(pub) == EVP_PKEY_RSA && (rsa_pss || rsa_sha512)) {
    if (EVP_PKEY_get_bits(pub) < 2048) return InvalidArgument("RSA keys must have 2048 bits or more");
    return rsa_pss ? SignatureAlgorithm::kRsaPssSha256 : SignatureAlgorithm::kRsaPkcs1Sha512;
  }
  auto a = AlgorithmForKey(pub);
  if (!a.ok()) return a.status();
  if (a.value() == SignatureAlgorithm::kEd25519)
    return InvalidArgument("Ed25519 keys outside this process are not supported");
  return a;
}

RemoteSigner::RemoteSigner(EvpPkeyPtr public_key, SignatureAlgorithm algorithm)
    : public_key_(std::move(public_key)), algorithm_(algorithm) {}

EVP_PKEY* RemoteSigner::PublicKey() const { return public_key_.get(); }
SignatureAlgorithm RemoteSigner::Algorithm() const { return algorithm_; }

Result<std::string> RemoteSigner::Sign(std::string_view message) const {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(message.data(), message.size(), out, &len, DigestOf(algorithm_), nullptr) != 1)
    return Internal("signer: cannot hash: " + OpensslError());
  return SignDigest(std::string_view(reinterpret_cast<char*>(out), len));
}

Status RemoteSigner::SignCertificate(X509* cert) const {
  const X509_ALGOR* tbs_alg = X509_get0_tbs_sigalg(cert);
  const ASN1_BIT_STRING* sig_value = nullptr;
  const X509_ALGOR* outer_alg = nullptr;
  X509_get0_signature(&sig_value, &outer_alg, cert);
  // OpenSSL has no setter for a certificate's signature outside
  // X509_sign, which needs the private key in this process.
  STEPCA_RETURN_IF_ERROR(SetAlgorithm(const_cast<X509_ALGOR*>(tbs_alg), algorithm_));
  STEPCA_RETURN_IF_ERROR(SetAlgorithm(const_cast<X509_ALGOR*>(outer_alg), algorithm_));
  unsigned char* der = nullptr;
  int len = i2d_re_X509_tbs(cert, &der);
  if (len <= 0) return Internal("signer: cannot encode the certificate: " + OpensslError());
  std::string tbs(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  STEPCA_ASSIGN_OR_RETURN(std::string sig, Sign(tbs));
  auto* bits = const_cast<ASN1_BIT_STRING*>(sig_value);
  if (ASN1_BIT_STRING_set(bits, reinterpret_cast<unsigned char*>(&sig[0]),
                          static_cast<int>(sig.size())) != 1)
    return Internal("signer: out of memory");
  bits->flags &= ~(ASN1_STRING_FLAG_BITS_LEFT | 0x07);
  bits->flags |= ASN1_STRING_FLAG_BITS_LEFT;
  return Status::Ok();
}

Status RemoteSigner::SignCrl(X509_CRL* crl) const {
  STEPCA_ASSIGN_OR_RETURN(EvpMdCtxPtr ctx, ThrowawayContext(algorithm_));
  if (X509_CRL_sign_ctx(crl, ctx.get()) <= 0)
    return Internal("signer: cannot build the CRL: " + OpensslError());
  unsigned char* der = nullptr;
  const int len = i2d_re_X509_CRL_tbs(crl, &der);
  if (len <= 0) return Internal("signer: cannot encode the CRL: " + OpensslError());
  std::string tbs(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  STEPCA_ASSIGN_OR_RETURN(std::string sig, Sign(tbs));
  const ASN1_BIT_STRING* value = nullptr;
  const X509_ALGOR* alg = nullptr;
  X509_CRL_get0_signature(crl, &value, &alg);
  return ReplaceBits(value, sig);
}

Status RemoteSigner::SignOcspResponse(OCSP_BASICRESP* response, X509* responder_cert) const {
  STEPCA_ASSIGN_OR_RETURN(EvpMdCtxPtr ctx, ThrowawayContext(algorithm_));
  // OpenSSL checks the key against the signer certificate; the responder
  // id is by name, so a stand-in with the responder's subject and the
  // throwaway key gives the same structure (no certificate is attached).
  X509Ptr stand_in(X509_new());
  if (!stand_in || X509_set_subject_name(stand_in.get(), X509_get_subject_name(responder_cert)) != 1 ||
      X509_set_pubkey(stand_in.get(), ThrowawayKey(IsRsa(algorithm_))) != 1)
    return Internal("signer: out of memory");
  if (OCSP_basic_sign_ctx(response, stand_in.get(), ctx.get(), nullptr, OCSP_NOCERTS) != 1)
    return Internal("signer: cannot build the OCSP response: " + OpensslError());
  unsigned char* der = nullptr;
  const int len = i2d_OCSP_RESPDATA(const_cast<OCSP_RESPDATA*>(OCSP_resp_get0_respdata(response)), &der);
  if (len <= 0) return Internal("signer: cannot encode the OCSP response: " + OpensslError());
  std::string tbs(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  STEPCA_ASSIGN_OR_RETURN(std::string sig, Sign(tbs));
  return ReplaceBits(OCSP_resp_get0_signature(response), sig);
}

}  // namespace stepca
