#include "authority/revocation/ocsp_responder.h"

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/ocsp.h>

#include <ctime>
#include <optional>
#include <vector>

#include "authority/ossl.h"
#include "authority/state/certificate_records.h"
#include "authority/state/ocsp_responses.h"
#include "authority/state/revocations.h"

namespace stepca {
namespace {

using OcspRequestPtr = OsslPtr<OCSP_REQUEST, OCSP_REQUEST_free>;
using OcspResponsePtr = OsslPtr<OCSP_RESPONSE, OCSP_RESPONSE_free>;
using OcspBasicPtr = OsslPtr<OCSP_BASICRESP, OCSP_BASICRESP_free>;
using OcspCertIdPtr = OsslPtr<OCSP_CERTID, OCSP_CERTID_free>;
using Asn1TimePtr = OsslPtr<ASN1_TIME, ASN1_TIME_free>;

// RFC 8954: a nonce of 1 to 32 octets; a little slack for clients that
// wrap theirs once more.
constexpr int kMaxNonceBytes = 64;

std::string Der(OCSP_RESPONSE* r) {
  unsigned char* der = nullptr;
  const int n = i2d_OCSP_RESPONSE(r, &der);
  if (n <= 0) return "";
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(n));
  OPENSSL_free(der);
  return out;
}

OcspAnswer Error(int http, int ocsp_status, std::string why) {
  OcspAnswer a;
  a.http_status = http;
  a.der = OcspErrorResponse(ocsp_status);
  a.log_message = std::move(why);
  return a;
}

OcspAnswer Malformed(std::string why) {
  return Error(400, OCSP_RESPONSE_STATUS_MALFORMEDREQUEST, "ocsp: malformed request: " + why);
}

Asn1TimePtr Time(TimePoint t) {
  const auto s = std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
  return Asn1TimePtr(ASN1_TIME_set(nullptr, static_cast<time_t>(s)));
}

// "" for a negative serial (no certificate has one).
std::string Decimal(const ASN1_INTEGER* serial) {
  BignumPtr bn(ASN1_INTEGER_to_BN(serial, nullptr));
  if (!bn || BN_is_negative(bn.get())) return "";
  char* dec = BN_bn2dec(bn.get());
  if (dec == nullptr) return "";
  std::string out(dec);
  OPENSSL_free(dec);
  return out;
}

struct SingleStatus {
  int status = V_OCSP_CERTSTATUS_UNKNOWN;
  int reason = -1;  // -1: none in the answer
  TimePoint revoked_at{};
  std::string serial;  // decimal; empty when the issuer is not ours
};

// What is left of a cached answer's half validity, from its thisUpdate.
long CachedMaxAge(const std::string& der, Duration validity, TimePoint now) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  OcspResponsePtr resp(d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(der.size())));
  if (!resp) return 0;
  OcspBasicPtr basic(OCSP_response_get1_basic(resp.get()));
  OCSP_SINGLERESP* single = basic ? OCSP_resp_get0(basic.get(), 0) : nullptr;
  ASN1_GENERALIZEDTIME* this_update = nullptr;
  if (single == nullptr) return 0;
  OCSP_single_get0_status(single, nullptr, nullptr, &this_update, nullptr);
  struct tm tm;
  if (this_update == nullptr || ASN1_TIME_to_tm(this_update, &tm) != 1) return 0;
  const long end = static_cast<long>(timegm(&tm)) +
                   static_cast<long>(std::chrono::duration_cast<std::chrono::seconds>(validity).count() / 2);
  const long at = static_cast<long>(
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count());
  return end > at ? end - at : 0;
}

}  // namespace

std::string OcspErrorResponse(int status) {
  OcspResponsePtr r(OCSP_response_create(status, nullptr));
  return r ? Der(r.get()) : "";
}

OcspAnswer OcspResponder::Respond(std::string_view request) const {
  if (request.empty()) return Malformed("empty body");
  if (request.size() > kMaxOcspRequestBytes)
    return Malformed(std::to_string(request.size()) + " bytes, more than " +
                     std::to_string(kMaxOcspRequestBytes));
  const unsigned char* p = reinterpret_cast<const unsigned char*>(request.data());
  const unsigned char* const end = p + request.size();
  OcspRequestPtr req(d2i_OCSP_REQUEST(nullptr, &p, static_cast<long>(request.size())));
  ERR_clear_error();
  if (!req) return Malformed("not a DER OCSPRequest");
  if (p != end) return Malformed("bytes after the OCSPRequest");
  const int n = OCSP_request_onereq_count(req.get());
  if (n <= 0) return Malformed("no certificate asked about");
  if (n > kMaxOcspSerials)
    return Malformed(std::to_string(n) + " certificates, more than " + std::to_string(kMaxOcspSerials));
  const int nonce_at = OCSP_REQUEST_get_ext_by_NID(req.get(), NID_id_pkix_OCSP_Nonce, -1);
  if (nonce_at >= 0) {
    X509_EXTENSION* ext = OCSP_REQUEST_get_ext(req.get(), nonce_at);
    const ASN1_OCTET_STRING* v = X509_EXTENSION_get_data(ext);
    if (v == nullptr || ASN1_STRING_length(v) < 1 || ASN1_STRING_length(v) > kMaxNonceBytes + 2)
      return Malformed("nonce of an unusable length");
  }

  const bool cacheable = n == 1 && nonce_at < 0;
  std::vector<SingleStatus> statuses(static_cast<size_t>(n));
  std::vector<OCSP_CERTID*> ids(static_cast<size_t>(n));
  Revocations revocations(store_);
  CertificateRecords records(store_);
  for (int i = 0; i < n; ++i) {
    OCSP_CERTID* id = OCSP_onereq_get0_id(OCSP_request_onereq_get0(req.get(), i));
    ids[i] = id;
    ASN1_OBJECT* md_oid = nullptr;
    ASN1_INTEGER* serial = nullptr;
    if (OCSP_id_get0_info(nullptr, &md_oid, nullptr, &serial, id) != 1 || serial == nullptr)
      return Malformed("a CertID without a serial");
    const EVP_MD* md = EVP_get_digestbyobj(md_oid);
    SingleStatus& s = statuses[i];
    if (md == nullptr) continue;  // a hash we do not know: not our issuer as far as we can tell
    OcspCertIdPtr ours(OCSP_cert_id_new(md, X509_get_subject_name(issuer_),
                                        X509_get0_pubkey_bitstr(issuer_), serial));
    if (!ours) return Error(500, OCSP_RESPONSE_STATUS_INTERNALERROR, "ocsp: cannot hash the issuer");
    if (OCSP_id_issuer_cmp(ours.get(), id) != 0) continue;  // another CA's certificate
    s.serial = Decimal(serial);
    if (s.serial.empty()) continue;
    if (cacheable) {
      auto cached = OcspResponses(store_).Get(s.serial);
      if (!cached.ok())
        return Error(503, OCSP_RESPONSE_STATUS_TRYLATER, "ocsp: " + cached.status().message());
      if (*cached) {
        OcspAnswer a;
        a.der = **cached;
        a.max_age = CachedMaxAge(a.der, config_.validity, time_.Now());
        return a;
      }
    }
    auto rev = revocations.Find(s.serial);
    if (!rev.ok()) return Error(503, OCSP_RESPONSE_STATUS_TRYLATER, "ocsp: " + rev.status().message());
    if (*rev) {
      s.status = V_OCSP_CERTSTATUS_REVOKED;
      s.revoked_at = (*rev)->revoked_at;
      const int64_t code = (*rev)->reason_code;
      s.reason = (code > 0 && code <= 10 && code != 7) ? static_cast<int>(code) : -1;
      continue;
    }
    auto rec = records.Find(s.serial);
    if (!rec.ok()) return Error(503, OCSP_RESPONSE_STATUS_TRYLATER, "ocsp: " + rec.status().message());
    if (*rec && (*rec)->state == CertificateState::kIssued) s.status = V_OCSP_CERTSTATUS_GOOD;
  }

  const TimePoint now = std::chrono::time_point_cast<std::chrono::seconds>(time_.Now());
  Asn1TimePtr this_update = Time(now), next_update = Time(now + config_.validity);
  OcspBasicPtr basic(OCSP_BASICRESP_new());
  if (!basic || !this_update || !next_update)
    return Error(500, OCSP_RESPONSE_STATUS_INTERNALERROR, "ocsp: out of memory");
  for (int i = 0; i < n; ++i) {
    const SingleStatus& s = statuses[i];
    Asn1TimePtr revoked = s.status == V_OCSP_CERTSTATUS_REVOKED ? Time(s.revoked_at) : nullptr;
    OCSP_CERTID* copy = OCSP_CERTID_dup(ids[i]);
    if (copy == nullptr ||
        OCSP_basic_add1_status(basic.get(), copy, s.status, s.reason, revoked.get(),
                               this_update.get(), next_update.get()) == nullptr) {
      OCSP_CERTID_free(copy);
      return Error(500, OCSP_RESPONSE_STATUS_INTERNALERROR, "ocsp: cannot add a status: " + OpensslError());
    }
    OCSP_CERTID_free(copy);  // add1 took a reference of its own
  }
  if (nonce_at >= 0 && OCSP_copy_nonce(basic.get(), req.get()) != 1)
    return Error(500, OCSP_RESPONSE_STATUS_INTERNALERROR, "ocsp: cannot copy the nonce");
  Status st = signer_.SignOcspResponse(basic.get(), responder_ ? responder_ : issuer_);
  if (!st.ok()) return Error(500, OCSP_RESPONSE_STATUS_INTERNALERROR, "ocsp: " + st.message());
  // The certs field is outside the signed data: a client needs the
  // delegated certificate to check the signature and its OCSPSigning.
  if (responder_ != nullptr && OCSP_basic_add1_cert(basic.get(), responder_) != 1)
    return Error(500, OCSP_RESPONSE_STATUS_INTERNALERROR, "ocsp: cannot add the responder certificate");
  OcspResponsePtr resp(OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, basic.get()));
  if (!resp) return Error(500, OCSP_RESPONSE_STATUS_INTERNALERROR, "ocsp: cannot encode");
  OcspAnswer a;
  a.der = Der(resp.get());
  const long half = static_cast<long>(
      std::chrono::duration_cast<std::chrono::seconds>(config_.validity).count() / 2);
  a.max_age = std::max(half, 0L);

  const SingleStatus& only = statuses[0];
  if (cacheable && !only.serial.empty() && only.status != V_OCSP_CERTSTATUS_UNKNOWN && half > 0) {
    // Only good and revoked are kept: an unknown serial may be issued in a
    // moment (a reserved record completing).
    if (OcspResponses(store_).Put(only.serial, a.der, std::chrono::seconds(half)).ok() &&
        only.status == V_OCSP_CERTSTATUS_GOOD) {
      // A revocation between our read and our write would have deleted
      // nothing: look again and drop our entry if it lost that race.
      auto again = revocations.IsRevoked(only.serial);
      if (!again.ok() || *again) (void)OcspResponses(store_).Invalidate(only.serial);
    }
  }
  return a;
}

}  // namespace stepca
