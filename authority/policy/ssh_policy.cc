#include "authority/policy/ssh_policy.h"

#include <openssl/rand.h>

#include <algorithm>

#include "authority/policy/token_authorization.h"
#include "authority/provisioner/jwk_provisioner.h"
#include "authority/provisioner/oidc_provisioner.h"
#include "authority/provisioner/provisioner_base.h"
#include "authority/ssh/public_key.h"
#include "authority/state/spent_tokens.h"
#include "authority/state/store_epoch.h"
#include "shared/base64.h"

namespace stepca {
namespace {

int64_t Seconds(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

// Go's %v of a []string: "[a b]".
std::string GoList(const std::vector<std::string>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) out += (i ? " " : "") + v[i];
  return out + "]";
}

// The token's "step.ssh" claim (step's SignSSHOptions).
struct TokenSshOptions {
  std::string cert_type, key_id;
  std::vector<std::string> principals;
  TimeDuration valid_after, valid_before;
};

Result<std::optional<TokenSshOptions>> ReadSshClaim(const json_t* payload) {
  const json_t* step = json_object_get(payload, "step");
  const json_t* ssh = json_object_get(step, "ssh");
  if (!json_is_object(ssh)) return std::optional<TokenSshOptions>();
  TokenSshOptions o;
  auto str = [&](const char* name, std::string* out) -> Status {
    const json_t* v = json_object_get(ssh, name);
    if (v == nullptr || json_is_null(v)) return Status::Ok();
    if (!json_is_string(v)) return Unauthenticated(std::string("step.ssh.") + name + " must be a string");
    *out = json_string_value(v);
    return Status::Ok();
  };
  STEPCA_RETURN_IF_ERROR(str("certType", &o.cert_type));
  STEPCA_RETURN_IF_ERROR(str("keyID", &o.key_id));
  for (const char* name : {"validAfter", "validBefore"}) {
    std::string s;
    STEPCA_RETURN_IF_ERROR(str(name, &s));
    auto td = ParseTimeDuration(s);
    if (!td) return Unauthenticated(std::string("step.ssh.") + name + " is not a time or duration");
    (name[5] == 'A' ? o.valid_after : o.valid_before) = *td;
  }
  const json_t* p = json_object_get(ssh, "principals");
  if (p != nullptr && !json_is_null(p)) {
    if (!json_is_array(p)) return Unauthenticated("step.ssh.principals must be a list");
    size_t i;
    const json_t* e;
    json_array_foreach(p, i, e) {
      if (!json_is_string(e)) return Unauthenticated("step.ssh.principals must be strings");
      o.principals.emplace_back(json_string_value(e));
    }
  }
  return std::optional<TokenSshOptions>(std::move(o));
}

// For tokens that name no certificate (K8sSA, whose step-ca default
// template is the request; OIDC admins): the request's type, key id and
// principals, all required.
Result<std::optional<TokenSshOptions>> RequestSshOptions(const SshSignRequest& req) {
  if (req.cert_type.empty()) return PermissionDenied("ssh certificate type cannot be empty");
  if (req.key_id.empty()) return PermissionDenied("ssh certificate key id cannot be empty");
  if (req.principals.empty()) return PermissionDenied("ssh certificate principals cannot be empty");
  TokenSshOptions o;
  o.cert_type = req.cert_type;
  o.key_id = req.key_id;
  o.principals = req.principals;
  return std::optional<TokenSshOptions>(std::move(o));
}

// An OIDC ID token names no certificate: step-ca's AuthorizeSSHSign gives
// an admin the certificate asked for (type, key id and principals
// required), anyone else a user certificate with the e-mail as key id and
// the principals of its identity.
Result<std::optional<TokenSshOptions>> OidcSshOptions(const OidcProvisioner& p, const Jws& jws,
                                                      const SshSignRequest& req) {
  STEPCA_ASSIGN_OR_RETURN(OidcSshIdentity id, p.SshIdentity(jws));
  if (id.admin) return RequestSshOptions(req);
  TokenSshOptions o;
  o.cert_type = "user";
  o.key_id = id.email;
  o.principals = id.principals;
  return std::optional<TokenSshOptions>(std::move(o));
}

bool SameTime(const TimeDuration& a, const TimeDuration& b, TimePoint now) {
  return a.Resolve(now) == b.Resolve(now);
}

Result<uint64_t> NewSshSerial() {
  uint64_t v = 0;
  while (v == 0) {
    if (RAND_bytes(reinterpret_cast<unsigned char*>(&v), sizeof v) != 1)
      return Internal("ssh: no randomness for the serial");
  }
  return v;
}

// sshDefaultPublicKeyValidator: RSA keys of at least 2048 bits.
Status CheckSubjectKey(const ssh::PublicKey& key) {
  if (EVP_PKEY_get_base_id(key.key.get()) == EVP_PKEY_RSA && EVP_PKEY_get_bits(key.key.get()) < 2048)
    return PermissionDenied("ssh certificate key must be at least 2048 bits (256 bytes)");
  return Status::Ok();
}

}  // namespace

struct SshPolicy::PopToken {
  AuthorizedToken token;  // jws and claims; provisioner and grant as below
  const Provisioner* provisioner = nullptr;
  ssh::Certificate cert;
  std::string serial;  // decimal
  std::string token_key;
  TimePoint expiry{};
};

SshPolicy::SshPolicy(SshPolicySettings settings, const ProvisionerCollection& provisioners,
                     Store& store, const Signer* user_signer, const Signer* host_signer,
                     const TimeSource& time)
    : settings_(std::move(settings)),
      provisioners_(provisioners),
      store_(store),
      user_(user_signer),
      host_(host_signer),
      time_(time),
      audiences_(settings_.dns_names),
      started_at_(time.Now()) {}

// The same rule as X.509 tokens (certificate_policy.cc): tokens older than
// the store's record of spent tokens are refused.
Status SshPolicy::CheckIssuedAt(const TokenClaims& claims) {
  if (settings_.disable_issued_at_check || !claims.issued_at) return Status::Ok();
  int64_t epoch = store_epoch_.load(std::memory_order_relaxed);
  if (epoch < 0) {
    STEPCA_ASSIGN_OR_RETURN(epoch, StoreEpoch(store_).ReadOrClaim(Seconds(started_at_)));
    store_epoch_.store(epoch, std::memory_order_relaxed);
  }
  if (*claims.issued_at < epoch)
    return Unauthenticated("authority.authorizeToken: token issued before the bootstrap of certificate authority");
  return Status::Ok();
}

Status SshPolicy::Spend(const std::string& key, const std::string& by, TimePoint expiry,
                        TimePoint now) {
  Status spent = SpentTokens(store_).Spend(key, by, expiry, now);
  if (spent.code() == Code::kAlreadyExists)
    return Unauthenticated("authority.authorizeToken: token already used");
  return spent;
}

Status SshPolicy::CheckNames(const Provisioner* provisioner, const ssh::Certificate& cert) const {
  if (settings_.name_policies == nullptr) return Status::Ok();
  return settings_.name_policies->CheckSsh(
      provisioner, cert.type == ssh::CertType::kHost ? SshCertType::kHost : SshCertType::kUser,
      cert.principals);
}

Status SshPolicy::SignAndRecord(ssh::Certificate* cert, uint64_t fixed_serial, const std::string& prov_id,
                                const std::string& prov_name, const std::string& prov_type,
                                const std::string& renewed_from, const std::string& rekeyed_from,
                                TimePoint now) {
  const Signer* signer = cert->type == ssh::CertType::kHost ? host_ : user_;
  if (signer == nullptr)
    return Unimplemented(std::string("authority.SignSSH: ") +
                         (cert->type == ssh::CertType::kHost ? "host" : "user") +
                         " certificate signing is not enabled");
  // A serial already recorded is drawn again, so no two certificates share
  // one.
  for (int attempt = 0; attempt < 4; ++attempt) {
    if (fixed_serial != 0) {
      cert->serial = fixed_serial;
    } else {
      STEPCA_ASSIGN_OR_RETURN(cert->serial, NewSshSerial());
    }
    cert->nonce.clear();
    STEPCA_RETURN_IF_ERROR(ssh::SignCertificate(cert, *signer).Wrap("authority.SignSSH: error signing certificate"));
    SshCertificateRecord r;
    r.serial = std::to_string(cert->serial);
    r.host = cert->type == ssh::CertType::kHost;
    r.key_id = cert->key_id;
    r.principals = cert->principals;
    r.provisioner_id = prov_id;
    r.provisioner_name = prov_name;
    r.provisioner_type = prov_type;
    r.valid_after = static_cast<int64_t>(cert->valid_after);
    r.valid_before = static_cast<int64_t>(std::min<uint64_t>(cert->valid_before, INT64_MAX));
    r.issued_at = now;
    r.renewed_from = renewed_from;
    r.rekeyed_from = rekeyed_from;
    r.wire = cert->wire;
    Status st = SshCertificates(store_).Record(r, now);
    if (st.code() == Code::kAlreadyExists && fixed_serial != 0)
      return InvalidArgument("ssh certificate serial " + std::to_string(fixed_serial) +
                             " from the template is already issued");
    if (st.code() == Code::kAlreadyExists) continue;
    if (!st.ok()) return Unavailable("error storing ssh certificate").WithDetail(st.message());
    return Status::Ok();
  }
  return Internal("authority.SignSSH: no free serial");
}

Result<SshSignResult> SshPolicy::Sign(const SshSignRequest& req, TimePoint now) {
  if (!enabled()) return Unimplemented("authority.SignSSH: ssh is not enabled");
  if (!req.cert_type.empty() && req.cert_type != "user" && req.cert_type != "host")
    return InvalidArgument("invalid certType '" + req.cert_type.substr(0, 32) + "'");
  if (req.public_key.empty()) return InvalidArgument("missing or empty publicKey");
  if (req.ott.empty()) return InvalidArgument("missing or empty ott");
  auto key = ssh::ParsePublicKeyBlob(req.public_key);
  if (!key.ok()) return InvalidArgument("error parsing publicKey").WithDetail(key.status().message());
  std::optional<ssh::PublicKey> add_user_key;
  if (!req.add_user_public_key.empty()) {
    auto k = ssh::ParsePublicKeyBlob(req.add_user_public_key);
    if (!k.ok()) return InvalidArgument("error parsing addUserPublicKey").WithDetail(k.status().message());
    add_user_key = std::move(k).value();
  }

  STEPCA_ASSIGN_OR_RETURN(AuthorizedToken token,
                          AuthorizeToken(TokenMethod::kSign, req.ott, provisioners_, audiences_, now));
  const Provisioner* prov = token.provisioner;
  const std::string ctx = prov->type() == ProvisionerType::kJwk ? "jwk.AuthorizeSSHSign" : "authorizeSSHSign";
  if (!prov->claims().enable_ssh_ca)
    return Unauthenticated(ctx + ": sshCA is disabled for provisioner '" + prov->name() + "'");
  std::optional<TokenSshOptions> topts;
  if (prov->type() == ProvisionerType::kOidc) {
    STEPCA_ASSIGN_OR_RETURN(topts, OidcSshOptions(*static_cast<const OidcProvisioner*>(prov), token.jws, req));
  } else if (prov->type() == ProvisionerType::kK8sSa) {
    STEPCA_ASSIGN_OR_RETURN(topts, RequestSshOptions(req));
  } else {
    STEPCA_ASSIGN_OR_RETURN(topts, ReadSshClaim(token.jws.payload.get()));
  }
  if (!topts) return Unauthenticated(ctx + ": token must be an SSH provisioning token");
  STEPCA_RETURN_IF_ERROR(CheckIssuedAt(token.claims));
  if (!topts->cert_type.empty() && topts->cert_type != "user" && topts->cert_type != "host")
    return Unauthenticated(ctx + ": invalid certType in token");

  // The request must agree with what the token grants (step-ca's
  // sshCertOptionsValidator).
  if (!topts->cert_type.empty() && !req.cert_type.empty() && topts->cert_type != req.cert_type)
    return PermissionDenied("ssh certificate type does not match - got " + req.cert_type +
                            ", want " + topts->cert_type);
  if (!topts->principals.empty() && !req.principals.empty()) {
    for (const auto& p : req.principals)
      if (std::find(topts->principals.begin(), topts->principals.end(), p) == topts->principals.end())
        return PermissionDenied("ssh certificate principals does not match - got " +
                                GoList(req.principals) + ", want " + GoList(topts->principals));
  }
  if (topts->valid_after.set() && req.valid_after.set() && !SameTime(topts->valid_after, req.valid_after, now))
    return PermissionDenied("ssh certificate valid after does not match");
  if (topts->valid_before.set() && req.valid_before.set() && !SameTime(topts->valid_before, req.valid_before, now))
    return PermissionDenied("ssh certificate valid before does not match");

  // step-ca's template data: the token's values, its subject by default
  // (the request's own type, key id and principals are .Insecure.CR).
  tmpl::SshTemplateInput in;
  in.type = !topts->cert_type.empty() ? topts->cert_type : "user";
  in.key_id = !topts->key_id.empty() ? topts->key_id : token.claims.subject;
  in.principals = !topts->principals.empty() ? topts->principals
                                             : std::vector<std::string>{token.claims.subject};
  if (in.type == "user") in.extensions = ssh::DefaultUserExtensions();
  in.token = token.jws.payload.get();
  in.user_data = req.template_data.get();
  in.request_type = req.cert_type;
  in.request_key_id = req.key_id;
  in.request_principals = req.principals;
  auto tpl = settings_.templates.find(prov->id());
  const SshTemplateOptions& template_options =
      tpl != settings_.templates.end() && tpl->second ? *tpl->second : *DefaultSshTemplateOptions();
  STEPCA_ASSIGN_OR_RETURN(SshCertificateFields fields, RenderSshTemplate(template_options, std::move(in)));
  ssh::Certificate cert;
  cert.key_blob = key->blob;
  cert.type = fields.type;
  cert.key_id = std::move(fields.key_id);
  cert.principals = std::move(fields.principals);
  cert.extensions = std::move(fields.extensions);
  cert.critical_options = std::move(fields.critical_options);
  // sshCertDefaultValidator, checked here before the token is spent.
  if (cert.key_id.empty()) return PermissionDenied("ssh certificate key id cannot be empty");

  // Validity (sshDefaultDuration, then sshCertValidityValidator).
  const Claims& claims = prov->claims();
  const bool host = cert.type == ssh::CertType::kHost;
  const Duration def = host ? claims.default_host_ssh : claims.default_user_ssh;
  const Duration min = host ? claims.min_host_ssh : claims.min_user_ssh;
  const Duration max = host ? claims.max_host_ssh : claims.max_user_ssh;
  const TimeDuration& va = topts->valid_after.set() ? topts->valid_after : req.valid_after;
  const TimeDuration& vb = topts->valid_before.set() ? topts->valid_before : req.valid_before;
  int64_t after = va.set() ? Seconds(va.Resolve(now)) : Seconds(now);
  int64_t before = vb.set() ? Seconds(vb.Resolve(now))
                            : after + std::chrono::duration_cast<std::chrono::seconds>(def).count();
  const int64_t backdate = std::chrono::duration_cast<std::chrono::seconds>(settings_.backdate).count();
  if (!va.set() && after > backdate) after -= backdate;
  const int64_t now_s = Seconds(now);
  if (after <= 0) return InvalidArgument("ssh certificate validAfter cannot be 0");
  if (before < now_s) return InvalidArgument("ssh certificate validBefore cannot be in the past");
  if (before < after) return InvalidArgument("ssh certificate validBefore cannot be before validAfter");
  // The backdate does not count: a start in the past counts from now.
  const Duration dur = std::chrono::seconds(before - std::max(after, now_s));
  if (dur < min)
    return PermissionDenied("requested duration of " + FormatGoDuration(dur) +
                            " is less than minimum accepted duration for selected provisioner of " +
                            FormatGoDuration(min));
  if (dur > max + settings_.backdate)
    return PermissionDenied("requested duration of " + FormatGoDuration(dur) +
                            " is more than the authorized maximum of " + FormatGoDuration(max));
  cert.valid_after = static_cast<uint64_t>(after);
  cert.valid_before = static_cast<uint64_t>(before);
  STEPCA_RETURN_IF_ERROR(CheckSubjectKey(*key));
  STEPCA_RETURN_IF_ERROR(CheckNames(prov, cert));
  if ((host ? host_ : user_) == nullptr)
    return Unimplemented(std::string("authority.SignSSH: ") + (host ? "host" : "user") +
                         " certificate signing is not enabled");

  // Spend the token before anything is signed: one winner in the fleet.
  // (A K8sSA token is the pod's standing credential: nothing to spend.)
  if (!token.grant.token_key.empty())
    STEPCA_RETURN_IF_ERROR(Spend(token.grant.token_key, token.grant.provisioner_id,
                                 token.grant.token_expiry, now));
  STEPCA_RETURN_IF_ERROR(SignAndRecord(&cert, fields.serial, prov->id(), prov->name(), prov->type_name(), "", "", now));
  SshSignResult out;
  out.provisioner = prov->name();
  if (add_user_key && cert.type == ssh::CertType::kUser && !cert.principals.empty()) {
    // step-ca's SignSSHAddUser: a certificate that may only create the
    // user on first login.
    ssh::Certificate add;
    add.key_blob = add_user_key->blob;
    add.type = ssh::CertType::kUser;
    const std::string principal = cert.principals[0];
    add.key_id = principal + "-" + settings_.add_user_principal;
    add.principals = {settings_.add_user_principal};
    add.valid_after = cert.valid_after;
    add.valid_before = cert.valid_before;
    std::string command = settings_.add_user_command;
    for (size_t at; (at = command.find("<principal>")) != std::string::npos;)
      command.replace(at, 11, principal);
    add.critical_options = {{"force-command", command}};
    STEPCA_RETURN_IF_ERROR(SignAndRecord(&add, 0, prov->id(), prov->name(), prov->type_name(), "", "", now));
    out.add_user = std::move(add);
  }
  out.cert = std::move(cert);
  return out;
}

// SSHPOP: the token's "sshpop" header carries a certificate this CA
// issued; the token is signed by that certificate's key.
Result<SshPolicy::PopToken> SshPolicy::AuthorizePop(TokenMethod method, std::string_view ott,
                                                    TimePoint now) {
  PopToken out;
  auto jws = ParseCompactJws(ott);
  if (!jws.ok())
    return Unauthenticated("authority.authorizeToken: error parsing token").WithDetail(jws.status().message());
  out.token.jws = std::move(jws).value();
  STEPCA_ASSIGN_OR_RETURN(out.token.claims, ReadTokenClaims(out.token.jws.payload.get()));
  const TokenClaims& claims = out.token.claims;
  const std::string fragment = audiences_.Fragment(method, claims.audience);
  const Provisioner* prov = fragment.empty() || !audiences_.Matches(method, claims.audience, fragment)
                                ? nullptr
                                : provisioners_.BySelector(fragment);
  if (prov == nullptr || prov->type() != ProvisionerType::kSshPop)
    return Unauthenticated("authority.authorizeToken: provisioner not found or invalid audience");
  out.provisioner = prov;
  const json_t* h = json_object_get(out.token.jws.header.get(), "sshpop");
  if (!json_is_string(h)) return Unauthenticated("sshpop.authorizeToken: token missing sshpop header");
  auto wire = Base64Decode(json_string_value(h));
  if (!wire) return Unauthenticated("sshpop.authorizeToken: error decoding sshpop header");
  auto cert = ssh::ParseCertificate(*wire);
  if (!cert.ok())
    return Unauthenticated("sshpop.authorizeToken: error parsing sshpop header certificate").WithDetail(cert.status().message());
  // The certificate must be ours: signed by the CA key of its type.
  const Signer* ca = cert->type == ssh::CertType::kHost ? host_ : user_;
  auto ca_blob = ca ? ssh::MarshalPublicKey(ca->PublicKey()) : Result<std::string>(Internal("none"));
  if (!ca_blob.ok() || *ca_blob != cert->signature_key || !ssh::VerifyCertificate(*cert).ok())
    return Unauthenticated("sshpop.authorizeToken: could not find valid sshpop certificate");
  auto subject_key = ssh::KeyOf(cert->key_blob);
  if (!subject_key.ok()) return Unauthenticated("sshpop.authorizeToken: invalid certificate key");
  STEPCA_RETURN_IF_ERROR(VerifyJws(out.token.jws, subject_key->get()).Wrap("sshpop.authorizeToken"));
  if (claims.issuer != prov->name())
    return Unauthenticated("sshpop.authorizeToken: invalid issuer \"" + claims.issuer + "\"");
  STEPCA_RETURN_IF_ERROR(CheckTimeClaims(claims, now).Wrap("sshpop.authorizeToken"));
  if (claims.subject.empty()) return Unauthenticated("sshpop.authorizeToken: token subject is empty");
  if (!prov->claims().enable_ssh_ca)
    return Unauthenticated("sshpop.authorizeToken: sshCA is disabled for provisioner '" + prov->name() + "'");
  out.serial = std::to_string(cert->serial);
  STEPCA_ASSIGN_OR_RETURN(bool revoked, SshCertificates(store_).IsRevoked(out.serial));
  if (revoked) return Unauthenticated("sshpop.authorizeToken: sshpop certificate is revoked");
  STEPCA_RETURN_IF_ERROR(CheckIssuedAt(claims));
  out.cert = std::move(cert).value();
  STEPCA_ASSIGN_OR_RETURN(out.token_key, TokenUseKey(prov->id(), claims, "sshpop.authorizeToken"));
  out.expiry = TimePoint(std::chrono::seconds(*claims.expiry));
  return out;
}

Result<ssh::Certificate> SshPolicy::Reissue(const PopToken& t, std::string key_blob, bool rekey,
                                            TimePoint now) {
  const ssh::Certificate& old = t.cert;
  const char* ctx = rekey ? "sshpop.AuthorizeSSHRekey" : "sshpop.AuthorizeSSHRenew";
  if (old.type != ssh::CertType::kHost)
    return Unauthenticated(std::string(ctx) + ": sshpop certificate must be a host ssh certificate");
  const int64_t now_s = Seconds(now);
  // Rekey needs a certificate valid now; renew only one that has begun.
  if (static_cast<int64_t>(old.valid_after) > now_s)
    return Unauthenticated(std::string(ctx) + ": sshpop certificate is not yet valid");
  if (rekey && old.valid_before != ssh::kForever && static_cast<int64_t>(old.valid_before) < now_s)
    return Unauthenticated(std::string(ctx) + ": sshpop certificate is expired");
  if (old.valid_before <= old.valid_after)
    return InvalidArgument("cannot renew a certificate without a validity period");
  ssh::Certificate cert;
  cert.key_blob = std::move(key_blob);
  cert.type = old.type;
  cert.key_id = old.key_id;
  cert.principals = old.principals;
  cert.critical_options = old.critical_options;
  cert.extensions = old.extensions;
  const int64_t backdate = std::chrono::duration_cast<std::chrono::seconds>(settings_.backdate).count();
  const uint64_t duration = old.valid_before - old.valid_after;
  cert.valid_after = static_cast<uint64_t>(now_s - backdate);
  cert.valid_before = static_cast<uint64_t>(now_s) + duration - static_cast<uint64_t>(backdate);
  // Today's policies, as for X.509 renewals (README "Name policies").
  STEPCA_RETURN_IF_ERROR(CheckNames(t.provisioner, cert));
  STEPCA_RETURN_IF_ERROR(Spend(t.token_key, t.serial, t.expiry, now));
  STEPCA_RETURN_IF_ERROR(SignAndRecord(&cert, 0, t.provisioner->id(), t.provisioner->name(),
                                       t.provisioner->type_name(), rekey ? "" : t.serial,
                                       rekey ? t.serial : "", now));
  return cert;
}

Result<SshSignResult> SshPolicy::Renew(std::string_view ott, TimePoint now) {
  if (!enabled()) return Unimplemented("authority.RenewSSH: ssh is not enabled");
  if (ott.empty()) return InvalidArgument("missing or empty ott");
  STEPCA_ASSIGN_OR_RETURN(PopToken t, AuthorizePop(TokenMethod::kSshRenew, ott, now));
  std::string blob = t.cert.key_blob;
  STEPCA_ASSIGN_OR_RETURN(ssh::Certificate cert, Reissue(t, std::move(blob), false, now));
  SshSignResult out;
  out.cert = std::move(cert);
  out.provisioner = t.provisioner->name();
  return out;
}

Result<SshSignResult> SshPolicy::Rekey(std::string_view ott, std::string_view public_key,
                                       TimePoint now) {
  if (!enabled()) return Unimplemented("authority.RekeySSH: ssh is not enabled");
  if (public_key.empty()) return InvalidArgument("missing or empty publicKey");
  if (ott.empty()) return InvalidArgument("missing or empty ott");
  auto key = ssh::ParsePublicKeyBlob(public_key);
  if (!key.ok()) return InvalidArgument("error parsing publicKey").WithDetail(key.status().message());
  STEPCA_RETURN_IF_ERROR(CheckSubjectKey(*key));
  STEPCA_ASSIGN_OR_RETURN(PopToken t, AuthorizePop(TokenMethod::kSshRekey, ott, now));
  STEPCA_ASSIGN_OR_RETURN(ssh::Certificate cert, Reissue(t, key->blob, true, now));
  SshSignResult out;
  out.cert = std::move(cert);
  out.provisioner = t.provisioner->name();
  return out;
}

Status SshPolicy::Revoke(const SshRevokeRequest& req, TimePoint now) {
  if (req.serial.empty()) return InvalidArgument("missing serial");
  if (req.ott.empty()) return InvalidArgument("missing ott");
  if (!req.passive) return Unimplemented("non-passive revocation not implemented");
  RevocationRecord rec;
  rec.serial = req.serial;
  rec.reason_code = req.reason_code;
  rec.reason = req.reason;
  rec.revoked_at = now;
  // An SSHPOP token names its certificate; any other is a provisioner's
  // revoke token whose subject is the serial.
  auto jws = ParseCompactJws(req.ott);
  if (!jws.ok())
    return Unauthenticated("authority.authorizeRevoke: error parsing token").WithDetail(jws.status().message());
  std::string token_key, by;
  TimePoint expiry{};
  if (json_object_get(jws->header.get(), "sshpop") != nullptr) {
    STEPCA_ASSIGN_OR_RETURN(PopToken t, AuthorizePop(TokenMethod::kSshRevoke, req.ott, now));
    const int64_t now_s = Seconds(now);
    if (static_cast<int64_t>(t.cert.valid_after) > now_s ||
        (t.cert.valid_before != ssh::kForever && static_cast<int64_t>(t.cert.valid_before) < now_s))
      return Unauthenticated("sshpop.AuthorizeSSHRevoke: sshpop certificate is not valid now");
    if (t.token.claims.subject != req.serial || t.serial != req.serial)
      return Unauthenticated("sshpop.AuthorizeSSHRevoke: sshpop token subject must be equivalent to sshpop certificate serial number");
    token_key = t.token_key;
    by = t.provisioner->id();
    expiry = t.expiry;
    rec.provisioner_id = by;
    rec.token_id = t.token.claims.id;
  } else {
    auto claims = ReadTokenClaims(jws->payload.get());
    if (!claims.ok()) return claims.status().Wrap("authority.authorizeRevoke");
    const json_t* kid = json_object_get(jws->header.get(), "kid");
    const Provisioner* p = provisioners_.BySelector(claims->issuer + ":" +
                                                    (json_is_string(kid) ? json_string_value(kid) : ""));
    const JwkProvisioner* jwk = p && p->type() == ProvisionerType::kJwk ? static_cast<const JwkProvisioner*>(p) : nullptr;
    if (jwk == nullptr) return Unauthenticated("authority.authorizeRevoke: provisioner not found or invalid audience");
    STEPCA_ASSIGN_OR_RETURN(SignGrant g, jwk->AuthorizeSshRevoke(*jws, *claims, audiences_, now));
    if (!jwk->claims().enable_ssh_ca)
      return Unauthenticated("jwk.AuthorizeSSHRevoke: sshCA is disabled for provisioner '" + jwk->name() + "'");
    if (g.subject != req.serial)
      return Unauthenticated("jwk.AuthorizeSSHRevoke: token subject must be the serial of the certificate");
    token_key = g.token_key;
    by = g.provisioner_id;
    expiry = g.token_expiry;
    rec.provisioner_id = by;
    rec.token_id = claims->id;
  }
  STEPCA_RETURN_IF_ERROR(Spend(token_key, by, expiry, now));
  Status st = SshCertificates(store_).Revoke(rec);
  if (st.code() == Code::kAlreadyExists)
    return InvalidArgument("ssh certificate with serial number '" + req.serial + "' is already revoked");
  return st;
}

}  // namespace stepca
