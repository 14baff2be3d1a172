#include "cli/init_ra.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <strings.h>
#include <sys/stat.h>

#include <cctype>

#include "authority/ossl.h"
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
  if (strcasecmp(ra.c_str(), "vaultcas") == 0 || strcasecmp(ra.c_str(), "cloudcas") == 0)
    return Unimplemented("'--ra " + ra + "' is not supported yet; '--ra stepcas' is");
  if (strcasecmp(ra.c_str(), "stepcas") != 0)
    return InvalidArgument("invalid value '" + ra + "' for flag '--ra'");
  return Status::Ok();
}

Result<InitRaResult> InitRa(const InitRaOptions& o) {
  STEPCA_RETURN_IF_ERROR(CheckRaType(o.ra));
  if (o.issuer.rfind("https://", 0) != 0)
    return InvalidArgument("flag '--issuer' must be the upstream CA's https:// URL");
  std::string fp = o.issuer_fingerprint;
  for (char& ch : fp) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (fp.size() != 64) return InvalidArgument("flag '--issuer-fingerprint' must be 64 hex characters");
  if (o.issuer_provisioner.empty()) return InvalidArgument("flag '--issuer-provisioner' is required");
  if (o.dns.empty()) return InvalidArgument("flag '--dns' is required");
  if (o.address.empty()) return InvalidArgument("flag '--address' is required");
  if (o.provisioner.empty()) return InvalidArgument("flag '--provisioner' is required");
  if (o.provisioner_password.empty()) return InvalidArgument("the provisioner password is empty");
  std::string issuer = o.issuer;
  while (!issuer.empty() && issuer.back() == '/') issuer.pop_back();

  InitRaResult r;
  r.steppath = AbsolutePath(o.steppath);
  while (r.steppath.size() > 1 && r.steppath.back() == '/') r.steppath.pop_back();
  const std::string certs = JoinPath(r.steppath, "certs");
  const std::string config = JoinPath(r.steppath, "config");
  r.db_dir = JoinPath(r.steppath, "db");
  r.root_cert = JoinPath(certs, "root_ca.crt");
  r.ca_config = JoinPath(config, "ca.json");
  r.defaults = JoinPath(config, "defaults.json");
  r.fingerprint = fp;
  STEPCA_ASSIGN_OR_RETURN(r.ca_url, CaUrlFor(o.dns[0], o.address));
  struct stat st;
  if (!o.force && stat(r.ca_config.c_str(), &st) == 0)
    return AlreadyExists(r.ca_config + " already exists (use --force to overwrite)");

  // Nothing is written unless the upstream proved its root.
  STEPCA_ASSIGN_OR_RETURN(std::string root_pem, FetchRoot(issuer, fp));
  for (const std::string& dir : {r.steppath, certs, config, r.db_dir})
    STEPCA_RETURN_IF_ERROR(MakeDirs(dir, kDirMode));
  STEPCA_RETURN_IF_ERROR(WriteFile(r.root_cert, root_pem, kPublicMode));

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
  JsonPtr iss(json_object());
  json_object_set_new(iss.get(), "type", json_string("JWK"));
  json_object_set_new(iss.get(), "provisioner", json_string(o.issuer_provisioner.c_str()));
  JsonPtr authority(json_object());
  json_object_set_new(authority.get(), "type", json_string("stepcas"));
  json_object_set_new(authority.get(), "certificateAuthority", json_string(issuer.c_str()));
  json_object_set_new(authority.get(), "certificateAuthorityFingerprint", json_string(fp.c_str()));
  json_object_set_new(authority.get(), "certificateIssuer", iss.release());
  json_object_set_new(authority.get(), "provisioners", provisioners.release());

  JsonPtr logger(json_object());
  json_object_set_new(logger.get(), "format", json_string("text"));
  JsonPtr db(json_object());
  json_object_set_new(db.get(), "type", json_string("badgerv2"));
  json_object_set_new(db.get(), "dataSource", json_string(r.db_dir.c_str()));
  json_object_set_new(db.get(), "badgerFileLoadingMode", json_string(""));

  // Member for member as `step ca init --ra StepCAS` writes it: the
  // downloaded root as "root", "crt" and "key" empty.
  JsonPtr ca(json_object());
  json_object_set_new(ca.get(), "root", json_string(r.root_cert.c_str()));
  json_object_set_new(ca.get(), "federatedRoots", json_null());
  json_object_set_new(ca.get(), "crt", json_string(""));
  json_object_set_new(ca.get(), "key", json_string(""));
  json_object_set_new(ca.get(), "address", json_string(o.address.c_str()));
  json_object_set_new(ca.get(), "insecureAddress", json_string(""));
  json_object_set_new(ca.get(), "dnsNames", StringArray(o.dns).release());
  json_object_set_new(ca.get(), "logger", logger.release());
  json_object_set_new(ca.get(), "db", db.release());
  json_object_set_new(ca.get(), "authority", authority.release());
  json_object_set_new(ca.get(), "tls", DefaultTlsOptions().release());
  STEPCA_RETURN_IF_ERROR(WriteFile(r.ca_config, FormatCaJson(ca.get()), kPublicMode));

  JsonPtr defaults(json_object());
  json_object_set_new(defaults.get(), "ca-url", json_string(r.ca_url.c_str()));
  json_object_set_new(defaults.get(), "ca-config", json_string(r.ca_config.c_str()));
  json_object_set_new(defaults.get(), "fingerprint", json_string(fp.c_str()));
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
