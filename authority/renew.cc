// Renew, rekey and passive revocation (step-ca's /renew, /rekey, /revoke).
//
// The client certificate comes from the request: the peer certificate of
// nginx's own TLS handshake, or one forwarded by a trusted TLS-terminating
// proxy (the module decides which; nginx itself does not verify it, with
// ssl_verify_client optional_no_ca). Here it is verified against the roots,
// federated roots and intermediates at the current time, as Go's TLS stack
// does for step-ca. Expired certificates renew through the x5cInsecure
// token instead, whose chain is verified at its leaf's NotAfter - 1m.
#include <openssl/sha.h>

#include <cctype>

#include "authority/authority.h"
#include "authority/jose/jws.h"
#include "authority/state/certificate_records.h"
#include "authority/state/revocations.h"
#include "authority/state/spent_tokens.h"
#include "authority/x509/chain.h"
#include "authority/x509/csr.h"
#include "shared/base64.h"

namespace stepca {
namespace {

constexpr char kProvisionerOid[] = "1.3.6.1.4.1.37476.9000.64.1";
constexpr char kRenewIssuer[] = "step-ca-client/1.0";
constexpr int kMaxReasonCode = 10;  // RFC 5280: aACompromise

std::string Sha256Hex(std::string_view data) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), md);
  return HexEncode(std::string(reinterpret_cast<char*>(md), sizeof md));
}

// One DER TLV at *p (definite length, at most 4 length bytes).
bool ReadTlv(std::string_view* in, unsigned char* tag, std::string_view* value) {
  if (in->size() < 2) return false;
  *tag = static_cast<unsigned char>((*in)[0]);
  size_t len = static_cast<unsigned char>((*in)[1]);
  size_t off = 2;
  if (len & 0x80) {
    const size_t n = len & 0x7f;
    if (n == 0 || n > 4 || in->size() < 2 + n) return false;
    len = 0;
    for (size_t i = 0; i < n; ++i) len = (len << 8) | static_cast<unsigned char>((*in)[2 + i]);
    off += n;
  }
  if (in->size() - off < len) return false;
  *value = in->substr(off, len);
  in->remove_prefix(off + len);
  return true;
}

// The provisioner name in step's extension; nullopt when there is none,
// "" with *bad when it does not parse.
std::optional<std::string> ProvisionerNameFromExtension(X509* cert, bool* bad) {
  *bad = false;
  std::unique_ptr<ASN1_OBJECT, OsslDeleter<ASN1_OBJECT, ASN1_OBJECT_free>> oid(
      OBJ_txt2obj(kProvisionerOid, 1));
  if (!oid) return std::nullopt;
  const int i = X509_get_ext_by_OBJ(cert, oid.get(), -1);
  if (i < 0) return std::nullopt;
  const ASN1_OCTET_STRING* os = X509_EXTENSION_get_data(X509_get_ext(cert, i));
  std::string_view in(reinterpret_cast<const char*>(ASN1_STRING_get0_data(os)),
                      static_cast<size_t>(ASN1_STRING_length(os)));
  unsigned char tag;
  std::string_view seq, type, name;
  if (!ReadTlv(&in, &tag, &seq) || tag != 0x30 || !ReadTlv(&seq, &tag, &type) || tag != 0x02 ||
      !ReadTlv(&seq, &tag, &name) || tag != 0x04) {
    *bad = true;
    return std::string();
  }
  return std::string(name);
}

// Go's big.Int SetString(s, 0) for non-negative values without
// underscores: 0x/0o/0b prefixes, a leading 0 for octal, else decimal.
std::optional<std::string> ParseSerial(const std::string& text) {
  if (text.empty() || text.size() > 160) return std::nullopt;
  std::string_view s = text;
  if (s[0] == '+') s.remove_prefix(1);
  unsigned base = 10;
  if (s.size() > 1 && s[0] == '0') {
    const char p = static_cast<char>(std::tolower(static_cast<unsigned char>(s[1])));
    if (p == 'x') base = 16, s.remove_prefix(2);
    else if (p == 'b') base = 2, s.remove_prefix(2);
    else if (p == 'o') base = 8, s.remove_prefix(2);
    else base = 8, s.remove_prefix(1);
  }
  if (s.empty()) return std::nullopt;
  BignumPtr bn(BN_new());
  if (!bn) return std::nullopt;
  for (char ch : s) {
    const int c = std::tolower(static_cast<unsigned char>(ch));
    unsigned d;
    if (c >= '0' && c <= '9') d = static_cast<unsigned>(c - '0');
    else if (c >= 'a' && c <= 'f') d = static_cast<unsigned>(c - 'a' + 10);
    else return std::nullopt;
    if (d >= base) return std::nullopt;
    if (BN_mul_word(bn.get(), base) != 1 || BN_add_word(bn.get(), d) != 1) return std::nullopt;
  }
  char* dec = BN_bn2dec(bn.get());
  if (dec == nullptr) return std::nullopt;
  std::string out(dec);
  OPENSSL_free(dec);
  return out;
}

// The token of "Authorization: Bearer <token>"; "" when there is none.
std::string_view BearerToken(std::string_view header) {
  constexpr std::string_view kBearer = "bearer";
  size_t i = 0;
  while (i < header.size() && header[i] == ' ') ++i;
  if (header.size() - i < kBearer.size()) return {};
  for (size_t k = 0; k < kBearer.size(); ++k) {
    if (std::tolower(static_cast<unsigned char>(header[i + k])) != kBearer[k]) return {};
  }
  std::string_view rest = header.substr(i + kBearer.size());
  if (rest.empty() || rest[0] != ' ') return {};
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  while (!rest.empty() && rest.back() == ' ') rest.remove_suffix(1);
  return rest;
}

}  // namespace

// The certificate a renew, rekey or revoke is about, and how it was proven.
struct RenewSubject {
  X509Ptr cert;
  bool by_token = false;
  TokenClaims claims;     // the renew token's, when by_token
  std::string token_key;  // its one-time-use key
};

// Which provisioner a certificate belongs to, as step-ca finds it.
struct CertProvisioner {
  const Provisioner* provisioner = nullptr;  // nullptr: step-ca's "noop"
  std::string id, name, type;
};

class Renewal {
 public:
  explicit Renewal(Authority& a) : a_(a) {}

  Result<X509Ptr> VerifiedPeer(std::string_view der, TimePoint now) {
    auto cert = ParseCertificateDer(der);
    if (!cert.ok())
      return Unauthenticated("client certificate is not valid").WithDetail(cert.status().message());
    ChainCheck check;
    check.roots = &a_.config_.roots;
    check.more_roots = &a_.config_.federated_roots;
    check.intermediates = &a_.config_.intermediates;
    check.at = now;
    Status st = VerifyClientChain(cert->get(), {}, check);
    if (!st.ok()) return st.Wrap("client certificate");
    return cert;
  }

  // step-ca's AuthorizeRenewToken, up to the provisioner-dependent checks.
  Result<RenewSubject> FromRenewToken(std::string_view token) {
    const Status invalid = Unauthenticated("authority.AuthorizeRenewToken: error validating renew token");
    auto jws = ParseCompactJws(token);
    if (!jws.ok()) return invalid.WithDetail(jws.status().message());
    auto chain = ParseX5cHeader(jws->header.get(), "x5cInsecure");
    if (!chain.ok()) return invalid.WithDetail(chain.status().message());
    X509Ptr leaf = std::move(chain->front());
    std::vector<X509Ptr> extra;
    for (size_t i = 1; i < chain->size(); ++i) extra.push_back(std::move((*chain)[i]));
    ChainCheck check;
    check.roots = &a_.config_.roots;
    check.intermediates = &a_.config_.intermediates;
    check.at = CertNotAfter(leaf.get()) - std::chrono::minutes(1);
    check.require_digital_signature = true;
    Status st = VerifyClientChain(leaf.get(), extra, check);
    if (!st.ok()) return invalid.WithDetail(st.message());
    st = VerifyJws(jws.value(), X509_get0_pubkey(leaf.get()));
    if (!st.ok()) return invalid.WithDetail(st.message());
    auto claims = ReadTokenClaims(jws->payload.get());
    if (!claims.ok()) return invalid.WithDetail(claims.status().message());
    RenewSubject out;
    out.cert = std::move(leaf);
    out.by_token = true;
    out.claims = std::move(claims).value();
    // No jti in step's renew tokens: the canonical header and payload.
    out.token_key = Sha256Hex("renew\n" + CanonicalTokenId(jws.value()));
    return out;
  }

  Result<CertProvisioner> ProvisionerOf(X509* cert, const std::string& serial) {
    CertProvisioner out;
    STEPCA_ASSIGN_OR_RETURN(auto rec, CertificateRecords(*a_.store_).Find(serial));
    if (rec && rec->provisioner && !rec->provisioner->name.empty()) {
      const std::string& name = rec->provisioner->name;
      out.provisioner = a_.config_.provisioners.ByName(name);
      if (out.provisioner == nullptr)
        return Unauthenticated("provisioner \"" + name + "\" of the certificate was not found");
      out.id = out.provisioner->id();
      out.name = out.provisioner->name();
      out.type = out.provisioner->type_name();
      return out;
    }
    bool bad = false;
    auto name = ProvisionerNameFromExtension(cert, &bad);
    if (bad) return Unauthenticated("the provisioner extension of the certificate does not parse");
    if (!name) return out;  // noop: the authority's claims apply
    out.provisioner = a_.config_.provisioners.ByName(*name);
    if (out.provisioner == nullptr)
      return Unauthenticated("provisioner \"" + *name + "\" of the certificate was not found");
    out.id = out.provisioner->id();
    out.name = out.provisioner->name();
    out.type = out.provisioner->type_name();
    return out;
  }

  Status CheckNotRevoked(const std::string& serial) {
    STEPCA_ASSIGN_OR_RETURN(bool revoked, Revocations(*a_.store_).IsRevoked(serial));
    if (revoked) return Unauthenticated("authority.authorizeRenew: certificate has been revoked");
    return Status::Ok();
  }

  Result<SignResult> Renew(const RenewRequest& req, TimePoint now) {
    RenewSubject subject;
    std::string_view bearer = req.rekey ? std::string_view() : BearerToken(req.authorization);
    if (!req.peer_cert_der.empty()) {
      STEPCA_ASSIGN_OR_RETURN(subject.cert, VerifiedPeer(req.peer_cert_der, now));
    } else if (!bearer.empty()) {
      STEPCA_ASSIGN_OR_RETURN(subject, FromRenewToken(bearer));
    } else {
      return InvalidArgument("missing client certificate");
    }
    X509* old = subject.cert.get();

    std::optional<Csr> csr;
    if (req.rekey) {
      if (req.csr_pem.empty()) return InvalidArgument("missing csr");
      auto parsed = ParseCsrPem(req.csr_pem);
      if (!parsed.ok()) return InvalidArgument("invalid csr").WithDetail(parsed.status().message());
      STEPCA_RETURN_IF_ERROR(CheckPublicKey(X509_REQ_get0_pubkey(parsed->req.get())));
      csr = std::move(parsed).value();
    }

    const std::string serial = SerialDecimal(old);
    STEPCA_RETURN_IF_ERROR(CheckNotRevoked(serial));
    STEPCA_ASSIGN_OR_RETURN(CertProvisioner prov, ProvisionerOf(old, serial));

    if (subject.by_token) {
      const TokenClaims& c = subject.claims;
      const std::string ctx = "authority.AuthorizeRenewToken";
      if (c.subject != CommonName(old))
        return Unauthenticated(ctx + ": invalid token: subject does not match the certificate");
      STEPCA_RETURN_IF_ERROR(CheckTimeClaims(c, now).Wrap(ctx));
      if (!a_.audiences_->Matches(TokenMethod::kRenew, c.audience))
        return Unauthenticated(ctx + ": invalid token: invalid audience");
      if (c.issuer != kRenewIssuer && (prov.provisioner == nullptr || c.issuer != prov.name))
        return Unauthenticated(ctx + ": invalid token: invalid issuer");
    }

    // step-ca's DefaultAuthorizeRenew.
    const Claims& claims =
        prov.provisioner != nullptr ? prov.provisioner->claims() : a_.config_.global_claims;
    if (claims.disable_renewal)
      return Unauthenticated("authority.authorizeRenew: renew is disabled for provisioner \"" +
                             prov.name + "\"");
    const TimePoint not_before = CertNotBefore(old), not_after = CertNotAfter(old);
    if (now < not_before)
      return Unauthenticated("authority.authorizeRenew: certificate is not yet valid");
    if (now > not_after && !claims.allow_renewal_after_expiry)
      return Unauthenticated("authority.authorizeRenew: certificate expired on " +
                             FormatRfc3339(not_after));

    // The same lifetime from now: step-ca's formula.
    const Duration backdate = a_.config_.backdate;
    ReissueRequest rr;
    rr.old = old;
    rr.new_public_key = csr ? X509_REQ_get0_pubkey(csr->req.get()) : nullptr;
    rr.validity.not_before = now - backdate;
    rr.validity.not_after = now + ((not_after - not_before) - backdate);
    if (rr.validity.not_after > a_.issuer_->not_after()) rr.validity.not_after = a_.issuer_->not_after();
    if (rr.validity.not_after <= rr.validity.not_before)
      return Unauthenticated("authority.Rekey: the certificate's lifetime is too short to renew");

    if (subject.by_token) {
      Status spent = SpentTokens(*a_.store_).Spend(
          subject.token_key, serial, TimePoint(std::chrono::seconds(*subject.claims.expiry)), now);
      if (spent.code() == Code::kAlreadyExists)
        return Unauthenticated("authority.AuthorizeRenewToken: token already used");
      STEPCA_RETURN_IF_ERROR(spent);
    }

    CertificateRecord intent;
    if (prov.provisioner != nullptr)
      intent.provisioner = CertificateProvisioner{prov.id, prov.name, prov.type};
    const std::string cn = CommonName(old);
    if (!cn.empty()) intent.names.push_back(cn);
    intent.not_after = rr.validity.not_after;
    (req.rekey ? intent.rekeyed_from : intent.renewed_from) = serial;
    auto issued = a_.SignRecorded(std::move(intent), now, [&](const std::string& new_serial) {
      rr.serial = new_serial;
      return a_.issuer_->Reissue(rr);
    });
    if (!issued.ok()) return issued.status().Wrap(req.rekey ? "authority.Rekey" : "authority.Renew");
    return SignResult{std::move(issued).value(), prov.name};
  }

  Result<std::string> Revoke(const RevokeRequest& req, TimePoint now) {
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
      auto jws = ParseCompactJws(req.ott);
      if (!jws.ok())
        return Unauthenticated("authority.authorizeRevoke: error parsing token")
            .WithDetail(jws.status().message());
      auto claims = ReadTokenClaims(jws->payload.get());
      if (!claims.ok()) return claims.status().Wrap("authority.authorizeRevoke");
      const std::string fragment = a_.audiences_->Fragment(TokenMethod::kRevoke, claims->audience);
      std::string selector = fragment;
      if (selector.empty()) {
        const json_t* kid = json_object_get(jws->header.get(), "kid");
        selector = claims->issuer + ":" + (json_is_string(kid) ? json_string_value(kid) : "");
      }
      const Provisioner* prov =
          a_.audiences_->Matches(TokenMethod::kRevoke, claims->audience, fragment)
              ? a_.config_.provisioners.BySelector(selector)
              : nullptr;
      if (prov == nullptr)
        return Unauthenticated("authority.authorizeRevoke: provisioner not found or invalid audience");
      auto grant = prov->AuthorizeRevoke(jws.value(), claims.value(), *a_.audiences_, now);
      if (!grant.ok()) return grant.status().Wrap("authority.authorizeRevoke");
      if (grant->subject != *serial)
        return PermissionDenied("token subject '" + grant->subject.substr(0, 64) +
                                "' does not match the serial number '" + *serial + "'");
      STEPCA_RETURN_IF_ERROR(a_.CheckIssuedAt(claims.value()));
      provisioner_id = grant->provisioner_id;
      token_key = grant->token_key;
      token_expiry = grant->token_expiry;
      STEPCA_ASSIGN_OR_RETURN(auto rec, CertificateRecords(*a_.store_).Find(*serial));
      if (rec) expires_at = rec->not_after;
    } else {
      if (req.peer_cert_der.empty()) return InvalidArgument("missing ott or client certificate");
      STEPCA_ASSIGN_OR_RETURN(X509Ptr cert, VerifiedPeer(req.peer_cert_der, now));
      if (SerialDecimal(cert.get()) != *serial)
        return PermissionDenied("serial number in client certificate different than body");
      auto prov = ProvisionerOf(cert.get(), *serial);
      if (prov.ok()) provisioner_id = prov->id;
      expires_at = CertNotAfter(cert.get());
      mtls = true;
    }

    Revocations revocations(*a_.store_);
    const Status already =
        InvalidArgument("certificate with serial number '" + *serial + "' is already revoked");
    STEPCA_ASSIGN_OR_RETURN(bool revoked, revocations.IsRevoked(*serial));
    if (revoked) return already;  // before the token is spent: nothing changed

    if (!token_key.empty()) {
      Status spent = SpentTokens(*a_.store_).Spend(token_key, provisioner_id, token_expiry, now);
      if (spent.code() == Code::kAlreadyExists)
        return Unauthenticated("authority.authorizeRevoke: token already used");
      STEPCA_RETURN_IF_ERROR(spent);
    }

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
    STEPCA_RETURN_IF_ERROR(st);
    return *serial;
  }

 private:
  Authority& a_;
};

Result<SignResult> Authority::Renew(const RenewRequest& request, TimePoint now) {
  return Renewal(*this).Renew(request, now);
}

Result<std::string> Authority::Revoke(const RevokeRequest& request, TimePoint now) {
  return Renewal(*this).Revoke(request, now);
}

}  // namespace stepca
