#include "authority/config/ca_config.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <strings.h>

#include <algorithm>
#include <cctype>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "authority/config/field_inventory.h"
#include "authority/config/upstream_config.h"
#include "authority/jose/jwk.h"
#include "authority/ssh/public_key.h"
#include "authority/provisioner/parse_provisioner.h"
#include "authority/signer/file_signer.h"
#include "authority/signer/key_uri.h"
#include "authority/signer/kms_key.h"
#include "authority/x509/template_profile.h"
#include "shared/base64.h"

namespace stepca {
namespace {

std::string Quote(const std::string& s) { return "\"" + s + "\""; }

class Loader {
 public:
  explicit Loader(const CaConfigOptions& o) : opts_(o) {
    size_t slash = o.path.rfind('/');
    dir_ = slash == std::string::npos ? "." : o.path.substr(0, slash == 0 ? 1 : slash);
  }

  Result<CaConfig> Load();

 private:
  Status Err(const std::string& field, const std::string& msg) const {
    return InvalidArgument(opts_.path + ": field " + Quote(field) + ": " + msg);
  }
  void Warn(const std::string& msg) { cfg_.warnings.push_back(opts_.path + ": " + msg); }
  std::string Resolve(const std::string& p) const {
    if (p.empty() || p[0] == '/') return p;
    return dir_ + "/" + p;
  }
  Result<std::string> StringField(const json_t* obj, const char* name, const std::string& field,
                                  bool required);
  Result<std::vector<std::string>> PathList(const json_t* v, const std::string& field);
  Status LoadCertificates();
  Status LoadFederatedRoots();
  Status RefuseLocalKey(const json_t* root);
  bool IsPinnedRoot(const json_t* v) const;
  Status LoadKey(const json_t* root);
  Result<EvpPkeyPtr> ReadKey(const std::string& field, const std::string& path,
                             const std::string& password);
  Status LoadSshKeys(const json_t* root, const std::string& password);
  Status LoadOcspResponder(const json_t* root, const std::string& password);
  Result<KmsSettings> ReadKms(const json_t* root);
  Result<KmsKey> OpenKeyUri(const json_t* root, const std::string& field, const std::string& key,
                            KeyScheme scheme, KeyUse use);
  Status LoadAuthority(const json_t* root);
  Status NoteUnmapped(const json_t* root);

  CaConfigOptions opts_;
  std::string dir_;
  CaConfig cfg_;
  std::vector<std::string> root_paths_, federated_paths_;
  std::string crt_path_;
};

Result<std::string> Loader::StringField(const json_t* obj, const char* name,
                                        const std::string& field, bool required) {
  const json_t* v = json_object_get(obj, name);
  if (v == nullptr || json_is_null(v)) {
    if (required) return Err(field, "is required");
    return std::string();
  }
  if (!json_is_string(v)) return Err(field, "must be a string");
  std::string s(json_string_value(v), json_string_length(v));
  if (required && s.empty()) return Err(field, "is required");
  return s;
}

Result<std::vector<std::string>> Loader::PathList(const json_t* v, const std::string& field) {
  std::vector<std::string> out;
  if (v == nullptr || json_is_null(v)) return out;
  if (json_is_string(v)) {
    out.push_back(Resolve(json_string_value(v)));
    return out;
  }
  if (!json_is_array(v)) return Err(field, "must be a path or a list of paths");
  size_t i;
  const json_t* e;
  json_array_foreach(v, i, e) {
    if (!json_is_string(e)) return Err(field + "[" + std::to_string(i) + "]", "must be a path");
    out.push_back(Resolve(json_string_value(e)));
  }
  return out;
}

Status Loader::LoadCertificates() {
  for (size_t i = 0; i < root_paths_.size(); ++i) {
    auto certs = ReadCertificates(root_paths_[i]);
    if (!certs.ok()) return Err(root_paths_.size() == 1 ? "root" : "root[" + std::to_string(i) + "]",
                                certs.status().message());
    for (auto& c : certs.value()) cfg_.roots.push_back(std::move(c));
  }
  STEPCA_RETURN_IF_ERROR(LoadFederatedRoots());
  auto inter = ReadCertificates(crt_path_);
  if (!inter.ok()) return Err("crt", inter.status().message());
  cfg_.intermediates = std::move(inter).value();

  // The issuing certificate must chain to a configured root, today.
  X509StorePtr store(X509_STORE_new());
  for (auto& r : cfg_.roots) X509_STORE_add_cert(store.get(), r.get());
  STACK_OF(X509)* untrusted = sk_X509_new_null();
  for (size_t i = 1; i < cfg_.intermediates.size(); ++i)
    sk_X509_push(untrusted, cfg_.intermediates[i].get());
  X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  X509_STORE_CTX_init(ctx.get(), store.get(), cfg_.intermediates[0].get(), untrusted);
  const int verified = X509_verify_cert(ctx.get());
  sk_X509_free(untrusted);
  if (verified != 1) {
    int e = X509_STORE_CTX_get_error(ctx.get());
    return Err("crt", crt_path_ + " does not chain to the configured root: " +
                          X509_verify_cert_error_string(e));
  }
  BASIC_CONSTRAINTS* bc = static_cast<BASIC_CONSTRAINTS*>(
      X509_get_ext_d2i(cfg_.intermediates[0].get(), NID_basic_constraints, nullptr, nullptr));
  bool is_ca = bc != nullptr && bc->ca;
  BASIC_CONSTRAINTS_free(bc);
  if (!is_ca) return Err("crt", crt_path_ + " is not a CA certificate");
  return Status::Ok();
}

Status Loader::LoadFederatedRoots() {
  for (size_t i = 0; i < federated_paths_.size(); ++i) {
    auto certs = ReadCertificates(federated_paths_[i]);
    if (!certs.ok())
      return Err("federatedRoots[" + std::to_string(i) + "]", certs.status().message());
    for (auto& c : certs.value()) cfg_.federated_roots.push_back(std::move(c));
  }
  return Status::Ok();
}

// A registration authority signs nothing itself. A ca.json that still
// names a root, crt or key would leave its operator unsure which CA signs
// (and step-ca's own RA silently ignores them), so they are refused.
// `step ca init --ra` writes the upstream root it downloaded as "root"
// (and "crt", "key" empty): a root that is exactly the pinned upstream root
// changes nothing and is accepted; any other is refused with crt and key.
Status Loader::RefuseLocalKey(const json_t* root) {
  std::vector<std::string> present;
  for (const char* f : {"root", "crt", "key"}) {
    const json_t* v = json_object_get(root, f);
    if (v != nullptr && !json_is_null(v) && !(json_is_string(v) && json_string_length(v) == 0) &&
        !(json_is_array(v) && json_array_size(v) == 0) &&
        !(std::string(f) == "root" && IsPinnedRoot(v)))
      present.push_back(f);
  }
  if (present.empty()) return Status::Ok();
  std::string list;
  for (size_t i = 0; i < present.size(); ++i)
    list += (i == 0 ? "" : i + 1 == present.size() ? " and " : ", ") + Quote(present[i]);
  return Err(present[0], "a registration authority (authority.type " + Quote(cfg_.ra.type_name) +
                             ") holds no signing key and takes its root from the upstream CA: "
                             "remove " + list + " from ca.json (a \"root\" may stay only when it "
                             "is the upstream root certificateAuthorityFingerprint pins)");
}

bool Loader::IsPinnedRoot(const json_t* v) const {
  if (!json_is_string(v)) return false;
  auto certs = ReadCertificates(Resolve(json_string_value(v)));
  if (!certs.ok() || certs->size() != 1) return false;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  X509_digest(certs->front().get(), EVP_sha256(), md, &n);
  return HexEncode(std::string(reinterpret_cast<char*>(md), n)) == cfg_.ra.fingerprint;
}

Status Loader::LoadKey(const json_t* root) {
  auto key_path = StringField(root, "key", "key", true);
  if (!key_path.ok()) return key_path.status();
  auto scheme = ClassifyKey(key_path.value());
  if (!scheme.ok()) return Err("key", scheme.status().message());
  cfg_.key_scheme = scheme.value();
  const bool on_token = scheme.value() != KeyScheme::kFile;
  if (on_token) {
    STEPCA_ASSIGN_OR_RETURN(KmsKey k, OpenKeyUri(root, "key", key_path.value(), scheme.value(),
                                                 KeyUse::kX509));
    if (EVP_PKEY_eq(X509_get0_pubkey(cfg_.intermediates[0].get()), k.signer->PublicKey()) != 1) {
      ERR_clear_error();
      return Err("key", "the key " + k.description + " " + k.place +
                            " does not match the certificate in " + crt_path_);
    }
    cfg_.signer = std::move(k.signer);
  } else {
    STEPCA_ASSIGN_OR_RETURN(KmsSettings kms, ReadKms(root));
    if (kms.present && !kms.type.empty())
      return Err("key", "kms.type is " + kms.type + ", so key must be a " + kms.type +
                            " key URI (e.g. " +
                            (kms.type == "pkcs11" ? "pkcs11:id=7331;object=intermediate-key"
                             : kms.type == "yubikey" ? "yubikey:slot-id=9c"
                             : kms.type == "awskms" ? "awskms:key-id=<key id>"
                             : kms.type == "azurekms" ? "azurekms:name=<key>;vault=<vault>"
                             : "projects/<p>/locations/<l>/keyRings/<r>/cryptoKeys/<k>/cryptoKeyVersions/<n>") +
                            ")");
  }
  const std::string path = on_token ? std::string() : Resolve(key_path.value());

  std::string password;
  if (!opts_.password_file.empty()) {
    auto p = ReadPasswordFile(opts_.password_file);
    if (!p.ok()) return InvalidArgument("password file " + opts_.password_file + ": " + p.status().message());
    password = std::move(p).value();
  } else {
    auto p = StringField(root, "password", "password", false);
    if (!p.ok()) return p.status();
    password = std::move(p).value();
    if (password.empty()) {
      const json_t* auth = json_object_get(root, "authority");
      auto ap = StringField(auth, "password", "authority.password", false);
      if (!ap.ok()) return ap.status();
      password = std::move(ap).value();
    }
  }

  // With the intermediate key on a token or in a KMS, the SSH CA key
  // files (if any) are still unlocked with the configured password, as
  // step-ca does.
  if (on_token) {
    Status ssh = LoadSshKeys(root, password);
    if (ssh.ok()) ssh = LoadOcspResponder(root, password);
    Wipe(password);
    return ssh;
  }
  auto key = ReadKey("key", path, password);
  Status ssh = key.ok() ? LoadSshKeys(root, password) : Status::Ok();
  if (key.ok() && ssh.ok()) ssh = LoadOcspResponder(root, password);
  Wipe(password);
  if (!key.ok()) return key.status();
  STEPCA_RETURN_IF_ERROR(ssh);
  if (X509_check_private_key(cfg_.intermediates[0].get(), key->get()) != 1) {
    ERR_clear_error();
    return Err("key", path + " does not match the certificate in " + crt_path_);
  }
  cfg_.key = std::move(key).value();
  return Status::Ok();
}

Result<EvpPkeyPtr> Loader::ReadKey(const std::string& field, const std::string& path,
                                   const std::string& password) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Err(field, "cannot read " + path + ": " + std::strerror(errno));
  std::stringstream pem;
  pem << in.rdbuf();
  std::string text = pem.str();
  auto key = LoadPrivateKeyPem(text, password);
  Wipe(text);
  if (!key.ok()) {
    std::string why = key.status().message();
    if (password.empty()) why += " (no password given: set stepca_password_file or \"password\")";
    return Err(field, path + ": " + why);
  }
  return key;
}

// A delegated OCSP responder: relying parties accept its answers only when
// the certificate's issuer issued it for OCSPSigning (RFC 6960 4.2.2.2), so
// anything else is refused at load rather than answered and rejected.
Status Loader::LoadOcspResponder(const json_t* root, const std::string& password) {
  const json_t* o = json_object_get(json_object_get(root, "nginxStepca"), "ocsp");
  auto cert_path = StringField(o, "responderCert", "nginxStepca.ocsp.responderCert", false);
  if (!cert_path.ok()) return cert_path.status();
  auto key_path = StringField(o, "responderKey", "nginxStepca.ocsp.responderKey", false);
  if (!key_path.ok()) return key_path.status();
  if (cert_path->empty() || key_path->empty()) return Status::Ok();
  const std::string field = "nginxStepca.ocsp.responderCert";
  auto certs = ReadCertificates(Resolve(cert_path.value()));
  if (!certs.ok()) return Err(field, certs.status().message());
  if (certs->empty()) return Err(field, "no certificate in " + cert_path.value());
  X509Ptr cert = std::move(certs->front());
  X509* issuer = cfg_.intermediates.empty() ? nullptr : cfg_.intermediates[0].get();
  if (issuer == nullptr || X509_check_issued(issuer, cert.get()) != X509_V_OK ||
      X509_verify(cert.get(), X509_get0_pubkey(issuer)) != 1) {
    ERR_clear_error();
    return Err(field, cert_path.value() + " was not issued by the certificate in " + crt_path_);
  }
  if ((X509_get_extension_flags(cert.get()) & EXFLAG_XKUSAGE) == 0 ||
      (X509_get_extended_key_usage(cert.get()) & XKU_OCSP_SIGN) == 0)
    return Err(field, cert_path.value() + " has no extended key usage OCSPSigning");
  auto key = ReadKey("nginxStepca.ocsp.responderKey", Resolve(key_path.value()), password);
  if (!key.ok()) return key.status();
  if (X509_check_private_key(cert.get(), key->get()) != 1) {
    ERR_clear_error();
    return Err("nginxStepca.ocsp.responderKey", key_path.value() + " does not match " + cert_path.value());
  }
  cfg_.ocsp_responder_cert = std::move(cert);
  cfg_.ocsp_responder_key = std::move(key).value();
  return Status::Ok();
}

// step-ca decrypts the SSH CA keys with the intermediate key's password.
Status Loader::LoadSshKeys(const json_t* root, const std::string& password) {
  const json_t* ssh = json_object_get(root, "ssh");
  if (ssh == nullptr || json_is_null(ssh)) return Status::Ok();
  if (!json_is_object(ssh)) return Err("ssh", "must be an object");
  for (const char* name : {"hostKey", "userKey"}) {
    const std::string field = std::string("ssh.") + name;
    auto p = StringField(ssh, name, field, false);
    if (!p.ok()) return p.status();
    if (p->empty()) continue;
    auto scheme = ClassifyKey(p.value());
    if (!scheme.ok()) return Err(field, scheme.status().message());
    if (scheme.value() != KeyScheme::kFile) {
      // The SSH CA public key is read from the token or KMS (and its type
      // checked) here, so /ssh/roots serves it and nginx -t fails on a
      // key that is missing or cannot sign.
      STEPCA_ASSIGN_OR_RETURN(KmsKey k, OpenKeyUri(root, field, p.value(), scheme.value(),
                                                   KeyUse::kSsh));
      (name[0] == 'h' ? cfg_.ssh_host_signer : cfg_.ssh_user_signer) = std::move(k.signer);
      continue;
    }
    STEPCA_ASSIGN_OR_RETURN(EvpPkeyPtr key, ReadKey(field, Resolve(p.value()), password));
    auto alg = AlgorithmForKey(key.get());
    if (!alg.ok()) return Err(field, alg.status().message());
    (name[0] == 'h' ? cfg_.ssh_host_key : cfg_.ssh_user_key) = std::move(key);
  }
  for (const char* name : {"addUserPrincipal", "addUserCommand"}) {
    auto v = StringField(ssh, name, std::string("ssh.") + name, false);
    if (!v.ok()) return v.status();
    if (!v->empty()) (name[7] == 'P' ? cfg_.ssh_add_user_principal : cfg_.ssh_add_user_command) = v.value();
  }
  const json_t* keys = json_object_get(ssh, "keys");
  if (keys != nullptr && !json_is_null(keys)) {
    if (!json_is_array(keys)) return Err("ssh.keys", "must be a list");
    size_t i;
    const json_t* k;
    json_array_foreach(keys, i, k) {
      const std::string field = "ssh.keys[" + std::to_string(i) + "]";
      if (!json_is_object(k)) return Err(field, "must be an object");
      const json_t* type = json_object_get(k, "type");
      const char* t = json_is_string(type) ? json_string_value(type) : "";
      if (std::string(t) != "user" && std::string(t) != "host")
        return Err(field + ".type", std::string(*t ? "invalid type " + Quote(t) + ", it" : "it") +
                                        " must be user or host");
      const json_t* fed = json_object_get(k, "federated");
      if (fed != nullptr && !json_is_null(fed) && !json_is_boolean(fed))
        return Err(field + ".federated", "must be true or false");
      auto jwk = ParseJwk(json_object_get(k, "key"));
      if (!jwk.ok()) return Err(field + ".key", jwk.status().message());
      if (jwk->has_private) return Err(field + ".key", "invalid key type, it must be a public key");
      auto blob = ssh::MarshalPublicKey(jwk->key.get());
      if (!blob.ok()) return Err(field + ".key", blob.status().message());
      cfg_.ssh_keys.push_back({t[0] == 'h', json_is_true(fed), std::move(blob).value()});
    }
  }
  const json_t* bastion = json_object_get(ssh, "bastion");
  if (bastion != nullptr && !json_is_null(bastion)) {
    if (!json_is_object(bastion)) return Err("ssh.bastion", "must be an object");
    cfg_.ssh_bastion.reset(json_deep_copy(bastion));
  }
  return Status::Ok();
}

// The kms object names the backend and its credentials (module, token
// and PIN; region and profile; credentials file); a key URI names the key.
Result<KmsSettings> Loader::ReadKms(const json_t* root) {
  KmsSettings out;
  const json_t* kms = json_object_get(root, "kms");
  if (kms == nullptr || json_is_null(kms)) return out;
  if (!json_is_object(kms)) return Err("kms", "must be an object");
  out.present = true;
  STEPCA_ASSIGN_OR_RETURN(out.type, StringField(kms, "type", "kms.type", true));
  for (char& c : out.type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (out.type != "pkcs11" && out.type != "yubikey" && out.type != "awskms" &&
      out.type != "cloudkms" && out.type != "azurekms")
    return Err("kms.type", Quote(out.type) + " is not supported by this version; supported: "
                           "pkcs11, yubikey, awskms, cloudkms, azurekms (or no kms object for PEM "
                           "key files)");
  STEPCA_ASSIGN_OR_RETURN(out.uri, StringField(kms, "uri", "kms.uri", false));
  STEPCA_ASSIGN_OR_RETURN(out.region, StringField(kms, "region", "kms.region", false));
  STEPCA_ASSIGN_OR_RETURN(out.profile, StringField(kms, "profile", "kms.profile", false));
  STEPCA_ASSIGN_OR_RETURN(out.credentials_file,
                          StringField(kms, "credentialsFile", "kms.credentialsFile", false));
  if (!out.credentials_file.empty()) out.credentials_file = Resolve(out.credentials_file);
  STEPCA_ASSIGN_OR_RETURN(out.pin, StringField(kms, "pin", "kms.pin", false));
  return out;
}

Result<KmsKey> Loader::OpenKeyUri(const json_t* root, const std::string& field,
                                  const std::string& key, KeyScheme scheme, KeyUse use) {
  STEPCA_ASSIGN_OR_RETURN(KmsSettings kms, ReadKms(root));
  const std::string want = KmsTypeFor(scheme);
  if (!kms.present) {
    if (scheme == KeyScheme::kPkcs11)
      return Err(field, "a pkcs11: key needs a kms object ({\"type\": \"pkcs11\", \"uri\": "
                        "\"pkcs11:module-path=...;token=...?pin-value=...\"})");
    return Err(field, "a " + want + " key needs a kms object ({\"type\": \"" + want + "\", ...})");
  }
  if (kms.type != want)
    return Err("kms.type", Quote(kms.type) + " does not fit " + field + ", a " + want +
                               " key (kms.type must be " + want + ")");
  auto k = OpenKmsKey(kms, key, scheme, use);
  if (!k.ok()) {
    // A fault of the kms object itself is named as its field.
    const std::string& m = k.status().message();
    if (m.rfind("kms.uri", 0) == 0) {
      const size_t from = m.compare(0, 8, "kms.uri:") == 0 ? 9 : 8;
      return Err("kms.uri", m.substr(std::min(from, m.size())));
    }
    return Err(field, m);
  }
  return k;
}

Status Loader::LoadAuthority(const json_t* root) {
  const json_t* auth = json_object_get(root, "authority");
  if (auth != nullptr && !json_is_null(auth) && !json_is_object(auth))
    return Err("authority", "must be an object");

  auto claims = ApplyClaims(Claims(), json_object_get(auth, "claims"), false, "authority.claims");
  if (!claims.ok()) return InvalidArgument(opts_.path + ": " + claims.status().message());
  cfg_.global_claims = claims.value();

  const json_t* dis = json_object_get(auth, "disableIssuedAtCheck");
  if (dis != nullptr && !json_is_null(dis)) {
    if (!json_is_boolean(dis)) return Err("authority.disableIssuedAtCheck", "must be true or false");
    cfg_.disable_issued_at_check = json_is_true(dis);
  }
  auto backdate = StringField(auth, "backdate", "authority.backdate", false);
  if (!backdate.ok()) return backdate.status();
  if (!backdate->empty()) {
    auto d = ParseGoDuration(backdate.value());
    if (!d || d->count() < 0)
      return Err("authority.backdate", "invalid duration " + Quote(backdate.value()));
    cfg_.backdate = *d;
  }

  const json_t* provs = json_object_get(auth, "provisioners");
  if (provs != nullptr && !json_is_null(provs) && !json_is_array(provs))
    return Err("authority.provisioners", "must be a list");
  auto policies = std::make_shared<NamePolicies>();
  auto authority_policy =
      NamePolicy::Parse(json_object_get(auth, "policy"), "authority.policy", "the authority policy");
  if (!authority_policy.ok()) return InvalidArgument(opts_.path + ": " + authority_policy.status().message());
  policies->SetAuthority(std::move(authority_policy).value());
  size_t i;
  const json_t* p;
  json_array_foreach(provs, i, p) {
    const std::string field = "authority.provisioners[" + std::to_string(i) + "]";
    std::vector<std::string> warnings;
    auto prov = ParseProvisioner(p, field, cfg_.global_claims, &warnings, dir_);
    if (!prov.ok()) return InvalidArgument(opts_.path + ": " + prov.status().message());
    for (auto& w : warnings) Warn(w);
    auto prov_policy = NamePolicy::Parse(json_object_get(p, "policy"), field + ".policy",
                                         "the policy of provisioner " + Quote((*prov)->name()));
    if (!prov_policy.ok()) return InvalidArgument(opts_.path + ": " + prov_policy.status().message());
    policies->SetProvisioner((*prov)->id(), std::move(prov_policy).value());
    // Parsed now, so that a broken SSH template fails the load.
    const json_t* options = json_object_get(p, "options");
    auto ssh_template = LoadSshTemplateOptions(
        json_object_get(options, "ssh"),
        X509TemplateSource{field + ".options.ssh", (*prov)->name(), dir_});
    if (!ssh_template.ok()) return InvalidArgument(opts_.path + ": " + ssh_template.status().message());
    cfg_.ssh_templates[(*prov)->id()] = std::move(ssh_template).value();
    Status st = cfg_.provisioners.Add(std::move(prov).value(), field);
    if (!st.ok()) return InvalidArgument(opts_.path + ": " + st.message());
  }
  cfg_.name_policies = std::move(policies);
  if (cfg_.provisioners.size() == 0)
    Warn("authority.provisioners is empty: nothing can be issued");
  const json_t* enable_admin = json_object_get(auth, "enableAdmin");
  if (enable_admin != nullptr && !json_is_null(enable_admin) && !json_is_boolean(enable_admin))
    return Err("authority.enableAdmin", "must be true or false");
  cfg_.enable_admin = json_is_true(enable_admin);
  auto subject = ParseDefaultSubject(json_object_get(auth, "template"), "authority.template");
  if (!subject.ok()) return InvalidArgument(opts_.path + ": " + subject.status().message());
  cfg_.default_subject = std::move(subject).value();
  return Status::Ok();
}

Status Loader::NoteUnmapped(const json_t* root) {
  const json_t* db = json_object_get(root, "db");
  if (db != nullptr && !json_is_null(db)) {
    const json_t* t = json_object_get(db, "type");
    Warn(std::string("db") + (json_is_string(t) ? " (" + std::string(json_string_value(t)) + ")" : "") +
         " is not used: the store is chosen by the stepca_store directive");
  }
  const json_t* addr = json_object_get(root, "address");
  if (json_is_string(addr) && json_string_length(addr) > 0)
    Warn("address " + Quote(json_string_value(addr)) +
         " is not used: nginx's listen directives decide where the CA answers");
  const json_t* ins = json_object_get(root, "insecureAddress");
  if (json_is_string(ins) && json_string_length(ins) > 0)
    Warn("insecureAddress is not used: add a plain-HTTP listen to nginx instead");
  auto revocation = ParseRevocationConfig(json_object_get(root, "crl"),
                                          json_object_get(root, "nginxStepca"));
  if (!revocation.ok()) return InvalidArgument(opts_.path + ": " + revocation.status().message());
  cfg_.revocation = std::move(revocation).value();
  for (const char* unsupported : {"cas"}) {
    const json_t* v = json_object_get(root, unsupported);
    if (v != nullptr && !json_is_null(v) && !(json_is_object(v) && json_object_size(v) == 0))
      Warn(std::string(unsupported) + " is not supported yet and is ignored");
  }

  const json_t* templates = json_object_get(root, "templates");
  if (templates != nullptr && !json_is_null(templates)) {
    if (!json_is_object(templates)) return Err("templates", "must be an object");
    cfg_.templates.reset(json_deep_copy(templates));
  }

  const json_t* tls = json_object_get(root, "tls");
  if (tls != nullptr && !json_is_null(tls)) {
    if (!json_is_object(tls)) return Err("tls", "must be an object");
    cfg_.tls_options.reset(json_deep_copy(tls));
  } else {
    cfg_.tls_options.reset(json_pack(
        "{s:[s,s],s:f,s:f,s:b}", "cipherSuites", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
        "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "minVersion", 1.2, "maxVersion", 1.3,
        "renegotiation", 0));
  }
  return Status::Ok();
}

Result<CaConfig> Loader::Load() {
  cfg_.path = opts_.path;
  cfg_.dir = dir_;
  json_error_t jerr;
  FILE* f = std::fopen(opts_.path.c_str(), "rb");
  if (f == nullptr) return InvalidArgument(opts_.path + ": cannot read: " + std::strerror(errno));
  JsonPtr root(json_loadf(f, 0, &jerr));
  std::fclose(f);
  if (!root)
    return InvalidArgument(opts_.path + ": invalid JSON at line " + std::to_string(jerr.line) +
                           " column " + std::to_string(jerr.column) + ": " + jerr.text);
  if (!json_is_object(root.get())) return InvalidArgument(opts_.path + ": must hold a JSON object");

  const json_t* auth = json_object_get(root.get(), "authority");
  if (auth != nullptr && !json_is_null(auth) && !json_is_object(auth))
    return Err("authority", "must be an object");
  auto ra = ParseRaConfig(auth, {opts_.path, dir_, opts_.issuer_password_file});
  if (!ra.ok()) return ra.status();
  cfg_.ra = std::move(ra).value();
  const bool is_ra = cfg_.ra.is_ra();
  auto timeouts = ParseUpstreamTimeouts(json_object_get(root.get(), "nginxStepca"));
  if (!timeouts.ok()) return InvalidArgument(opts_.path + ": " + timeouts.status().message());
  cfg_.ra.timeouts = timeouts.value();
  auto header = ParseUpstreamClientCertHeader(json_object_get(root.get(), "nginxStepca"));
  if (!header.ok()) return InvalidArgument(opts_.path + ": " + header.status().message());
  if (!header->empty() && cfg_.ra.type != CaServiceType::kStepCas)
    return Err("nginxStepca.upstream.clientCertHeader",
               "is read only by a registration authority over an nginx-stepca upstream (authority.type "
               "\"stepcas\"); remove it");
  cfg_.ra.client_cert_header = std::move(header).value();
  if (is_ra) STEPCA_RETURN_IF_ERROR(RefuseLocalKey(root.get()));
  for (const char* f : {"certificateAuthority", "certificateAuthorityFingerprint", "certificateIssuer"})
    if (!is_ra && json_object_get(auth, f) != nullptr)
      Warn(std::string("authority.") + f +
           " is read only by a registration authority (authority.type \"stepcas\"); ignored: "
           "this CA signs with its own key");

  auto roots = PathList(json_object_get(root.get(), "root"), "root");
  if (!roots.ok()) return roots.status();
  root_paths_ = std::move(roots).value();
  if (is_ra) root_paths_.clear();  // the upstream's, fetched and pinned instead
  if (root_paths_.empty() && !is_ra) return Err("root", "is required");
  auto fed = PathList(json_object_get(root.get(), "federatedRoots"), "federatedRoots");
  if (!fed.ok()) return fed.status();
  federated_paths_ = std::move(fed).value();
  if (!is_ra) {
    auto crt = StringField(root.get(), "crt", "crt", true);
    if (!crt.ok()) return crt.status();
    crt_path_ = Resolve(crt.value());
  }

  const json_t* names = json_object_get(root.get(), "dnsNames");
  if (names != nullptr && !json_is_null(names)) {
    if (!json_is_array(names)) return Err("dnsNames", "must be a list of names");
    size_t i;
    const json_t* n;
    json_array_foreach(names, i, n) {
      if (!json_is_string(n) || json_string_length(n) == 0)
        return Err("dnsNames[" + std::to_string(i) + "]", "must be a non-empty string");
      cfg_.dns_names.push_back(json_string_value(n));
    }
  }
  cfg_.dns_names_given = !cfg_.dns_names.empty();
  if (cfg_.dns_names.empty()) cfg_.dns_names = {"localhost", "127.0.0.1", "::1"};

  const json_t* logger = json_object_get(root.get(), "logger");
  if (logger != nullptr && !json_is_null(logger)) {
    if (!json_is_object(logger)) return Err("logger", "must be an object");
    auto fmt = StringField(logger, "format", "logger.format", false);
    if (!fmt.ok()) return fmt.status();
    if (!fmt->empty()) {
      if (fmt.value() != "text" && fmt.value() != "json")
        return Err("logger.format", "must be \"text\" or \"json\", not " + Quote(fmt.value()));
      cfg_.logger_format = fmt.value();
    }
  }

  STEPCA_RETURN_IF_ERROR(LoadAuthority(root.get()));
  STEPCA_RETURN_IF_ERROR(NoteUnmapped(root.get()));
  for (auto& w : UnhonouredFields(root.get())) Warn(w);
  if (is_ra) {
    STEPCA_RETURN_IF_ERROR(LoadFederatedRoots());
    return std::move(cfg_);
  }
  STEPCA_RETURN_IF_ERROR(LoadCertificates());
  STEPCA_RETURN_IF_ERROR(LoadKey(root.get()));
  return std::move(cfg_);
}

}  // namespace

Result<std::string> ReadPasswordFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return InvalidArgument(std::string("cannot read: ") + std::strerror(errno));
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ' || s.back() == '\t'))
    s.pop_back();
  return s;
}

Result<std::vector<X509Ptr>> ReadCertificates(const std::string& path) {
  BioPtr bio(BIO_new_file(path.c_str(), "rb"));
  if (!bio) {
    ERR_clear_error();
    return InvalidArgument("cannot read " + path + ": " + std::strerror(errno));
  }
  std::vector<X509Ptr> out;
  for (;;) {
    X509* c = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
    if (c == nullptr) break;
    out.emplace_back(c);
  }
  ERR_clear_error();
  if (out.empty()) return InvalidArgument(path + " holds no PEM certificate");
  return out;
}

Result<CaConfig> LoadCaConfig(const CaConfigOptions& options) {
  return Loader(options).Load();
}

}  // namespace stepca
