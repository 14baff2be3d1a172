#include "cli/init.h"

#include <arpa/inet.h>
#include <sys/stat.h>

#include <chrono>

#include "authority/jose/jwe.h"
#include "authority/jose/jwk.h"
#include "authority/ssh/public_key.h"
#include "cli/crypto.h"
#include "cli/files.h"
#include "cli/go_json.h"
#include "cli/init_kms.h"
#include "cli/template_cert.h"
#include "shared/duration.h"

namespace stepca {
namespace cli {
namespace {

constexpr mode_t kDirMode = 0700;
constexpr mode_t kSecretMode = 0600;
constexpr mode_t kPublicMode = 0644;

// step's CA certificates live ten years (87600h), the listener's 90 days.
constexpr std::chrono::hours kCaLifetime{87600};
constexpr std::chrono::hours kTlsLifetime{24 * 90};
constexpr std::chrono::minutes kBackdate{1};

bool IsIpv6(const std::string& host) {
  unsigned char buf[16];
  return inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

TimePoint NowSeconds() {
  return std::chrono::time_point_cast<std::chrono::seconds>(Clock::now());
}

}  // namespace

JsonPtr StepLogger() {
  JsonPtr logger(json_object());
  json_object_set_new(logger.get(), "format", json_string("text"));
  return logger;
}

JsonPtr StepDb(const std::string& dir) {
  JsonPtr db(json_object());
  json_object_set_new(db.get(), "type", json_string("badgerv2"));
  json_object_set_new(db.get(), "dataSource", json_string(dir.c_str()));
  json_object_set_new(db.get(), "badgerFileLoadingMode", json_string(""));
  return db;
}

JsonPtr StringArray(const std::vector<std::string>& values) {
  JsonPtr arr(json_array());
  for (const auto& v : values) json_array_append_new(arr.get(), json_string(v.c_str()));
  return arr;
}

JsonPtr DefaultTlsOptions() {
  JsonPtr tls(json_object());
  json_object_set_new(tls.get(), "cipherSuites",
                      StringArray({"TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
                                   "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"})
                          .release());
  json_object_set_new(tls.get(), "minVersion", json_real(1.2));
  json_object_set_new(tls.get(), "maxVersion", json_real(1.3));
  json_object_set_new(tls.get(), "renegotiation", json_false());
  return tls;
}

namespace {

// The files `step ssh config` renders (POST /ssh/config): for users, the
// ssh client configuration that sends hosts of this CA through step and
// the known_hosts line trusting the host CA; for hosts, the sshd lines and
// the user CA key.
struct SshTemplate {
  const char* file;
  const char* kind;  // user or host
  const char* type;
  const char* path;
  const char* text;
  bool requires_cert_and_key;
};

constexpr SshTemplate kSshTemplates[] = {
    {"config.tpl", "user", "snippet", "~/.ssh/config",
     "Host *\n\tInclude \"{{- if .User.StepBasePath }}{{ .User.StepBasePath }}{{- else }}"
     "{{ .User.StepPath }}{{- end }}/ssh/includes\"",
     false},
    {"step_includes.tpl", "user", "prepend-line", "${STEPPATH}/ssh/includes",
     "Include \"{{ .User.StepPath }}/ssh/config\"", false},
    {"step_config.tpl", "user", "file", "ssh/config",
     "Match exec \"step ssh check-host{{- if .User.Context }} --context {{ .User.Context }}{{- end }} %h\"\n"
     "{{- if .User.User }}\n\tUser {{ .User.User }}\n{{- end }}\n"
     "\tUserKnownHostsFile \"{{ .User.StepPath }}/ssh/known_hosts\"\n"
     "\tProxyCommand step ssh proxycommand{{- if .User.Context }} --context {{ .User.Context }}{{- end }} %r %h %p\n",
     false},
    {"known_hosts.tpl", "user", "file", "ssh/known_hosts",
     "@cert-authority * {{ .Step.SSH.HostKey.Type }} {{ .Step.SSH.HostKey.Marshal | toString | b64enc }}\n"
     "{{- range .Step.SSH.HostFederatedKeys }}\n"
     "@cert-authority * {{ .Type }} {{ .Marshal | toString | b64enc }}\n{{- end }}\n",
     false},
    {"sshd_config.tpl", "host", "snippet", "/etc/ssh/sshd_config",
     "Match all\n\tTrustedUserCAKeys /etc/ssh/ca.pub\n"
     "\tHostCertificate /etc/ssh/{{ .User.Certificate }}\n\tHostKey /etc/ssh/{{ .User.Key }}",
     true},
    {"ca.tpl", "host", "snippet", "/etc/ssh/ca.pub",
     "{{ .Step.SSH.UserKey.Type }} {{ .Step.SSH.UserKey.Marshal | toString | b64enc }}\n"
     "{{- range .Step.SSH.UserFederatedKeys }}\n{{ .Type }} {{ .Marshal | toString | b64enc }}\n{{- end }}\n",
     false},
};

// The top-level "templates" of ca.json for kSshTemplates, and the files.
Result<JsonPtr> WriteSshTemplates(const std::string& templates_dir) {
  const std::string dir = JoinPath(templates_dir, "ssh");
  STEPCA_RETURN_IF_ERROR(MakeDirs(dir, kDirMode));
  JsonPtr user(json_array()), host(json_array());
  for (const SshTemplate& t : kSshTemplates) {
    STEPCA_RETURN_IF_ERROR(WriteFile(JoinPath(dir, t.file), t.text, kPublicMode));
    JsonPtr e(json_object());
    json_object_set_new(e.get(), "name", json_string(t.file));
    json_object_set_new(e.get(), "type", json_string(t.type));
    json_object_set_new(e.get(), "template", json_string((std::string("templates/ssh/") + t.file).c_str()));
    json_object_set_new(e.get(), "path", json_string(t.path));
    json_object_set_new(e.get(), "comment", json_string("#"));
    if (t.requires_cert_and_key)
      json_object_set_new(e.get(), "requires", StringArray({"Certificate", "Key"}).release());
    json_array_append_new(std::string(t.kind) == "user" ? user.get() : host.get(), e.release());
  }
  JsonPtr ssh(json_object());
  json_object_set_new(ssh.get(), "user", user.release());
  json_object_set_new(ssh.get(), "host", host.release());
  JsonPtr out(json_object());
  json_object_set_new(out.get(), "ssh", ssh.release());
  return out;
}

// One SSH CA key pair: an EC P-256 key, encrypted as the X.509 keys are,
// and its authorized_keys line.
Status WriteSshKeyPair(const std::string& pub_path, const std::string& key_path,
                       const std::string& password) {
  STEPCA_ASSIGN_OR_RETURN(EvpPkeyPtr key, GenerateKey("EC", "P-256"));
  STEPCA_ASSIGN_OR_RETURN(std::string blob, ssh::MarshalPublicKey(key.get()));
  STEPCA_ASSIGN_OR_RETURN(std::string pem, PrivateKeyToPem(key.get(), password));
  Status st = WriteFile(key_path, pem, kSecretMode);
  Wipe(pem);
  STEPCA_RETURN_IF_ERROR(st);
  return WriteFile(pub_path, ssh::AuthorizedKeyLine(blob) + "\n", kPublicMode);
}

}  // namespace

Result<std::string> CaUrlFor(const std::string& dns_name,
                             const std::string& address) {
  size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon + 1 == address.size()) {
    return InvalidArgument("invalid address '" + address +
                           "': missing port in address");
  }
  std::string port = address.substr(colon + 1);
  for (char c : port) {
    if (c < '0' || c > '9') {
      return InvalidArgument("invalid address '" + address + "': bad port");
    }
  }
  std::string host = dns_name;
  if (IsIpv6(host)) host = "[" + host + "]";
  std::string url = "https://" + host;
  if (port != "443") url += ":" + port;
  return url;
}

JsonPtr OrderJwkMembers(const json_t* jwk) {
  static const char* const kOrder[] = {"use", "kty", "kid", "crv", "alg",
                                       "k",   "x",   "y",   "n",   "e",
                                       "d",   "p",   "q",   "dp",  "dq",
                                       "qi"};
  JsonPtr out(json_object());
  for (const char* key : kOrder) {
    json_t* v = json_object_get(jwk, key);
    if (v != nullptr) json_object_set(out.get(), key, v);
  }
  const char* key;
  json_t* v;
  json_object_foreach(const_cast<json_t*>(jwk), key, v) {
    if (json_object_get(out.get(), key) == nullptr) {
      json_object_set(out.get(), key, v);
    }
  }
  return out;
}

Result<JsonPtr> MakeJwkProvisioner(const std::string& name,
                                   const std::string& password, int p2c) {
  STEPCA_ASSIGN_OR_RETURN(EvpPkeyPtr key, GenerateKey("EC", "P-256"));
  STEPCA_ASSIGN_OR_RETURN(std::string kid, JwkThumbprint(key.get()));
  STEPCA_ASSIGN_OR_RETURN(JsonPtr pub, JwkToJson(key.get(), false, kid, "ES256"));
  STEPCA_ASSIGN_OR_RETURN(JsonPtr priv, JwkToJson(key.get(), true, kid, "ES256"));
  std::string plaintext = GoJson(OrderJwkMembers(priv.get()).get());
  auto jwe = EncryptPbes2Jwe(plaintext, password, "jwk+json", p2c);
  Wipe(plaintext);
  if (!jwe.ok()) return jwe.status();
  JsonPtr prov(json_object());
  json_object_set_new(prov.get(), "type", json_string("JWK"));
  json_object_set_new(prov.get(), "name", json_string(name.c_str()));
  json_object_set_new(prov.get(), "key", OrderJwkMembers(pub.get()).release());
  json_object_set_new(prov.get(), "encryptedKey", json_string(jwe->c_str()));
  return prov;
}

std::string FormatCaJson(const json_t* config) {
  return GoJson(config, "\t") + "\n";
}

Result<InitResult> InitPki(const InitOptions& o) {
  if (o.name.empty()) return InvalidArgument("flag '--name' is required");
  if (o.dns.empty()) return InvalidArgument("flag '--dns' is required");
  if (o.address.empty()) return InvalidArgument("flag '--address' is required");
  if (o.provisioner.empty()) {
    return InvalidArgument("flag '--provisioner' is required");
  }
  if (o.password.empty() && o.kms.empty()) return InvalidArgument("the CA password is empty");
  if (o.provisioner_password.empty()) {
    return InvalidArgument("the provisioner password is empty");
  }
  if (o.kty != "EC" && o.kty != "OKP" && o.kty != "RSA") {
    return InvalidArgument("invalid value '" + o.kty + "' for flag '--kty'");
  }
  if (!o.kms.empty() && !o.intermediate_template.empty())
    return InvalidArgument("flags '--kms' and '--intermediate-template' cannot be used together yet");

  InitResult r;
  r.steppath = AbsolutePath(o.steppath.empty() ? DefaultStepPath() : o.steppath);
  while (r.steppath.size() > 1 && r.steppath.back() == '/') r.steppath.pop_back();
  const std::string certs = JoinPath(r.steppath, "certs");
  const std::string secrets = JoinPath(r.steppath, "secrets");
  const std::string config = JoinPath(r.steppath, "config");
  r.db_dir = JoinPath(r.steppath, "db");
  r.templates_dir = JoinPath(r.steppath, "templates");
  r.root_cert = JoinPath(certs, "root_ca.crt");
  r.intermediate_cert = JoinPath(certs, "intermediate_ca.crt");
  const bool tls_files = o.tls_files || !o.kms.empty();
  if (tls_files) r.tls_cert = JoinPath(certs, "tls.crt");
  r.root_key = JoinPath(secrets, "root_ca_key");
  r.intermediate_key = JoinPath(secrets, "intermediate_ca_key");
  if (tls_files) r.tls_key = JoinPath(secrets, "tls.key");
  r.ca_config = JoinPath(config, "ca.json");
  r.defaults = JoinPath(config, "defaults.json");
  r.nginx_conf = JoinPath(config, "nginx-stepca.conf");
  if (o.ssh) {
    r.ssh_user_pub = JoinPath(certs, "ssh_user_ca_key.pub");
    r.ssh_host_pub = JoinPath(certs, "ssh_host_ca_key.pub");
    r.ssh_user_key = JoinPath(secrets, "ssh_user_ca_key");
    r.ssh_host_key = JoinPath(secrets, "ssh_host_ca_key");
  }
  STEPCA_ASSIGN_OR_RETURN(r.ca_url, CaUrlFor(o.dns[0], o.address));

  struct stat st;
  if (!o.force && stat(r.ca_config.c_str(), &st) == 0) {
    return AlreadyExists(r.ca_config + " already exists (use --force to overwrite)");
  }

  for (const std::string& dir :
       {r.steppath, certs, secrets, config, r.db_dir, r.templates_dir}) {
    STEPCA_RETURN_IF_ERROR(MakeDirs(dir, kDirMode));
  }

  // Root and intermediate: in files, or made on the token of --kms.
  const TimePoint now = NowSeconds();
  KmsKeys kms;
  EvpPkeyPtr root_key, int_key;
  if (!o.kms.empty()) {
    STEPCA_ASSIGN_OR_RETURN(kms, CreateKmsKeys(o.kms, o.kty, o.ssh));
    r.root_key = kms.root_uri;
    r.intermediate_key = kms.intermediate_uri;
    if (o.ssh) {
      r.ssh_user_key = kms.ssh_user_uri;
      r.ssh_host_key = kms.ssh_host_uri;
    }
  } else {
    STEPCA_ASSIGN_OR_RETURN(root_key, GenerateKey(o.kty, ""));
    STEPCA_ASSIGN_OR_RETURN(int_key, GenerateKey(o.kty, ""));
  }
  CaCertificateRequest root_req;
  root_req.organization = o.name;
  root_req.common_name = o.name + " Root CA";
  root_req.path_len = 1;
  root_req.key = kms.root ? kms.root->PublicKey() : root_key.get();
  root_req.issuer_key = root_key.get();
  root_req.issuer_signer = kms.root.get();
  root_req.not_before = now;
  root_req.not_after = now + kCaLifetime;
  STEPCA_ASSIGN_OR_RETURN(X509Ptr root, MakeCaCertificate(root_req));

  CaCertificateRequest int_req = root_req;
  int_req.common_name = o.name + " Intermediate CA";
  int_req.path_len = 0;
  int_req.key = kms.intermediate ? kms.intermediate->PublicKey() : int_key.get();
  int_req.issuer = root.get();
  int_req.issuer_key = root_key.get();
  X509Ptr intermediate;
  if (o.intermediate_template.empty()) {
    STEPCA_ASSIGN_OR_RETURN(intermediate, MakeCaCertificate(int_req));
  } else {
    TemplateCertificateRequest t;
    t.template_text = o.intermediate_template;
    t.template_name = o.intermediate_template_name;
    t.common_name = int_req.common_name;
    t.organization = o.name;
    t.key = int_key.get();
    t.issuer = root.get();
    t.issuer_key = root_key.get();
    t.not_before = int_req.not_before;
    t.not_after = int_req.not_after;
    auto made = MakeCertificateFromTemplate(t);
    if (!made.ok())
      return InvalidArgument(o.intermediate_template_name + ": " + made.status().message());
    intermediate = std::move(made).value();
  }


  std::string root_key_pem, int_key_pem;
  if (o.kms.empty()) {
    STEPCA_ASSIGN_OR_RETURN(root_key_pem, PrivateKeyToPem(root_key.get(), o.password));
    STEPCA_ASSIGN_OR_RETURN(int_key_pem, PrivateKeyToPem(int_key.get(), o.password));
  }
  const std::string int_pem = CertificateToPemText(intermediate.get());
  STEPCA_RETURN_IF_ERROR(WriteFile(r.root_cert, CertificateToPemText(root.get()), kPublicMode));
  if (o.kms.empty()) STEPCA_RETURN_IF_ERROR(WriteFile(r.root_key, root_key_pem, kSecretMode));
  STEPCA_RETURN_IF_ERROR(WriteFile(r.intermediate_cert, int_pem, kPublicMode));
  if (o.kms.empty()) STEPCA_RETURN_IF_ERROR(WriteFile(r.intermediate_key, int_key_pem, kSecretMode));
  Wipe(root_key_pem);
  Wipe(int_key_pem);
  if (!r.tls_cert.empty()) {
    // The listener's certificate, issued by the intermediate.
    STEPCA_ASSIGN_OR_RETURN(EvpPkeyPtr tls_key, GenerateKey("EC", "P-256"));
    ServerCertificateRequest tls_req;
    tls_req.common_name = o.dns[0];
    tls_req.names = o.dns;
    tls_req.key = tls_key.get();
    tls_req.issuer = intermediate.get();
    tls_req.issuer_key = int_key.get();
    tls_req.issuer_signer = kms.intermediate.get();
    tls_req.not_before = now - kBackdate;
    tls_req.not_after = now + kTlsLifetime;
    STEPCA_ASSIGN_OR_RETURN(X509Ptr tls, MakeServerCertificate(tls_req));
    STEPCA_ASSIGN_OR_RETURN(std::string tls_key_pem, PrivateKeyToPem(tls_key.get(), ""));
    STEPCA_RETURN_IF_ERROR(
        WriteFile(r.tls_cert, CertificateToPemText(tls.get()) + int_pem, kPublicMode));
    Status wrote = WriteFile(r.tls_key, tls_key_pem, kSecretMode);
    Wipe(tls_key_pem);
    STEPCA_RETURN_IF_ERROR(wrote);
  }
  r.fingerprint = Fingerprint(root.get());
  JsonPtr templates;
  if (o.ssh) {
    if (kms.ssh_user) {
      // The keys are on the token: only their public halves are written.
      for (auto [signer, pub] : {std::pair{kms.ssh_user.get(), &r.ssh_user_pub},
                                 std::pair{kms.ssh_host.get(), &r.ssh_host_pub}}) {
        STEPCA_ASSIGN_OR_RETURN(std::string blob, ssh::MarshalPublicKey(signer->PublicKey()));
        STEPCA_RETURN_IF_ERROR(WriteFile(*pub, ssh::AuthorizedKeyLine(blob) + "\n", kPublicMode));
      }
    } else {
      STEPCA_RETURN_IF_ERROR(WriteSshKeyPair(r.ssh_user_pub, r.ssh_user_key, o.password));
      STEPCA_RETURN_IF_ERROR(WriteSshKeyPair(r.ssh_host_pub, r.ssh_host_key, o.password));
    }
    STEPCA_ASSIGN_OR_RETURN(templates, WriteSshTemplates(r.templates_dir));
  }

  // config/ca.json, member for member as step writes it.
  STEPCA_ASSIGN_OR_RETURN(
      JsonPtr jwk_prov,
      MakeJwkProvisioner(o.provisioner, o.provisioner_password, o.p2c));
  JsonPtr provisioners(json_array());
  if (o.ssh) json_object_set_new(jwk_prov.get(), "claims", json_pack("{s:b}", "enableSSHCA", 1));
  json_array_append_new(provisioners.get(), jwk_prov.release());
  if (o.acme) {
    JsonPtr acme(json_object());
    json_object_set_new(acme.get(), "type", json_string("ACME"));
    json_object_set_new(acme.get(), "name", json_string("acme"));
    json_array_append_new(provisioners.get(), acme.release());
  }
  if (o.ssh) {
    json_array_append_new(provisioners.get(),
                          json_pack("{s:s,s:s,s:{s:b}}", "type", "SSHPOP", "name", "sshpop",
                                    "claims", "enableSSHCA", 1));
  }
  JsonPtr authority(json_object());
  json_object_set_new(authority.get(), "provisioners", provisioners.release());
  json_object_set_new(authority.get(), "template", json_object());
  json_object_set_new(authority.get(), "backdate", json_string("1m0s"));


  JsonPtr ca(json_object());
  json_object_set_new(ca.get(), "root", json_string(r.root_cert.c_str()));
  json_object_set_new(ca.get(), "federatedRoots", json_null());
  json_object_set_new(ca.get(), "crt", json_string(r.intermediate_cert.c_str()));
  json_object_set_new(ca.get(), "key", json_string(r.intermediate_key.c_str()));
  if (!o.kms.empty()) {
    JsonPtr kms_obj(json_object());
    json_object_set_new(kms_obj.get(), "type", json_string("pkcs11"));
    json_object_set_new(kms_obj.get(), "uri", json_string(o.kms.c_str()));
    json_object_set_new(ca.get(), "kms", kms_obj.release());
  }
  json_object_set_new(ca.get(), "address", json_string(o.address.c_str()));
  json_object_set_new(ca.get(), "insecureAddress", json_string(""));
  json_object_set_new(ca.get(), "dnsNames", StringArray(o.dns).release());
  if (o.ssh)
    json_object_set_new(ca.get(), "ssh", json_pack("{s:s,s:s}", "hostKey", r.ssh_host_key.c_str(),
                                                   "userKey", r.ssh_user_key.c_str()));
  json_object_set_new(ca.get(), "logger", StepLogger().release());
  json_object_set_new(ca.get(), "db", StepDb(r.db_dir).release());
  json_object_set_new(ca.get(), "authority", authority.release());
  json_object_set_new(ca.get(), "tls", DefaultTlsOptions().release());
  if (templates) json_object_set_new(ca.get(), "templates", templates.release());
  json_object_set_new(ca.get(), "commonName", json_string("Step Online CA"));
  // A kms uri with pin-value holds the token's PIN.
  const bool holds_pin = o.kms.find("pin-value=") != std::string::npos;
  STEPCA_RETURN_IF_ERROR(
      WriteFile(r.ca_config, FormatCaJson(ca.get()), holds_pin ? kSecretMode : kPublicMode));

  // config/defaults.json (step writes it without a trailing newline).
  JsonPtr defaults(json_object());
  json_object_set_new(defaults.get(), "ca-url", json_string(r.ca_url.c_str()));
  json_object_set_new(defaults.get(), "ca-config", json_string(r.ca_config.c_str()));
  json_object_set_new(defaults.get(), "fingerprint", json_string(r.fingerprint.c_str()));
  json_object_set_new(defaults.get(), "root", json_string(r.root_cert.c_str()));
  STEPCA_RETURN_IF_ERROR(
      WriteFile(r.defaults, GoJson(defaults.get(), "\t"), kPublicMode));
  STEPCA_RETURN_IF_ERROR(WriteFile(r.nginx_conf, NginxSnippet(o, r), kPublicMode));
  return r;
}

std::string NginxSnippet(const InitOptions& o, const InitResult& r) {
  // ":9000" listens on every address, as step-ca's address does.
  std::string listen = o.address.empty() ? "443" : o.address;
  if (listen[0] == ':') listen = listen.substr(1);
  std::string out =
      "# Written by stepca init: this CA in nginx. Include it in http {} (the\n"
      "# module loaded with load_module, a \"thread_pool stepca;\" in the main\n"
      "# context) and set the intermediate key's password file.\n"
      "stepca_ca_json       " + r.ca_config + ";\n"
      "# stepca_password_file /path/to/password.txt;\n"
      "stepca_store         lmdb:" + r.db_dir + ";\n"
      "stepca_thread_pool   stepca;\n"
      "\n"
      "server {\n"
      "    listen " + listen + " ssl;\n"
      "    server_name " + o.dns[0] + ";\n";
  if (o.kms.empty()) {
    out +=
        "    # the CA issues this listener's certificate for dnsNames and renews it\n"
        "    # at two thirds of its life\n"
        "    stepca_tls_certificate on;\n";
  } else {
    out +=
        "    # the key is on a token, which the nginx master never opens, so the\n"
        "    # CA cannot issue this listener's certificate itself: renew these\n"
        "    ssl_certificate     " + r.tls_cert + ";\n"
        "    ssl_certificate_key " + r.tls_key + ";\n";
  }
  out +=
      "    ssl_verify_client optional_no_ca;\n"
      "\n"
      "    location / {\n"
      "        stepca;\n"
      "    }\n"
      "}\n";
  return out;
}

void PrintInitSummary(const InitResult& r, std::ostream& out) {
  out << "\u2714 Root certificate: " << r.root_cert << "\n"
      << "\u2714 Root private key: " << r.root_key << "\n"
      << "\u2714 Root fingerprint: " << r.fingerprint << "\n"
      << "\u2714 Intermediate certificate: " << r.intermediate_cert << "\n"
      << "\u2714 Intermediate private key: " << r.intermediate_key << "\n"
      << (r.ssh_user_pub.empty() ? std::string()
                                 : "\u2714 SSH user public key: " + r.ssh_user_pub + "\n" +
                                       "\u2714 SSH user private key: " + r.ssh_user_key + "\n" +
                                       "\u2714 SSH host public key: " + r.ssh_host_pub + "\n" +
                                       "\u2714 SSH host private key: " + r.ssh_host_key + "\n")
      << (r.tls_cert.empty() ? std::string()
                             : "\u2714 TLS certificate: " + r.tls_cert + "\n" +
                                   "\u2714 TLS private key: " + r.tls_key + "\n")
      << "\u2714 Database folder: " << r.db_dir << "\n"
      << "\u2714 Templates folder: " << r.templates_dir << "\n"
      << "\u2714 Default configuration: " << r.defaults << "\n"
      << "\u2714 Certificate Authority configuration: " << r.ca_config << "\n"
      << "\u2714 nginx configuration: " << r.nginx_conf << "\n"
      << "\nYour PKI is ready to go. To generate certificates for individual "
         "services see 'stepca help'.\n";
}

}  // namespace cli
}  // namespace stepca
