// Passive revocation (step-ca's /revoke): by a revoke token or by the
// client certificate itself.
#include "authority/policy/certificate_policy.h"

#include "authority/policy/serial_number.h"
#include "authority/policy/token_authorization.h"
#include "authority/x509/chain.h"

namespace stepca {
namespace {

constexpr int kMaxReasonCode = 10;  // RFC 5280: aACompromise

std::string JsonCompact(const json_t* v) {
  char* s = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
  std::string out = s != nullptr ? s : "null";
  std::free(s);
  return out;
}

std::chrono::seconds SpendTtl(TimePoint expiry, TimePoint now) {
  auto ttl = std::chrono::duration_cast<std::chrono::seconds>(expiry - now) + kTokenLeeway +
             std::chrono::seconds(60);
  return ttl < std::chrono::seconds(60) ? std::chrono::seconds(60) : ttl;
}

}  // namespace

Result<std::string> CertificatePolicy::Revoke(const RevokeRequest& req, TimePoint now) {
  if (req.serial.empty()) return InvalidArgument("missing serial");
  auto serial = ParseSerial(req.serial);
  if (!serial)
    return InvalidArgument("'" + req.serial.substr(0, 64) +
                           "' is not a valid serial number - use a base 10 representation or a "
                           "base 16 representation with '0x' prefix");
  if (req.reason_code < 0 || req.reason_code > kMaxReasonCode)
    return InvalidArgument("reasonCode out of bounds");
  if (!req.passive) return Unimplemented("non-passive revocation not implemented");

  JsonPtr info(json_object());
  std::string provisioner_id, token_key;
  TimePoint token_expiry{};
  std::string expires_at;
  bool mtls = false;
  if (!req.ott.empty()) {
    STEPCA_ASSIGN_OR_RETURN(
        AuthorizedToken token,
        AuthorizeToken(TokenMethod::kRevoke, req.ott, provisioners_, audiences_, now));
    const SignGrant* grant = &token.grant;
    if (grant->subject != *serial)
      return PermissionDenied("token subject '" + grant->subject.substr(0, 64) +
                              "' does not match the serial number '" + *serial + "'");
    STEPCA_RETURN_IF_ERROR(CheckIssuedAt(token.claims));
    provisioner_id = grant->provisioner_id;
    token_key = grant->token_key;
    token_expiry = grant->token_expiry;
    STEPCA_ASSIGN_OR_RETURN(auto rec, store_.Get("x509_certs/" + *serial));
    if (rec) {
      JsonPtr j(json_loadb(rec->data(), rec->size(), 0, nullptr));
      const json_t* na = j ? json_object_get(j.get(), "notAfter") : nullptr;
      if (json_is_string(na)) expires_at = json_string_value(na);
    }
  } else {
    if (req.peer_cert_der.empty()) return InvalidArgument("missing ott or client certificate");
    STEPCA_ASSIGN_OR_RETURN(X509Ptr cert, VerifiedPeerCertificate(req.peer_cert_der, settings_.anchors, now));
    if (SerialDecimal(cert.get()) != *serial)
      return PermissionDenied("serial number in client certificate different than body");
    auto prov = ProvisionerOf(cert.get(), *serial);
    if (prov.ok()) provisioner_id = prov->id;
    expires_at = FormatRfc3339(CertNotAfter(cert.get()));
    mtls = true;
  }

  const std::string key = "revoked_x509_certs/" + *serial;
  const Status already =
      InvalidArgument("certificate with serial number '" + *serial + "' is already revoked");
  STEPCA_ASSIGN_OR_RETURN(auto existing, store_.Get(key));
  if (existing) return already;  // before the token is spent: nothing changed

  if (!token_key.empty()) {
    Status spent = store_.PutIfAbsent("used_ott/" + token_key, provisioner_id,
                                          SpendTtl(token_expiry, now));
    if (spent.code() == Code::kAlreadyExists)
      return Unauthenticated("authority.authorizeRevoke: token already used");
    STEPCA_RETURN_IF_ERROR(spent);
  }

  // step-ca's RevokedCertificateInfo, with its Go field names.
  json_object_set_new(info.get(), "Serial", json_string(serial->c_str()));
  json_object_set_new(info.get(), "ProvisionerID", json_string(provisioner_id.c_str()));
  json_object_set_new(info.get(), "ReasonCode", json_integer(req.reason_code));
  json_object_set_new(info.get(), "Reason", json_stringn(req.reason.data(), req.reason.size()));
  json_object_set_new(info.get(), "RevokedAt", json_string(FormatRfc3339(now).c_str()));
  json_object_set_new(info.get(), "ExpiresAt", json_string(expires_at.c_str()));
  json_object_set_new(info.get(), "TokenID", json_string(token_key.c_str()));
  json_object_set_new(info.get(), "MTLS", json_boolean(mtls));
  json_object_set_new(info.get(), "ACME", json_false());
  Status st = store_.PutIfAbsent(key, JsonCompact(info.get()), std::chrono::seconds(0));
  if (st.code() == Code::kAlreadyExists) return already;
  STEPCA_RETURN_IF_ERROR(st);
  return *serial;
}

}  // namespace stepca
