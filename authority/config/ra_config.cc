#include "authority/config/ra_config.h"

#include <strings.h>

#include <cctype>
#include <cstdlib>
#include <vector>

#include "authority/config/ca_config.h"
#include "authority/ossl.h"

namespace stepca {
namespace {

std::string Quote(const std::string& s) { return "\"" + s + "\""; }

class RaParser {
 public:
  explicit RaParser(const RaConfigContext& c) : c_(c) {}

  Result<RaConfig> Parse(const json_t* auth);

 private:
  Status Err(const std::string& field, const std::string& msg) const {
    return InvalidArgument(c_.ca_json + ": field " + Quote(field) + ": " + msg);
  }
  std::string Resolve(const std::string& p) const {
    if (p.empty() || p[0] == '/') return p;
    return c_.dir + "/" + p;
  }
  Result<std::string> String(const json_t* obj, const char* name, const std::string& field,
                             bool required) const {
    const json_t* v = obj == nullptr ? nullptr : json_object_get(obj, name);
    if (v == nullptr || json_is_null(v)) {
      if (required) return Err(field, "is required");
      return std::string();
    }
    if (!json_is_string(v)) return Err(field, "must be a string");
    std::string s(json_string_value(v), json_string_length(v));
    if (required && s.empty()) return Err(field, "is required");
    return s;
  }
  Status StepCas(const json_t* auth, RaConfig* out) const;
  Status Fingerprint(const json_t* auth, bool required, RaConfig* out) const;
  Status Vault(const json_t* auth, RaConfig* out) const;
  Status VaultAuthOptions(const json_t* opts, VaultCasConfig* v) const;
  Status Cloud(const json_t* auth, RaConfig* out) const;
  Status Issuer(const json_t* iss, StepCasIssuerConfig* out) const;

  const RaConfigContext& c_;
};

// step-ca compares the type case-insensitively ("cloudCAS", "CloudCAS" and
// "cloudcas" are one), and "softcas" is its name for the local CA.
Result<CaServiceType> TypeOf(const std::string& t) {
  if (t.empty() || strcasecmp(t.c_str(), "softcas") == 0) return CaServiceType::kLocal;
  if (strcasecmp(t.c_str(), "stepcas") == 0) return CaServiceType::kStepCas;
  if (strcasecmp(t.c_str(), "cloudcas") == 0) return CaServiceType::kCloudCas;
  if (strcasecmp(t.c_str(), "vaultcas") == 0) return CaServiceType::kVaultCas;
  return InvalidArgument("");
}

Result<RaConfig> RaParser::Parse(const json_t* auth) {
  RaConfig out;
  STEPCA_ASSIGN_OR_RETURN(out.type_name, String(auth, "type", "authority.type", false));
  auto type = TypeOf(out.type_name);
  if (!type.ok())
    return Err("authority.type", "unknown type " + Quote(out.type_name) +
                                     ": use \"\" (this CA signs), \"stepcas\", \"cloudCAS\" or "
                                     "\"vaultcas\"");
  out.type = type.value();
  switch (out.type) {
    case CaServiceType::kLocal:
      return out;
    case CaServiceType::kStepCas:
      STEPCA_RETURN_IF_ERROR(StepCas(auth, &out));
      return out;
    case CaServiceType::kCloudCas:
      STEPCA_RETURN_IF_ERROR(Cloud(auth, &out));
      return out;
    case CaServiceType::kVaultCas:
      STEPCA_RETURN_IF_ERROR(Vault(auth, &out));
      return out;
  }
  return out;
}

Status RaParser::StepCas(const json_t* auth, RaConfig* out) const {
  STEPCA_ASSIGN_OR_RETURN(out->certificate_authority,
                          String(auth, "certificateAuthority", "authority.certificateAuthority", true));
  std::string& url = out->certificate_authority;
  while (!url.empty() && url.back() == '/') url.pop_back();
  if (url.rfind("https://", 0) != 0 || url.size() <= 8)
    return Err("authority.certificateAuthority",
               "must be the upstream step-ca's https:// URL, not " + Quote(url));
  STEPCA_RETURN_IF_ERROR(Fingerprint(auth, true, out));
  const json_t* iss = json_object_get(auth, "certificateIssuer");
  if (iss == nullptr || json_is_null(iss)) return Err("authority.certificateIssuer", "is required");
  if (!json_is_object(iss)) return Err("authority.certificateIssuer", "must be an object");
  return Issuer(iss, &out->issuer);
}

Status RaParser::Fingerprint(const json_t* auth, bool required, RaConfig* out) const {
  STEPCA_ASSIGN_OR_RETURN(out->fingerprint,
                          String(auth, "certificateAuthorityFingerprint",
                                 "authority.certificateAuthorityFingerprint", required));
  std::string& fp = out->fingerprint;
  if (fp.empty()) return Status::Ok();
  for (char& ch : fp) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  bool hex = fp.size() == 64;
  for (char ch : fp) hex = hex && std::isxdigit(static_cast<unsigned char>(ch));
  if (!hex)
    return Err("authority.certificateAuthorityFingerprint",
               "must be the SHA-256 of the upstream root in hex (64 characters)");
  return Status::Ok();
}

// step-ca's vaultcas reads everything but the URL and the fingerprint from
// authority.config; the defaults are step-ca's.
Status RaParser::Vault(const json_t* auth, RaConfig* out) const {
  STEPCA_ASSIGN_OR_RETURN(out->certificate_authority,
                          String(auth, "certificateAuthority", "authority.certificateAuthority", true));
  std::string& url = out->certificate_authority;
  while (!url.empty() && url.back() == '/') url.pop_back();
  if ((url.rfind("https://", 0) != 0 || url.size() <= 8) &&
      (url.rfind("http://", 0) != 0 || url.size() <= 7))
    return Err("authority.certificateAuthority", "must be Vault's http(s):// address, not " + Quote(url));
  STEPCA_RETURN_IF_ERROR(Fingerprint(auth, true, out));
  const std::string f = "authority.config";
  const json_t* cfg = json_object_get(auth, "config");
  if (cfg == nullptr || json_is_null(cfg)) return Err(f, "is required for vaultcas");
  if (!json_is_object(cfg)) return Err(f, "must be an object");
  VaultCasConfig& v = out->vault;
  STEPCA_ASSIGN_OR_RETURN(v.pki_mount_path, String(cfg, "pkiMountPath", f + ".pkiMountPath", false));
  if (v.pki_mount_path.empty()) v.pki_mount_path = "pki";
  STEPCA_ASSIGN_OR_RETURN(v.role_default, String(cfg, "pkiRoleDefault", f + ".pkiRoleDefault", false));
  if (v.role_default.empty()) v.role_default = "default";
  STEPCA_ASSIGN_OR_RETURN(v.role_rsa, String(cfg, "pkiRoleRSA", f + ".pkiRoleRSA", false));
  STEPCA_ASSIGN_OR_RETURN(v.role_ec, String(cfg, "pkiRoleEC", f + ".pkiRoleEC", false));
  STEPCA_ASSIGN_OR_RETURN(v.role_ed25519, String(cfg, "pkiRoleEd25519", f + ".pkiRoleEd25519", false));
  for (std::string* r : {&v.role_rsa, &v.role_ec, &v.role_ed25519})
    if (r->empty()) *r = v.role_default;
  STEPCA_ASSIGN_OR_RETURN(v.auth_type, String(cfg, "authType", f + ".authType", true));
  for (char& ch : v.auth_type) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (v.auth_type != "approle" && v.auth_type != "kubernetes")
    return Err(f + ".authType", "must be \"approle\" or \"kubernetes\", not " + Quote(v.auth_type));
  STEPCA_ASSIGN_OR_RETURN(v.auth_mount_path, String(cfg, "authMountPath", f + ".authMountPath", false));
  if (v.auth_mount_path.empty()) v.auth_mount_path = v.auth_type;
  STEPCA_ASSIGN_OR_RETURN(v.vault_namespace, String(cfg, "namespace", f + ".namespace", false));
  for (std::string* p : {&v.pki_mount_path, &v.auth_mount_path, &v.vault_namespace}) {
    while (!p->empty() && p->back() == '/') p->pop_back();
    while (!p->empty() && p->front() == '/') p->erase(0, 1);
  }
  const json_t* opts = json_object_get(cfg, "authOptions");
  if (opts == nullptr || json_is_null(opts)) return Err(f + ".authOptions", "is required");
  if (!json_is_object(opts)) return Err(f + ".authOptions", "must be an object");
  STEPCA_RETURN_IF_ERROR(VaultAuthOptions(opts, &v));
  if (const char* ca = getenv("VAULT_CACERT")) v.ca_file = ca;
  return Status::Ok();
}

Status RaParser::VaultAuthOptions(const json_t* opts, VaultCasConfig* v) const {
  const std::string f = "authority.config.authOptions";
  const json_t* wrap = json_object_get(opts, "isWrappingToken");
  if (wrap != nullptr && !json_is_null(wrap) && !json_is_boolean(wrap))
    return Err(f + ".isWrappingToken", "must be true or false");
  v->is_wrapping_token = json_is_true(wrap);
  if (v->auth_type == "kubernetes") {
    STEPCA_ASSIGN_OR_RETURN(v->kubernetes_role, String(opts, "role", f + ".role", true));
    STEPCA_ASSIGN_OR_RETURN(std::string path, String(opts, "tokenPath", f + ".tokenPath", false));
    v->token_path = path.empty() ? "/var/run/secrets/kubernetes.io/serviceaccount/token" : Resolve(path);
    for (const char* other : {"roleID", "secretID", "secretIDFile", "secretIDEnv"})
      if (json_object_get(opts, other) != nullptr)
        return Err(f + "." + other, "is for authType approle, not kubernetes");
    if (v->is_wrapping_token) return Err(f + ".isWrappingToken", "is for authType approle, not kubernetes");
    return Status::Ok();
  }
  for (const char* other : {"role", "tokenPath"})
    if (json_object_get(opts, other) != nullptr)
      return Err(f + "." + other, "is for authType kubernetes, not approle");
  STEPCA_ASSIGN_OR_RETURN(v->role_id, String(opts, "roleID", f + ".roleID", true));
  STEPCA_ASSIGN_OR_RETURN(std::string id, String(opts, "secretID", f + ".secretID", false));
  STEPCA_ASSIGN_OR_RETURN(std::string file, String(opts, "secretIDFile", f + ".secretIDFile", false));
  STEPCA_ASSIGN_OR_RETURN(std::string env, String(opts, "secretIDEnv", f + ".secretIDEnv", false));
  const int given = !id.empty() + !file.empty() + !env.empty();
  if (given == 0)
    return Err(f + ".secretID", "one of secretID, secretIDFile or secretIDEnv is required for approle");
  if (given > 1)
    return Err(f + ".secretID", "give only one of secretID, secretIDFile and secretIDEnv");
  if (!id.empty()) {
    v->secret_id = std::move(id);
    v->secret_id_field = f + ".secretID";
  } else if (!file.empty()) {
    auto s = ReadPasswordFile(Resolve(file));
    if (!s.ok()) return Err(f + ".secretIDFile", Resolve(file) + ": " + s.status().message());
    v->secret_id = std::move(s).value();
    v->secret_id_field = f + ".secretIDFile";
  } else {
    // Read by the master at load, whose environment is the one nginx was
    // started with (the env directive only shapes the workers').
    const char* val = getenv(env.c_str());
    if (val == nullptr || *val == '\0')
      return Err(f + ".secretIDEnv", "the environment variable " + env +
                                         " is not set in the environment nginx was started with");
    v->secret_id = val;
    v->secret_id_field = f + ".secretIDEnv";
  }
  return Status::Ok();
}

// Only the CA service v1 names: Google shut v1beta1 (whose names had no
// caPools) down, so such a name could not work.
Status RaParser::Cloud(const json_t* auth, RaConfig* out) const {
  STEPCA_ASSIGN_OR_RETURN(out->certificate_authority,
                          String(auth, "certificateAuthority", "authority.certificateAuthority", true));
  const std::string& name = out->certificate_authority;
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t slash = name.find('/', start);
    parts.push_back(name.substr(start, slash == std::string::npos ? std::string::npos : slash - start));
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  bool ok = (parts.size() == 6 || parts.size() == 8) && parts[0] == "projects" &&
            parts[2] == "locations" && parts[4] == "caPools" &&
            (parts.size() == 6 || parts[6] == "certificateAuthorities");
  for (const auto& p : parts) ok = ok && !p.empty();
  if (!ok)
    return Err("authority.certificateAuthority",
               "must be a Google CAS name, projects/<project>/locations/<location>/caPools/<pool> or "
               "projects/<project>/locations/<location>/caPools/<pool>/certificateAuthorities/<ca>, not " +
                   Quote(name));
  STEPCA_RETURN_IF_ERROR(Fingerprint(auth, false, out));
  STEPCA_ASSIGN_OR_RETURN(std::string file,
                          String(auth, "credentialsFile", "authority.credentialsFile", false));
  if (file.empty()) {
    const char* env = getenv("GOOGLE_APPLICATION_CREDENTIALS");
    if (env == nullptr || *env == '\0')
      return Err("authority.credentialsFile",
                 "is required (or GOOGLE_APPLICATION_CREDENTIALS in the environment nginx was "
                 "started with)");
    file = env;
  }
  out->cloud.credentials_file = Resolve(file);
  const char* endpoint = getenv("STEPCA_CLOUDCAS_ENDPOINT");
  out->cloud.endpoint = endpoint != nullptr && *endpoint ? endpoint : "https://privateca.googleapis.com";
  while (!out->cloud.endpoint.empty() && out->cloud.endpoint.back() == '/') out->cloud.endpoint.pop_back();
  return Status::Ok();
}

Status RaParser::Issuer(const json_t* iss, StepCasIssuerConfig* out) const {
  const std::string f = "authority.certificateIssuer";
  STEPCA_ASSIGN_OR_RETURN(out->type, String(iss, "type", f + ".type", true));
  for (char& ch : out->type) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (out->type != "jwk" && out->type != "x5c")
    return Err(f + ".type", "must be \"jwk\" or \"x5c\", not " + Quote(out->type));
  STEPCA_ASSIGN_OR_RETURN(out->provisioner, String(iss, "provisioner", f + ".provisioner", true));
  const bool x5c = out->type == "x5c";
  STEPCA_ASSIGN_OR_RETURN(std::string key, String(iss, "key", f + ".key", x5c));
  out->key_path = Resolve(key);
  STEPCA_ASSIGN_OR_RETURN(std::string crt, String(iss, "crt", f + ".crt", x5c));
  if (!x5c && !crt.empty())
    return Err(f + ".crt", "is for an x5c issuer; a jwk issuer has none");
  out->crt_path = Resolve(crt);
  if (!c_.issuer_password_file.empty()) {
    auto p = ReadPasswordFile(c_.issuer_password_file);
    if (!p.ok())
      return InvalidArgument("issuer password file " + c_.issuer_password_file + ": " +
                             p.status().message());
    out->password = std::move(p).value();
  } else {
    STEPCA_ASSIGN_OR_RETURN(out->password, String(iss, "password", f + ".password", false));
  }
  // The upstream's encrypted key (jwk without key) cannot be opened
  // without a password; say so at load rather than at the first request.
  if (!x5c && out->key_path.empty() && out->password.empty())
    return Err(f + ".password",
               "is required to decrypt the upstream provisioner's key (or set "
               "stepca_issuer_password_file)");
  return Status::Ok();
}

}  // namespace

Result<RaConfig> ParseRaConfig(const json_t* authority, const RaConfigContext& context) {
  return RaParser(context).Parse(authority);
}

}  // namespace stepca
