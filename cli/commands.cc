#include "cli/commands.h"

#include <sys/stat.h>

#include "authority/x509/csr.h"
#include "cli/args.h"
#include "cli/template_cert.h"
#include "cli/crypto.h"
#include "cli/files.h"
#include "cli/init.h"
#include "cli/init_ra.h"
#include "cli/renew.h"
#include "cli/root_crl.h"
#include "cli/sign_flow.h"
#include "cli/migrate.h"
#include "cli/ssh_certificate.h"
#include "cli/token.h"

namespace stepca {
namespace cli {
namespace {

constexpr const char kUsage[] =
    "usage: stepca <command> [arguments]\n"
    "\n"
    "commands:\n"
    "  init         create a PKI and the CA configuration (like 'step ca init');\n"
    "               --kms 'pkcs11:module-path=...;token=...?pin-value=...' makes the\n"
    "               CA keys on a PKCS#11 token\n"
    "               --tls-files also writes certs/tls.crt and secrets/tls.key for an\n"
    "               ssl_certificate of your own (nothing renews them; written anyway\n"
    "               with --kms)\n"
    "               --ra stepcas|vaultcas|cloudcas writes a registration authority's\n"
    "               ca.json (README 'Registration authority mode')\n"
    "  token        generate a one-time token (like 'step ca token')\n"
    "  certificate  create a key and get a certificate (like 'step ca certificate')\n"
    "  certificate create SUBJECT CRT KEY --template FILE --ca CRT --ca-key KEY\n"
    "               a certificate from a template, offline (like 'step certificate create')\n"
    "  sign         get a certificate for a CSR (like 'step ca sign')\n"
    "  renew        renew a certificate over mTLS or with a token (like 'step ca renew')\n"
    "  revoke       revoke a certificate by token or over mTLS (like 'step ca revoke')\n"
    "  ssh certificate KEY_ID KEY_FILE [--host] [--sign] [--principal P]\n"
    "               get an SSH user or host certificate (like 'step ssh certificate')\n"
    "  crl revoke CRT --db FILE [--reason R] [--ca ROOT]\n"
    "  crl sign --db FILE --ca ROOT --ca-key KEY [--ca-password-file F] [--not-after 720h]\n"
    "           [--idp URL] [--pem] --out FILE\n"
    "  crl show --db FILE\n"
    "               the root's CRL of intermediates, offline (no 'openssl ca', no index.txt)\n"
    "  migrate --config ca.json [--from DB | --from-json FILE] [--store URI]\n"
    "          [--acme-provisioner NAME]\n"
    "               import a step-ca database's certificates, revocations and ACME accounts\n";

int Fail(std::ostream& err, const Status& st) {
  err << "error: " << st.message() << "\n";
  return 1;
}

int Fail(std::ostream& err, const std::string& message) {
  err << "error: " << message << "\n";
  return 1;
}

// Flags shared by the commands that need a token from a JWK provisioner.
const std::vector<FlagSpec> kTokenFlags = {
    {"san"},         {"provisioner"}, {"issuer"},     {"provisioner-password-file"},
    {"password-file"}, {"ca-url"},    {"root"},       {"ca-config"},
    {"offline", false}, {"not-before"}, {"not-after"}, {"steppath"},
    {"force", false}, {"f", false},
};

std::vector<FlagSpec> With(std::vector<FlagSpec> base, std::vector<FlagSpec> more) {
  base.insert(base.end(), more.begin(), more.end());
  return base;
}

// ca-url, root, ca-config and fingerprint: flags first, then
// $STEPPATH/config/defaults.json.
Result<TokenFlowOptions> ResolveClient(const Args& args) {
  std::string steppath = args.Get("steppath", DefaultStepPath());
  STEPCA_ASSIGN_OR_RETURN(ClientDefaults d, LoadClientDefaults(steppath));
  TokenFlowOptions o;
  o.ca_url = args.Get("ca-url", d.ca_url);
  o.root = args.Get("root", d.root);
  o.ca_config = args.Get("ca-config", d.ca_config);
  o.fingerprint = d.fingerprint;
  o.offline = args.Has("offline");
  o.provisioner = args.Get("provisioner", args.Get("issuer"));
  if (o.ca_url.empty()) return InvalidArgument("flag '--ca-url' is required");
  if (o.root.empty() && !o.offline) return InvalidArgument("flag '--root' is required");
  return o;
}

Result<std::string> ProvisionerPassword(const Args& args) {
  std::string file = args.Get("provisioner-password-file", args.Get("password-file"));
  if (file.empty()) {
    return InvalidArgument("flag '--provisioner-password-file' is required");
  }
  return ReadPasswordFile(file);
}

Result<std::string> MintFromFlags(const Args& args, const std::string& subject,
                                  const std::vector<std::string>& sans, bool revoke,
                                  const TokenFlowOptions& base) {
  TokenFlowOptions o = base;
  o.subject = subject;
  o.sans = sans;
  o.revoke = revoke;
  STEPCA_ASSIGN_OR_RETURN(o.password, ProvisionerPassword(args));
  auto token = GenerateToken(o);
  Wipe(o.password);
  return token;
}

bool Exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

// Posts the CSR, writes the chain; shared by certificate and sign.
int SignAndWrite(const Args& args, const TokenFlowOptions& client,
                 const std::string& csr_pem, const std::string& token,
                 const std::string& crt_file, std::ostream& out,
                 std::ostream& err) {
  std::string body = BuildSignBody(csr_pem, token, args.Get("not-before"),
                                   args.Get("not-after"));
  auto chain = SignCsr(client.ca_url, client.root, body);
  if (!chain.ok()) return Fail(err, chain.status());
  Status st = WriteFile(crt_file, chain.value(), 0600);
  if (!st.ok()) return Fail(err, st);
  return 0;
}

}  // namespace

// As step: in RA mode --password-file is the RA provisioner's password
// (there is no CA key to encrypt).
static int RunInitRa(const Args& args, std::ostream& out, std::ostream& err) {
  InitRaOptions o;
  o.ra = args.Get("ra");
  Status type = CheckRaType(o.ra);
  if (!type.ok()) return Fail(err, type);
  o.issuer = args.Get("issuer");
  o.issuer_fingerprint = args.Get("issuer-fingerprint");
  o.issuer_provisioner = args.Get("issuer-provisioner");
  o.credentials_file = args.Get("credentials-file");
  o.vault_pki_mount = args.Get("vault-pki-mount");
  o.vault_pki_role = args.Get("vault-pki-role");
  o.vault_pki_role_rsa = args.Get("vault-pki-role-rsa");
  o.vault_pki_role_ec = args.Get("vault-pki-role-ec");
  o.vault_pki_role_ed25519 = args.Get("vault-pki-role-ed25519");
  o.vault_auth_mount = args.Get("vault-auth-mount");
  o.vault_namespace = args.Get("vault-namespace");
  o.vault_role_id = args.Get("vault-role-id");
  o.vault_secret_id_file = args.Get("vault-secret-id-file");
  o.vault_wrapped = args.Has("vault-wrapped");
  o.vault_kubernetes_role = args.Get("vault-kubernetes-role");
  o.vault_token_path = args.Get("vault-token-path");
  for (const std::string& d : args.GetAll("dns")) {
    size_t start = 0;
    while (start <= d.size()) {
      size_t comma = d.find(',', start);
      std::string part = d.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      if (!part.empty()) o.dns.push_back(part);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  o.address = args.Get("address");
  o.provisioner = args.Get("provisioner");
  o.steppath = args.Get("steppath", DefaultStepPath());
  o.acme = args.Has("acme");
  o.force = args.Has("force") || args.Has("f");
  const std::string pw_flag =
      args.Has("provisioner-password-file") ? "provisioner-password-file" : "password-file";
  if (!args.Has(pw_flag)) return Fail(err, "flag '--password-file' is required");
  auto pw = ReadPasswordFile(args.Get(pw_flag));
  if (!pw.ok()) return Fail(err, pw.status());
  o.provisioner_password = pw.value();
  auto result = InitRa(o);
  Wipe(o.provisioner_password);
  if (!result.ok()) return Fail(err, result.status());
  PrintInitRaSummary(result.value(), out);
  return 0;
}

int RunInit(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err) {
  auto parsed = Args::Parse(argv, {{"name"}, {"dns"}, {"address"}, {"provisioner"},
                                   {"password-file"}, {"provisioner-password-file"},
                                   {"steppath"}, {"acme", false}, {"ssh", false}, {"kty"},
                                   {"force", false}, {"f", false}, {"tls-files", false},
                                   {"deployment-type"}, {"intermediate-template"}, {"kms"},
                                   {"ra"}, {"issuer"}, {"issuer-fingerprint"},
                                   {"issuer-provisioner"}, {"credentials-file"},
                                   {"vault-pki-mount"}, {"vault-pki-role"}, {"vault-pki-role-rsa"},
                                   {"vault-pki-role-ec"}, {"vault-pki-role-ed25519"},
                                   {"vault-auth-mount"}, {"vault-namespace"}, {"vault-role-id"},
                                   {"vault-secret-id-file"}, {"vault-wrapped", false},
                                   {"vault-kubernetes-role"}, {"vault-token-path"}});
  if (!parsed.ok()) return Fail(err, parsed.status());
  const Args& args = parsed.value();
  if (!args.positional().empty()) {
    return Fail(err, "too many positional arguments were provided");
  }
  if (args.Has("ra")) return RunInitRa(args, out, err);
  std::string deployment = args.Get("deployment-type", "standalone");
  if (deployment != "standalone") {
    return Fail(err, "only '--deployment-type standalone' is supported");
  }
  InitOptions o;
  o.name = args.Get("name");
  o.dns = args.GetAll("dns");
  o.address = args.Get("address");
  o.provisioner = args.Get("provisioner");
  o.steppath = args.Get("steppath", DefaultStepPath());
  o.acme = args.Has("acme");
  o.ssh = args.Has("ssh");
  o.tls_files = args.Has("tls-files");
  o.force = args.Has("force") || args.Has("f");
  o.kty = args.Get("kty", "EC");
  if (args.Has("intermediate-template")) {
    auto text = ReadFile(args.Get("intermediate-template"));
    if (!text.ok()) return Fail(err, text.status());
    o.intermediate_template = text.value();
    o.intermediate_template_name = args.Get("intermediate-template");
  }
  // step takes several names in one --dns too: "a,b".
  std::vector<std::string> dns;
  for (const std::string& d : o.dns) {
    size_t start = 0;
    while (start <= d.size()) {
      size_t comma = d.find(',', start);
      std::string part = d.substr(start, comma == std::string::npos ? std::string::npos
                                                                     : comma - start);
      if (!part.empty()) dns.push_back(part);
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
  }
  o.dns = dns;
  o.kms = args.Get("kms");
  // With --kms the CA keys are on the token: no key password.
  if (!args.Has("password-file") && o.kms.empty())
    return Fail(err, "flag '--password-file' is required");
  if (!args.Has("provisioner-password-file")) {
    return Fail(err, "flag '--provisioner-password-file' is required");
  }
  if (args.Has("password-file")) {
    auto pw = ReadPasswordFile(args.Get("password-file"));
    if (!pw.ok()) return Fail(err, pw.status());
    o.password = pw.value();
  }
  auto ppw = ReadPasswordFile(args.Get("provisioner-password-file"));
  if (!ppw.ok()) return Fail(err, ppw.status());
  o.provisioner_password = ppw.value();
  auto result = InitPki(o);
  Wipe(o.password);
  Wipe(o.provisioner_password);
  if (!result.ok()) return Fail(err, result.status());
  PrintInitSummary(result.value(), out);
  return 0;
}

int RunToken(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err) {
  auto parsed = Args::Parse(argv, With(kTokenFlags, {{"revoke", false}}));
  if (!parsed.ok()) return Fail(err, parsed.status());
  const Args& args = parsed.value();
  if (args.positional().size() != 1) {
    return Fail(err, "'stepca token' requires the SUBJECT argument");
  }
  auto client = ResolveClient(args);
  if (!client.ok()) return Fail(err, client.status());
  // X.509 JWK tokens carry no validity: --not-before/--not-after are
  // accepted as step does, and used by the sign request, not the token.
  auto token = MintFromFlags(args, args.positional()[0], args.GetAll("san"),
                             args.Has("revoke"), client.value());
  if (!token.ok()) return Fail(err, token.status());
  out << token.value() << "\n";
  return 0;
}

int RunCertificate(const std::vector<std::string>& argv, std::ostream& out,
                   std::ostream& err) {
  auto parsed = Args::Parse(
      argv, With(kTokenFlags, {{"token"}, {"kty"}, {"curve"}, {"crv"}, {"size"}}));
  if (!parsed.ok()) return Fail(err, parsed.status());
  const Args& args = parsed.value();
  if (args.positional().size() != 3) {
    return Fail(err, "'stepca certificate' requires the SUBJECT, CRT_FILE and KEY_FILE arguments");
  }
  const std::string& subject = args.positional()[0];
  const std::string& crt_file = args.positional()[1];
  const std::string& key_file = args.positional()[2];
  bool force = args.Has("force") || args.Has("f");
  if (!force) {
    for (const std::string& f : {crt_file, key_file}) {
      if (Exists(f)) return Fail(err, f + " already exists (use --force to overwrite)");
    }
  }
  auto client = ResolveClient(args);
  if (!client.ok()) return Fail(err, client.status());

  std::vector<std::string> sans = args.GetAll("san");
  std::string token = args.Get("token");
  if (!token.empty()) {
    auto names = TokenNamesOf(token);
    if (!names.ok()) return Fail(err, "error parsing token: " + names.status().message());
    if (sans.empty()) sans = names->sans;
  } else {
    auto minted = MintFromFlags(args, subject, sans, false, client.value());
    if (!minted.ok()) return Fail(err, minted.status());
    token = minted.value();
  }
  if (sans.empty()) sans.push_back(subject);

  int bits = 0;
  if (args.Has("size")) {
    try {
      bits = std::stoi(args.Get("size"));
    } catch (...) {
      return Fail(err, "invalid value '" + args.Get("size") + "' for flag '--size'");
    }
  }
  auto key = GenerateKey(args.Get("kty", "EC"), args.Get("curve", args.Get("crv")), bits);
  if (!key.ok()) return Fail(err, key.status());
  auto csr = MakeCsr(key->get(), subject, sans);
  if (!csr.ok()) return Fail(err, csr.status());
  int rc = SignAndWrite(args, client.value(), CsrToPem(csr->get()), token, crt_file,
                        out, err);
  if (rc != 0) return rc;
  auto key_pem = PrivateKeyToPem(key->get(), "");
  if (!key_pem.ok()) return Fail(err, key_pem.status());
  Status st = WriteFile(key_file, key_pem.value(), 0600);
  Wipe(key_pem.value());
  if (!st.ok()) return Fail(err, st);
  err << "\u2714 CA: " << client->ca_url << "\n"
      << "\u2714 Certificate: " << crt_file << "\n"
      << "\u2714 Private Key: " << key_file << "\n";
  return 0;
}

int RunSign(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err) {
  auto parsed = Args::Parse(argv, With(kTokenFlags, {{"token"}}));
  if (!parsed.ok()) return Fail(err, parsed.status());
  const Args& args = parsed.value();
  if (args.positional().size() != 2) {
    return Fail(err, "'stepca sign' requires the CSR_FILE and CRT_FILE arguments");
  }
  const std::string& csr_file = args.positional()[0];
  const std::string& crt_file = args.positional()[1];
  if (!(args.Has("force") || args.Has("f")) && Exists(crt_file)) {
    return Fail(err, crt_file + " already exists (use --force to overwrite)");
  }
  auto client = ResolveClient(args);
  if (!client.ok()) return Fail(err, client.status());
  auto csr_pem = ReadFile(csr_file);
  if (!csr_pem.ok()) return Fail(err, csr_pem.status());
  auto csr = ParseCsrPem(csr_pem.value());
  if (!csr.ok()) return Fail(err, csr.status());

  std::string token = args.Get("token");
  if (token.empty()) {
    // The token names what the CSR asks for.
    std::vector<std::string> sans;
    const SanSet& s = csr->sans;
    for (const auto* kind : {&s.dns, &s.ips, &s.emails, &s.uris}) {
      sans.insert(sans.end(), kind->begin(), kind->end());
    }
    std::string subject = csr->common_name;
    if (subject.empty() && !sans.empty()) subject = sans[0];
    if (subject.empty()) return Fail(err, "the CSR has no common name and no SANs");
    if (sans.empty()) sans.push_back(subject);
    auto minted = MintFromFlags(args, subject, sans, false, client.value());
    if (!minted.ok()) return Fail(err, minted.status());
    token = minted.value();
  }
  int rc = SignAndWrite(args, client.value(), csr_pem.value(), token, crt_file, out, err);
  if (rc != 0) return rc;
  err << "\u2714 CA: " << client->ca_url << "\n"
      << "\u2714 Certificate: " << crt_file << "\n";
  return 0;
}

int RunCli(int argc, const char* const* argv, std::ostream& out, std::ostream& err) {
  if (argc < 2) {
    err << kUsage;
    return 1;
  }
  std::string cmd = argv[1];
  std::vector<std::string> rest(argv + 2, argv + argc);
  // "stepca ca token ..." reads like step; accept it.
  if (cmd == "ca" && !rest.empty()) {
    cmd = rest[0];
    rest.erase(rest.begin());
  }
  for (const std::string& a : rest) {
    if (a == "--help" || a == "-h") {
      out << kUsage;
      return 0;
    }
    if (a == "--") break;
  }
  if (cmd == "init") return RunInit(rest, out, err);
  if (cmd == "token") return RunToken(rest, out, err);
  // `certificate create ... --template|--ca-key`: step's offline
  // `certificate create`; otherwise the online `ca certificate`.
  if (cmd == "certificate" && !rest.empty() && rest[0] == "create") {
    for (const std::string& a : rest)
      if (a.rfind("--template", 0) == 0 || a.rfind("--ca-key", 0) == 0)
        return RunCertificateCreate(std::vector<std::string>(rest.begin() + 1, rest.end()), out, err);
  }
  if (cmd == "certificate") return RunCertificate(rest, out, err);
  if (cmd == "sign") return RunSign(rest, out, err);
  if (cmd == "ssh") return RunSsh(rest, out, err);
  if (cmd == "renew") return RunRenew(rest, out, err);
  if (cmd == "revoke") return RunRevoke(rest, out, err);
  if (cmd == "crl") return RunCrl(rest, out, err);
  if (cmd == "migrate") return RunMigrate(rest, out, err);
  if (cmd == "help" || cmd == "--help" || cmd == "-h") {
    out << kUsage;
    return 0;
  }
  err << "stepca: unknown command '" << cmd << "'\n" << kUsage;
  return 1;
}

}  // namespace cli
}  // namespace stepca
