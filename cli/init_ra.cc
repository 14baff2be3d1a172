#include "cli/init_ra.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <strings.h>
#include <sys/stat.h>

#include <cctype>
#include <cstdlib>

#include "authority/ossl.h"
#include "authority/config/ra_config.h"
#include "authority/ra/upstream_cas.h"
#include "authority/ra/upstream_client.h"
#include "authority/x509/issuer.h"
#include "cli/files.h"
#include "cli/go_json.h"
#include "cli/init.h"
#include "shared/base64.h"

namespace stepca {
namespace cli {
namespace {

constexpr mode_t kDirMode = 0700;
constexpr mode_t kPublicMode = 0644;

// The upstream root, trusted only because its hash is the fingerprint.
Result<std::string> FetchRoot(const std::string& issuer, const std::string& fingerprint) {
  UpstreamOptions once;
  once.reuse_connection = false;
  UpstreamClient bootstrap(issuer, "", once);
  auto r = bootstrap.Get("/root/" + fingerprint);
  if (!r.ok()) return Unavailable(r.status().message() + ": " + r.status().detail());
  if (r->status != 200)
    return InvalidArgument("error downloading the root certificate from " + issuer + ": " +
                           UpstreamErrorMessage(*r));
  JsonPtr j(json_loadb(r->body.data(), r->body.size(), 0, nullptr));
  const json_t* ca = j ? json_object_get(j.get(), "ca") : nullptr;
  if (!json_is_string(ca)) return InvalidArgument(issuer + " answered /root without a certificate");
  const std::string pem = json_string_value(ca);
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  X509Ptr root(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!root) return InvalidArgument(issuer + " answered /root with something that is not PEM");
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  X509_digest(root.get(), EVP_sha256(), md, &n);
  const std::string got = HexEncode(std::string(reinterpret_cast<char*>(md), n));
  if (got != fingerprint)
    return InvalidArgument("the root certificate of " + issuer + " has fingerprint " + got +
                           ", not " + fingerprint);
  return CertificateToPem(root.get());
}

}  // namespace

Status CheckRaType(const std::string& ra) {
  for (const char* t : {"stepcas", "vaultcas", "cloudcas"})
    if (strcasecmp(ra.c_str(), t) == 0) return Status::Ok();
  return InvalidArgument("invalid value '" + ra + "' for flag '--ra' (stepcas, vaultcas or cloudcas)");
}

namespace {

void SetString(json_t* obj, const char* name, const std::string& value) {
  if (!value.empty()) json_object_set_new(obj, name, json_string(value.c_str()));
}

std::string LowerHex(std::string fp) {
  for (char& ch : fp) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return fp;
}

// authority.config of a vaultcas RA, from the flags.
Result<JsonPtr> VaultConfig(const InitRaOptions& o) {
  JsonPtr cfg(json_object());
  SetString(cfg.get(), "pkiMountPath", o.vault_pki_mount);
  SetString(cfg.get(), "pkiRoleDefault", o.vault_pki_role);
  SetString(cfg.get(), "pkiRoleRSA", o.vault_pki_role_rsa);
  SetString(cfg.get(), "pkiRoleEC", o.vault_pki_role_ec);
  SetString(cfg.get(), "pkiRoleEd25519", o.vault_pki_role_ed25519);
  const bool k8s = !o.vault_kubernetes_role.empty();
  json_object_set_new(cfg.get(), "authType", json_string(k8s ? "kubernetes" : "approle"));
  SetString(cfg.get(), "authMountPath", o.vault_auth_mount);
  SetString(cfg.get(), "namespace", o.vault_namespace);
  JsonPtr opts(json_object());
  if (k8s) {
    json_object_set_new(opts.get(), "role", json_string(o.vault_kubernetes_role.c_str()));
    if (!o.vault_token_path.empty())
      json_object_set_new(opts.get(), "tokenPath", json_string(AbsolutePath(o.vault_token_path).c_str()));
  } else {
    if (o.vault_role_id.empty()) return InvalidArgument("flag '--vault-role-id' is required");
    if (o.vault_secret_id_file.empty()) return InvalidArgument("flag '--vault-secret-id-file' is required");
    json_object_set_new(opts.get(), "roleID", json_string(o.vault_role_id.c_str()));
    json_object_set_new(opts.get(), "secretIDFile",
                        json_string(AbsolutePath(o.vault_secret_id_file).c_str()));
    json_object_set_new(opts.get(), "isWrappingToken", json_boolean(o.vault_wrapped));
  }
  json_object_set_new(cfg.get(), "authOptions", opts.release());
  return cfg;
}

// The members of "authority" before the provisioners, and the upstream's
// root PEM, proven as the RA itself will prove it.
struct Upstream {
  JsonPtr authority;
  std::string root_pem;
  std::string fingerprint;
};

Result<Upstream> ConnectUpstream(const InitRaOptions& o, const std::string& ca_json,
                                 const std::string& config_dir) {
  Upstream u;
  u.authority.reset(json_object());
  json_t* a = u.authority.get();
  std::string issuer = o.issuer;
  u.fingerprint = LowerHex(o.issuer_fingerprint);
  if (strcasecmp(o.ra.c_str(), "stepcas") == 0) {
    while (!issuer.empty() && issuer.back() == '/') issuer.pop_back();
    if (issuer.rfind("https://", 0) != 0)
      return InvalidArgument("flag '--issuer' must be the upstream CA's https:// URL");
    if (u.fingerprint.size() != 64)
      return InvalidArgument("flag '--issuer-fingerprint' must be 64 hex characters");
    if (o.issuer_provisioner.empty()) return InvalidArgument("flag '--issuer-provisioner' is required");
    STEPCA_ASSIGN_OR_RETURN(u.root_pem, FetchRoot(issuer, u.fingerprint));
    JsonPtr iss(json_object());
    json_object_set_new(iss.get(), "type", json_string("JWK"));
    json_object_set_new(iss.get(), "provisioner", json_string(o.issuer_provisioner.c_str()));
    json_object_set_new(a, "type", json_string("stepcas"));
    json_object_set_new(a, "certificateAuthority", json_string(issuer.c_str()));
    json_object_set_new(a, "certificateAuthorityFingerprint", json_string(u.fingerprint.c_str()));
    json_object_set_new(a, "certificateIssuer", iss.release());
    return u;
  }
  if (issuer.empty()) return InvalidArgument("flag '--issuer' is required");
  if (strcasecmp(o.ra.c_str(), "vaultcas") == 0) {
    while (!issuer.empty() && issuer.back() == '/') issuer.pop_back();
    if (u.fingerprint.size() != 64)
      return InvalidArgument("flag '--issuer-fingerprint' must be the 64 hex characters of the "
                             "Vault PKI's root (step certificate fingerprint root_ca.crt)");
    STEPCA_ASSIGN_OR_RETURN(JsonPtr cfg, VaultConfig(o));
    json_object_set_new(a, "type", json_string("vaultcas"));
    json_object_set_new(a, "certificateAuthority", json_string(issuer.c_str()));
    json_object_set_new(a, "certificateAuthorityFingerprint", json_string(u.fingerprint.c_str()));
    json_object_set_new(a, "config", cfg.release());
  } else {
    json_object_set_new(a, "type", json_string("cloudCAS"));
    std::string creds = o.credentials_file;
    if (creds.empty()) {
      const char* env = getenv("GOOGLE_APPLICATION_CREDENTIALS");
      if (env == nullptr || *env == '\0')
        return InvalidArgument("flag '--credentials-file' is required (or GOOGLE_APPLICATION_CREDENTIALS)");
      creds = env;
    }
    json_object_set_new(a, "credentialsFile", json_string(AbsolutePath(creds).c_str()));
    json_object_set_new(a, "certificateAuthority", json_string(issuer.c_str()));
    if (!u.fingerprint.empty())
      json_object_set_new(a, "certificateAuthorityFingerprint", json_string(u.fingerprint.c_str()));
  }
  // The same reading and the same connection the RA makes at start: a
  // configuration that would not start is not written.
  STEPCA_ASSIGN_OR_RETURN(RaConfig rc, ParseRaConfig(a, {ca_json, config_dir, ""}));
  STEPCA_ASSIGN_OR_RETURN(StepCasService svc, MakeUpstreamCas(rc));
  u.root_pem = CertificateToPem(svc.root.get());
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  X509_digest(svc.root.get(), EVP_sha256(), md, &n);
  u.fingerprint = HexEncode(std::string(reinterpret_cast<char*>(md), n));
  // Pinned from now on: the root written beside ca.json is then the one
  // the RA will accept (and the loader lets "root" name it).
  if (json_object_get(a, "certificateAuthorityFingerprint") == nullptr)
    json_object_set_new(a, "certificateAuthorityFingerprint", json_string(u.fingerprint.c_str()));
  return u;
}

}  // namespace

Result<InitRaResult> InitRa(const InitRaOptions& o) {
  STEPCA_RETURN_IF_ERROR(CheckRaType(o.ra));
  if (o.dns.empty()) return InvalidArgument("flag '--dns' is required");
  if (o.address.empty()) return InvalidArgument("flag '--address' is required");
  if (o.provisioner.empty()) return InvalidArgument("flag '--provisioner' is required");
  if (o.provisioner_password.empty()) return InvalidArgument("the provisioner password is empty");

  InitRaResult r;
  r.steppath = AbsolutePath(o.steppath);
  while (r.steppath.size() > 1 && r.steppath.back() == '/') r.steppath.pop_back();
  const std::string certs = JoinPath(r.steppath, "certs");
  const std::string config = JoinPath(r.steppath, "config");
  r.db_dir = JoinPath(r.steppath, "db");
  r.root_cert = JoinPath(certs, "root_ca.crt");
  r.ca_config = JoinPath(config, "ca.json");
  r.defaults = JoinPath(config, "defaults.json");
  STEPCA_ASSIGN_OR_RETURN(r.ca_url, CaUrlFor(o.dns[0], o.address));
  struct stat st;
  if (!o.force && stat(r.ca_config.c_str(), &st) == 0)
    return AlreadyExists(r.ca_config + " already exists (use --force to overwrite)");

  // Nothing is written unless the upstream proved its root.
  STEPCA_ASSIGN_OR_RETURN(Upstream up, ConnectUpstream(o, r.ca_config, config));
  r.fingerprint = up.fingerprint;
  for (const std::string& dir : {r.steppath, certs, config, r.db_dir})
    STEPCA_RETURN_IF_ERROR(MakeDirs(dir, kDirMode));
  STEPCA_RETURN_IF_ERROR(WriteFile(r.root_cert, up.root_pem, kPublicMode));

  STEPCA_ASSIGN_OR_RETURN(JsonPtr jwk,
                          MakeJwkProvisioner(o.provisioner, o.provisioner_password, o.p2c));
  JsonPtr provisioners(json_array());
  json_array_append_new(provisioners.get(), jwk.release());
  if (o.acme) {
    JsonPtr acme(json_object());
    json_object_set_new(acme.get(), "type", json_string("ACME"));
    json_object_set_new(acme.get(), "name", json_string("acme"));
    json_array_append_new(provisioners.get(), acme.release());
  }
  JsonPtr authority = std::move(up.authority);
  json_object_set_new(authority.get(), "provisioners", provisioners.release());


  // Member for member as `step ca init --ra StepCAS|CloudCAS` writes it:
  // the downloaded root as "root", "crt" and "key" empty.
  JsonPtr ca(json_object());
  json_object_set_new(ca.get(), "root", json_string(r.root_cert.c_str()));
  json_object_set_new(ca.get(), "federatedRoots", json_null());
  json_object_set_new(ca.get(), "crt", json_string(""));
  json_object_set_new(ca.get(), "key", json_string(""));
  json_object_set_new(ca.get(), "address", json_string(o.address.c_str()));
  json_object_set_new(ca.get(), "insecureAddress", json_string(""));
  json_object_set_new(ca.get(), "dnsNames", StringArray(o.dns).release());
  json_object_set_new(ca.get(), "logger", StepLogger().release());
  json_object_set_new(ca.get(), "db", StepDb(r.db_dir).release());
  json_object_set_new(ca.get(), "authority", authority.release());
  json_object_set_new(ca.get(), "tls", DefaultTlsOptions().release());
  STEPCA_RETURN_IF_ERROR(WriteFile(r.ca_config, FormatCaJson(ca.get()), kPublicMode));

  JsonPtr defaults(json_object());
  json_object_set_new(defaults.get(), "ca-url", json_string(r.ca_url.c_str()));
  json_object_set_new(defaults.get(), "ca-config", json_string(r.ca_config.c_str()));
  json_object_set_new(defaults.get(), "fingerprint", json_string(r.fingerprint.c_str()));
  json_object_set_new(defaults.get(), "root", json_string(r.root_cert.c_str()));
  STEPCA_RETURN_IF_ERROR(WriteFile(r.defaults, GoJson(defaults.get(), "\t"), kPublicMode));
  return r;
}

void PrintInitRaSummary(const InitRaResult& r, std::ostream& out) {
  out << "\u2714 Root certificate: " << r.root_cert << "\n"
      << "\u2714 Root fingerprint: " << r.fingerprint << "\n"
      << "\u2714 Database folder: " << r.db_dir << "\n"
      << "\u2714 Default configuration: " << r.defaults << "\n"
      << "\u2714 Certificate Authority configuration: " << r.ca_config << "\n"
      << "\nYour registration authority is ready to go. Give nginx the upstream "
         "provisioner's password with stepca_issuer_password_file, and a TLS "
         "certificate for its listener.\n";
}

}  // namespace cli
}  // namespace stepca
