// Issuer::Reissue: renew and rekey re-issue an existing certificate.
#include <openssl/rand.h>

#include <ctime>

#include "authority/x509/issuer.h"

namespace stepca {
namespace {

struct AuthorityKeyIdFree {
  void operator()(AUTHORITY_KEYID* p) const { AUTHORITY_KEYID_free(p); }
};

Result<std::string> PublicKeyId(X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (X509_pubkey_digest(cert, EVP_sha1(), md, &len) != 1)
    return Internal("issuer: cannot hash public key: " + OpensslError());
  return std::string(reinterpret_cast<char*>(md), len);
}

time_t Seconds(TimePoint t) {
  return static_cast<time_t>(
      std::chrono::floor<std::chrono::seconds>(t.time_since_epoch()).count());
}

}  // namespace

Result<IssuedCertificate> Issuer::Reissue(const ReissueRequest& request) const {
  if (!cert_ || !signer_) return Internal("issuer: not configured");
  if (request.old == nullptr) return InvalidArgument("issuer: no certificate to re-issue");
  if (request.validity.not_after <= request.validity.not_before)
    return InvalidArgument("issuer: empty validity window");
  X509* old = request.old;
  const bool rekey = request.new_public_key != nullptr;
  if (rekey) STEPCA_RETURN_IF_ERROR(CheckPublicKey(request.new_public_key));

  X509Ptr cert(X509_new());
  if (!cert) return Internal("issuer: out of memory");
  X509* c = cert.get();
  if (X509_set_version(c, X509_VERSION_3) != 1) return Internal("issuer: " + OpensslError());

  unsigned char rnd[16];
  BignumPtr bn;
  do {
    if (RAND_bytes(rnd, sizeof rnd) != 1) return Internal("issuer: no randomness");
    bn.reset(BN_bin2bn(rnd, sizeof rnd, nullptr));
    if (!bn) return Internal("issuer: out of memory");
  } while (BN_is_zero(bn.get()));
  Asn1IntegerPtr serial(BN_to_ASN1_INTEGER(bn.get(), nullptr));
  if (!serial || X509_set_serialNumber(c, serial.get()) != 1)
    return Internal("issuer: cannot set serial: " + OpensslError());

  if (X509_set_issuer_name(c, X509_get_subject_name(cert_.get())) != 1 ||
      X509_set_subject_name(c, X509_get_subject_name(old)) != 1)
    return Internal("issuer: cannot set names: " + OpensslError());
  if (!ASN1_TIME_set(X509_getm_notBefore(c), Seconds(request.validity.not_before)) ||
      !ASN1_TIME_set(X509_getm_notAfter(c), Seconds(request.validity.not_after)))
    return Internal("issuer: cannot set validity: " + OpensslError());
  EVP_PKEY* key = rekey ? request.new_public_key : X509_get0_pubkey(old);
  if (key == nullptr || X509_set_pubkey(c, key) != 1)
    return Internal("issuer: cannot set public key: " + OpensslError());

  if (rekey) {
    STEPCA_ASSIGN_OR_RETURN(std::string ski, PublicKeyId(c));
    Asn1OctetStringPtr os(ASN1_OCTET_STRING_new());
    if (!os || ASN1_OCTET_STRING_set(os.get(), reinterpret_cast<const unsigned char*>(ski.data()),
                                     static_cast<int>(ski.size())) != 1 ||
        X509_add1_ext_i2d(c, NID_subject_key_identifier, os.get(), 0, X509V3_ADD_APPEND) != 1)
      return Internal("issuer: cannot add subject key id: " + OpensslError());
  }

  std::string aki;
  if (const ASN1_OCTET_STRING* issuer_ski = X509_get0_subject_key_id(cert_.get())) {
    aki.assign(reinterpret_cast<const char*>(ASN1_STRING_get0_data(issuer_ski)),
               static_cast<size_t>(ASN1_STRING_length(issuer_ski)));
  } else {
    STEPCA_ASSIGN_OR_RETURN(aki, PublicKeyId(cert_.get()));
  }
  std::unique_ptr<AUTHORITY_KEYID, AuthorityKeyIdFree> akid(AUTHORITY_KEYID_new());
  if (!akid) return Internal("issuer: out of memory");
  akid->keyid = ASN1_OCTET_STRING_new();
  if (!akid->keyid ||
      ASN1_OCTET_STRING_set(akid->keyid, reinterpret_cast<const unsigned char*>(aki.data()),
                            static_cast<int>(aki.size())) != 1 ||
      X509_add1_ext_i2d(c, NID_authority_key_identifier, akid.get(), 0, X509V3_ADD_APPEND) != 1)
    return Internal("issuer: cannot add authority key id: " + OpensslError());

  for (int i = 0; i < X509_get_ext_count(old); ++i) {
    X509_EXTENSION* ext = X509_get_ext(old, i);
    const int nid = OBJ_obj2nid(X509_EXTENSION_get_object(ext));
    if (nid == NID_authority_key_identifier) continue;
    if (rekey && nid == NID_subject_key_identifier) continue;
    if (X509_add_ext(c, ext, -1) != 1)
      return Internal("issuer: cannot copy an extension: " + OpensslError());
  }

  STEPCA_RETURN_IF_ERROR(signer_->SignCertificate(c));

  IssuedCertificate out;
  unsigned char* der = nullptr;
  const int len = i2d_X509(c, &der);
  if (len <= 0) return Internal("issuer: cannot encode certificate: " + OpensslError());
  out.der.assign(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  out.pem = CertificateToPem(c);
  out.serial = SerialDecimal(c);
  out.cert = std::move(cert);
  return out;
}

}  // namespace stepca
