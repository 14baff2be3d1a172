#include "cli/ssh_certificate.h"

#include <sys/stat.h>

#include <cstdlib>
#include <optional>

#include "authority/config/ca_config.h"
#include "authority/ssh/public_key.h"
#include "cli/args.h"
#include "cli/crypto.h"
#include "cli/files.h"
#include "cli/http.h"
#include "cli/token.h"
#include "shared/base64.h"

namespace stepca {
namespace cli {
namespace {

int Fail(std::ostream& err, const std::string& message) {
  err << "error: " << message << "\n";
  return 1;
}

bool Exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

int RunSshCertificate(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err) {
  auto parsed = Args::Parse(argv, {{"host", false}, {"sign", false}, {"principal"}, {"n"},
                                   {"not-before"}, {"not-after"}, {"kty"}, {"curve"}, {"crv"},
                                   {"size"}, {"force", false}, {"f", false}, {"provisioner"},
                                   {"issuer"}, {"provisioner-password-file"}, {"password-file"},
                                   {"ca-url"}, {"root"}, {"ca-config"}, {"offline", false},
                                   {"steppath"}, {"no-password", false}, {"insecure", false},
                                   {"no-agent", false}});
  if (!parsed.ok()) return Fail(err, parsed.status().message());
  const Args& args = parsed.value();
  if (args.positional().size() != 2)
    return Fail(err, "'stepca ssh certificate' requires the KEY_ID and KEY_FILE arguments");
  const std::string& key_id = args.positional()[0];
  const std::string& key_file = args.positional()[1];
  const bool host = args.Has("host");
  const bool sign = args.Has("sign");
  const bool force = args.Has("force") || args.Has("f");
  const std::string cert_file = SshCertificatePath(key_file, sign);
  if (!force) {
    std::vector<std::string> written = {cert_file};
    if (!sign) written.insert(written.end(), {key_file, key_file + ".pub"});
    for (const auto& f : written)
      if (Exists(f)) return Fail(err, f + " already exists (use --force to overwrite)");
  }

  const std::string steppath = args.Get("steppath", DefaultStepPath());
  auto defaults = LoadClientDefaults(steppath);
  if (!defaults.ok()) return Fail(err, defaults.status().message());
  TokenFlowOptions o;
  o.ca_url = args.Get("ca-url", defaults->ca_url);
  o.root = args.Get("root", defaults->root);
  o.ca_config = args.Get("ca-config", defaults->ca_config);
  o.fingerprint = defaults->fingerprint;
  o.offline = args.Has("offline");
  o.provisioner = args.Get("provisioner", args.Get("issuer"));
  o.subject = key_id;
  if (o.ca_url.empty()) return Fail(err, "flag '--ca-url' is required");
  if (o.root.empty()) return Fail(err, "flag '--root' is required");
  const std::string pw_file = args.Get("provisioner-password-file", args.Get("password-file"));
  if (pw_file.empty()) return Fail(err, "flag '--provisioner-password-file' is required");
  auto pw = ReadPasswordFile(pw_file);
  if (!pw.ok()) return Fail(err, pw.status().message());
  o.password = pw.value();

  std::vector<std::string> principals = args.GetAll("principal");
  for (const auto& n : args.GetAll("n")) principals.push_back(n);
  if (principals.empty()) principals = DefaultSshPrincipals(host, key_id);

  // The subject key: read (--sign) or made here.
  std::string blob;
  EvpPkeyPtr key;
  if (sign) {
    auto line = ReadFile(key_file);
    if (!line.ok()) return Fail(err, line.status().message());
    auto pub = ssh::ParseAuthorizedKey(Trim(line.value()));
    if (!pub.ok()) return Fail(err, key_file + ": " + pub.status().message());
    blob = pub->blob;
  } else {
    const std::string kty = args.Get("kty", "EC");
    // OpenSSH reads EC and RSA keys in PEM; an Ed25519 key needs its own
    // format, which this command does not write: make one with ssh-keygen
    // and use --sign.
    if (kty != "EC" && kty != "RSA")
      return Fail(err, "--kty " + kty + " is not supported here; use EC or RSA, or --sign an ssh-keygen key");
    int bits = 0;
    if (args.Has("size")) bits = std::atoi(args.Get("size").c_str());
    auto k = GenerateKey(kty, args.Get("curve", args.Get("crv")), bits);
    if (!k.ok()) return Fail(err, k.status().message());
    key = std::move(k).value();
    auto b = ssh::MarshalPublicKey(key.get());
    if (!b.ok()) return Fail(err, b.status().message());
    blob = b.value();
  }

  JsonPtr claim = SshTokenClaim(host, key_id, principals, args.Get("not-before"), args.Get("not-after"));
  o.ssh = claim.get();
  auto token = GenerateToken(o);
  Wipe(o.password);
  if (!token.ok()) return Fail(err, token.status().message());
  const std::string body = BuildSshSignBody(blob, token.value(), host, key_id, principals,
                                            args.Get("not-before"), args.Get("not-after"));
  auto resp = HttpPostJson(NormalizeCaUrl(o.ca_url) + "/ssh/sign", body, o.root);
  if (!resp.ok()) return Fail(err, resp.status().message());
  auto j = JsonBody(resp.value());
  if (!j.ok()) return Fail(err, j.status().message());
  const char* crt = json_string_value(json_object_get(j->get(), "crt"));
  auto wire = crt ? Base64Decode(crt) : std::nullopt;
  if (!wire) return Fail(err, "the CA's answer has no certificate");
  const std::string cert_type = ssh::BlobType(*wire);
  const std::string suffix = "-cert-v01@openssh.com";
  if (cert_type.size() <= suffix.size() ||
      cert_type.compare(cert_type.size() - suffix.size(), suffix.size(), suffix) != 0)
    return Fail(err, "the CA's answer is not an SSH certificate");

  if (!sign) {
    auto pem = PrivateKeyToPem(key.get(), "");
    if (!pem.ok()) return Fail(err, pem.status().message());
    Status st = WriteFile(key_file, pem.value(), 0600);
    Wipe(pem.value());
    if (!st.ok()) return Fail(err, st.message());
    st = WriteFile(key_file + ".pub", ssh::AuthorizedKeyLine(blob) + "\n", 0644);
    if (!st.ok()) return Fail(err, st.message());
  }
  Status st = WriteFile(cert_file, cert_type + " " + crt + "\n", 0644);
  if (!st.ok()) return Fail(err, st.message());
  err << "\u2714 CA: " << o.ca_url << "\n";
  if (!sign) {
    err << "\u2714 Private Key: " << key_file << "\n"
        << "\u2714 Public Key: " << key_file << ".pub\n";
  }
  err << "\u2714 Certificate: " << cert_file << "\n";
  out.flush();
  return 0;
}

}  // namespace

JsonPtr SshTokenClaim(bool host, const std::string& key_id, const std::vector<std::string>& principals,
                      const std::string& valid_after, const std::string& valid_before) {
  JsonPtr p(json_array());
  for (const auto& s : principals) json_array_append_new(p.get(), json_string(s.c_str()));
  return JsonPtr(json_pack("{s:s,s:s,s:O,s:s,s:s}", "certType", host ? "host" : "user",
                           "keyID", key_id.c_str(), "principals", p.get(), "validAfter",
                           valid_after.c_str(), "validBefore", valid_before.c_str()));
}

std::vector<std::string> DefaultSshPrincipals(bool host, const std::string& subject) {
  const size_t at = subject.find('@');
  if (host || at == std::string::npos || at == 0) return {subject};
  return {subject.substr(0, at), subject};
}

std::string BuildSshSignBody(const std::string& key_blob, const std::string& ott, bool host,
                             const std::string& key_id, const std::vector<std::string>& principals,
                             const std::string& valid_after, const std::string& valid_before) {
  JsonPtr p(json_array());
  for (const auto& s : principals) json_array_append_new(p.get(), json_string(s.c_str()));
  JsonPtr b(json_pack("{s:s,s:s,s:s,s:s,s:O}", "publicKey", Base64Encode(key_blob).c_str(),
                      "ott", ott.c_str(), "certType", host ? "host" : "user", "keyID",
                      key_id.c_str(), "principals", p.get()));
  if (!valid_after.empty()) json_object_set_new(b.get(), "validAfter", json_string(valid_after.c_str()));
  if (!valid_before.empty()) json_object_set_new(b.get(), "validBefore", json_string(valid_before.c_str()));
  char* s = json_dumps(b.get(), JSON_COMPACT | JSON_PRESERVE_ORDER);
  std::string out = s ? s : "{}";
  std::free(s);
  return out;
}

std::string SshCertificatePath(const std::string& key_file, bool sign) {
  std::string base = key_file;
  if (sign && base.size() > 4 && base.compare(base.size() - 4, 4, ".pub") == 0)
    base.resize(base.size() - 4);
  return base + "-cert.pub";
}

int RunSsh(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err) {
  if (argv.empty() || argv[0] != "certificate")
    return Fail(err, "usage: stepca ssh certificate KEY_ID KEY_FILE [--host] [--sign] ...");
  return RunSshCertificate(std::vector<std::string>(argv.begin() + 1, argv.end()), out, err);
}

}  // namespace cli
}  // namespace stepca
