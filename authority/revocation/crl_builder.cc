#include "authority/revocation/crl_builder.h"

#include <openssl/bn.h>
#include <openssl/x509v3.h>

#include <ctime>

#include "authority/ossl.h"

namespace stepca {
namespace {

using X509CrlPtr = OsslPtr<X509_CRL, X509_CRL_free>;
using RevokedPtr = OsslPtr<X509_REVOKED, X509_REVOKED_free>;
using Asn1TimePtr = OsslPtr<ASN1_TIME, ASN1_TIME_free>;
using Asn1EnumPtr = OsslPtr<ASN1_ENUMERATED, ASN1_ENUMERATED_free>;
using AuthorityKeyIdPtr = OsslPtr<AUTHORITY_KEYID, AUTHORITY_KEYID_free>;
using IdpPtr = OsslPtr<ISSUING_DIST_POINT, ISSUING_DIST_POINT_free>;

constexpr const char* kReasonNames[] = {
    "unspecified",     "keyCompromise",     "cACompromise",        "affiliationChanged",
    "superseded",      "cessationOfOperation", "certificateHold", nullptr,
    "removeFromCRL",   "privilegeWithdrawn", "aACompromise"};

Asn1TimePtr Time(TimePoint t) {
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
  return Asn1TimePtr(ASN1_TIME_set(nullptr, static_cast<time_t>(secs)));
}

Result<Asn1IntegerPtr> SerialInteger(const std::string& decimal) {
  if (decimal.empty() || decimal.size() > 80 ||
      decimal.find_first_not_of("0123456789") != std::string::npos)
    return InvalidArgument("crl: serial \"" + decimal.substr(0, 80) + "\" is not a decimal number");
  BIGNUM* bn = nullptr;
  if (BN_dec2bn(&bn, decimal.c_str()) == 0) return Internal("crl: cannot read serial");
  BignumPtr owned(bn);
  Asn1IntegerPtr i(BN_to_ASN1_INTEGER(bn, nullptr));
  if (!i) return Internal("crl: cannot encode serial");
  return i;
}

Status AddIdp(X509_CRL* crl, const std::string& url) {
  IdpPtr idp(ISSUING_DIST_POINT_new());
  if (!idp) return Internal("crl: out of memory");
  idp->distpoint = DIST_POINT_NAME_new();
  GENERAL_NAME* gn = GENERAL_NAME_new();
  ASN1_IA5STRING* uri = ASN1_IA5STRING_new();
  if (idp->distpoint == nullptr || gn == nullptr || uri == nullptr ||
      ASN1_STRING_set(uri, url.data(), static_cast<int>(url.size())) != 1) {
    GENERAL_NAME_free(gn);
    ASN1_IA5STRING_free(uri);
    return Internal("crl: out of memory");
  }
  GENERAL_NAME_set0_value(gn, GEN_URI, uri);
  idp->distpoint->type = 0;  // fullName
  idp->distpoint->name.fullname = sk_GENERAL_NAME_new_null();
  if (idp->distpoint->name.fullname == nullptr ||
      sk_GENERAL_NAME_push(idp->distpoint->name.fullname, gn) == 0) {
    GENERAL_NAME_free(gn);
    return Internal("crl: out of memory");
  }
  // RFC 5280 5.2.5: the extension is critical.
  if (X509_CRL_add1_ext_i2d(crl, NID_issuing_distribution_point, idp.get(), 1, 0) != 1)
    return Internal("crl: cannot add the issuing distribution point: " + OpensslError());
  return Status::Ok();
}

}  // namespace

bool ValidCrlReason(int code) { return code >= 0 && code <= 10 && code != 7; }

int CrlReasonCode(const std::string& name) {
  for (int i = 0; i <= 10; ++i)
    if (kReasonNames[i] != nullptr && name == kReasonNames[i]) return i;
  return -1;
}

Result<std::string> BuildCrl(X509* issuer, const Signer& signer, const CrlContents& c) {
  if (issuer == nullptr) return Internal("crl: no issuing certificate");
  if (c.next_update <= c.this_update) return Internal("crl: nextUpdate must follow thisUpdate");
  X509CrlPtr crl(X509_CRL_new());
  if (!crl) return Internal("crl: out of memory");
  Asn1TimePtr this_update = Time(c.this_update), next_update = Time(c.next_update);
  if (X509_CRL_set_version(crl.get(), X509_CRL_VERSION_2) != 1 ||
      X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(issuer)) != 1 || !this_update ||
      !next_update || X509_CRL_set1_lastUpdate(crl.get(), this_update.get()) != 1 ||
      X509_CRL_set1_nextUpdate(crl.get(), next_update.get()) != 1)
    return Internal("crl: cannot set the header: " + OpensslError());

  for (const CrlEntry& e : c.entries) {
    if (!ValidCrlReason(e.reason_code))
      return InvalidArgument("crl: reason code " + std::to_string(e.reason_code) +
                             " of serial " + e.serial + " is not an RFC 5280 reason");
    STEPCA_ASSIGN_OR_RETURN(Asn1IntegerPtr serial, SerialInteger(e.serial));
    RevokedPtr r(X509_REVOKED_new());
    Asn1TimePtr when = Time(e.revoked_at);
    if (!r || !when || X509_REVOKED_set_serialNumber(r.get(), serial.get()) != 1 ||
        X509_REVOKED_set_revocationDate(r.get(), when.get()) != 1)
      return Internal("crl: cannot add an entry: " + OpensslError());
    if (e.reason_code != 0) {
      Asn1EnumPtr reason(ASN1_ENUMERATED_new());
      if (!reason || ASN1_ENUMERATED_set(reason.get(), e.reason_code) != 1 ||
          X509_REVOKED_add1_ext_i2d(r.get(), NID_crl_reason, reason.get(), 0, 0) != 1)
        return Internal("crl: cannot add a reason code: " + OpensslError());
    }
    if (X509_CRL_add0_revoked(crl.get(), r.get()) != 1)
      return Internal("crl: cannot add an entry: " + OpensslError());
    r.release();  // owned by crl
  }
  X509_CRL_sort(crl.get());

  // Authority key identifier: the issuer's subject key id, so that a
  // relying party with several CA certificates of one name finds the key.
  if (const ASN1_OCTET_STRING* skid = X509_get0_subject_key_id(issuer)) {
    AuthorityKeyIdPtr akid(AUTHORITY_KEYID_new());
    if (!akid || (akid->keyid = ASN1_OCTET_STRING_dup(skid)) == nullptr ||
        X509_CRL_add1_ext_i2d(crl.get(), NID_authority_key_identifier, akid.get(), 0, 0) != 1)
      return Internal("crl: cannot add the authority key id: " + OpensslError());
  }
  Asn1IntegerPtr number(ASN1_INTEGER_new());
  if (!number || ASN1_INTEGER_set_int64(number.get(), c.number) != 1 ||
      X509_CRL_add1_ext_i2d(crl.get(), NID_crl_number, number.get(), 0, 0) != 1)
    return Internal("crl: cannot add the CRL number: " + OpensslError());
  if (!c.idp_url.empty()) STEPCA_RETURN_IF_ERROR(AddIdp(crl.get(), c.idp_url));

  STEPCA_RETURN_IF_ERROR(signer.SignCrl(crl.get()));
  unsigned char* der = nullptr;
  const int n = i2d_X509_CRL(crl.get(), &der);
  if (n <= 0) return Internal("crl: cannot encode: " + OpensslError());
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(n));
  OPENSSL_free(der);
  return out;
}

}  // namespace stepca
