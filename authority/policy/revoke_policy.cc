// Passive revocation (step-ca's /revoke): by a revoke token or by the
// client certificate itself.
#include "authority/policy/certificate_policy.h"

#include "authority/policy/serial_number.h"
#include "authority/policy/token_authorization.h"
#include "authority/state/certificate_records.h"
#include "authority/state/revocations.h"
#include "authority/state/spent_tokens.h"
#include "authority/x509/chain.h"

namespace stepca {
namespace {

constexpr int kMaxReasonCode = 10;  // RFC 5280: aACompromise

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

  std::string provisioner_id, token_key;
  TimePoint token_expiry{};
  std::optional<TimePoint> expires_at;
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
    // A revoke token names a serial only; unlike a client certificate it
    // proves nothing about the certificate. A serial this CA never issued
    // (no record, or one whose signing failed) is refused before the token
    // is spent, so nothing is recorded for it (step-ca 0.19 records it).
    auto found = CertificateRecords(store_).Find(*serial);
    if (!found.ok()) return BeforeSpend(found.status());
    const auto& rec = *found;
    if (!rec || rec->state == CertificateState::kFailed)
      return NotFound("certificate with serial number '" + *serial + "' was not issued by this CA");
    expires_at = rec->not_after;
  } else {
    if (req.peer_cert_der.empty()) return InvalidArgument("missing ott or client certificate");
    STEPCA_ASSIGN_OR_RETURN(X509Ptr cert, VerifiedPeerCertificate(req.peer_cert_der, settings_.anchors, now));
    if (SerialDecimal(cert.get()) != *serial)
      return PermissionDenied("serial number in client certificate different than body");
    auto prov = ProvisionerOf(cert.get(), *serial);
    if (prov.ok()) provisioner_id = prov->id;
    expires_at = CertNotAfter(cert.get());
    mtls = true;
  }

  Revocations revocations(store_);
  const Status already =
      InvalidArgument("certificate with serial number '" + *serial + "' is already revoked");
  auto is_revoked = revocations.IsRevoked(*serial);
  if (!is_revoked.ok()) return token_key.empty() ? is_revoked.status() : BeforeSpend(is_revoked.status());
  if (*is_revoked) return already;  // before the token is spent: nothing changed

  if (!token_key.empty()) {
    Status spent = SpentTokens(store_).Spend(token_key, provisioner_id, token_expiry, now);
    if (spent.code() == Code::kAlreadyExists)
      return Unauthenticated("authority.authorizeRevoke: token already used");
    STEPCA_RETURN_IF_ERROR(spent);
  }

  // An upstream CA is told first: a refusal there records nothing here.
  Status told = ca_.Revoke({*serial, static_cast<int>(req.reason_code), req.reason});
  if (!told.ok()) return token_key.empty() ? told : AfterSpend(told);

  RevocationRecord info;
  info.serial = *serial;
  info.provisioner_id = provisioner_id;
  info.reason_code = req.reason_code;
  info.reason = req.reason;
  info.revoked_at = now;
  info.expires_at = expires_at;
  info.token_id = token_key;
  info.mtls = mtls;
  info.acme = false;
  Status st = revocations.Revoke(info);
  if (st.code() == Code::kAlreadyExists) return already;
  if (!token_key.empty()) STEPCA_RETURN_IF_ERROR(AfterSpend(st));
  STEPCA_RETURN_IF_ERROR(st);
  return *serial;
}

}  // namespace stepca
