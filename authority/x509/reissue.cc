// Issuer::Reissue: renew and rekey re-issue an existing certificate.
#include "authority/x509/issuer.h"

namespace stepca {

Result<IssuedCertificate> Issuer::Reissue(const ReissueRequest& request) const {
  if (!cert_ || !signer_) return Internal("issuer: not configured");
  if (request.old == nullptr) return InvalidArgument("issuer: no certificate to re-issue");
  if (request.validity.not_after <= request.validity.not_before)
    return InvalidArgument("issuer: empty validity window");
  X509* old = request.old;
  const bool rekey = request.new_public_key != nullptr;
  if (rekey) STEPCA_RETURN_IF_ERROR(CheckPublicKey(request.new_public_key));

  STEPCA_ASSIGN_OR_RETURN(X509Ptr cert, NewCertificate(request.validity, request.serial));
  X509* c = cert.get();
  if (X509_set_subject_name(c, X509_get_subject_name(old)) != 1)
    return Internal("issuer: cannot set names: " + OpensslError());
  EVP_PKEY* key = rekey ? request.new_public_key : X509_get0_pubkey(old);
  if (key == nullptr || X509_set_pubkey(c, key) != 1)
    return Internal("issuer: cannot set public key: " + OpensslError());

  // step-ca's order: a rekeyed certificate starts with its new SKI, then
  // AKI; a renewed one with AKI; then the old extensions but AKI (and the
  // old SKI on rekey).
  if (rekey) {
    STEPCA_ASSIGN_OR_RETURN(std::string ski, PublicKeyId(c));
    Asn1OctetStringPtr os(ASN1_OCTET_STRING_new());
    if (!os || ASN1_OCTET_STRING_set(os.get(), reinterpret_cast<const unsigned char*>(ski.data()),
                                     static_cast<int>(ski.size())) != 1 ||
        X509_add1_ext_i2d(c, NID_subject_key_identifier, os.get(), 0, X509V3_ADD_APPEND) != 1)
      return Internal("issuer: cannot add subject key id: " + OpensslError());
  }
  STEPCA_RETURN_IF_ERROR(AddAuthorityKeyId(c));

  for (int i = 0; i < X509_get_ext_count(old); ++i) {
    X509_EXTENSION* ext = X509_get_ext(old, i);
    const int nid = OBJ_obj2nid(X509_EXTENSION_get_object(ext));
    if (nid == NID_authority_key_identifier) continue;
    if (rekey && nid == NID_subject_key_identifier) continue;
    if (X509_add_ext(c, ext, -1) != 1)
      return Internal("issuer: cannot copy an extension: " + OpensslError());
  }
  return Finish(std::move(cert));
}

}  // namespace stepca
