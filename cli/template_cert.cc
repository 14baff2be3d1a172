#include "cli/template_cert.h"

#include <openssl/pem.h>
#include <sys/stat.h>

#include <chrono>

#include "authority/config/ca_config.h"
#include "authority/signer/file_signer.h"
#include "authority/template/template.h"
#include "authority/template/x509_certificate.h"
#include "authority/template/x509_data.h"
#include "authority/x509/issuer.h"
#include "cli/args.h"
#include "cli/crypto.h"
#include "cli/files.h"

namespace stepca {
namespace cli {
namespace {

int Fail(std::ostream& err, const std::string& message) {
  err << "error: " << message << "\n";
  return 1;
}

bool Exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

// "87660h" (a duration from now) or an RFC 3339 time.
Result<TimePoint> TimeFlag(const std::string& value, TimePoint now, TimePoint def) {
  if (value.empty()) return def;
  auto td = ParseTimeDuration(value);
  if (!td) return InvalidArgument("invalid time or duration '" + value + "'");
  return td->Resolve(now);
}

}  // namespace

Result<X509Ptr> MakeCertificateFromTemplate(const TemplateCertificateRequest& r) {
  if (r.key == nullptr || r.issuer == nullptr || r.issuer_key == nullptr)
    return InvalidArgument("a key, an issuer and its key are needed");
  auto parsed = tmpl::Template::Parse(r.template_name, r.template_text);
  if (!parsed.ok()) return InvalidArgument(parsed.error.message);
  STEPCA_ASSIGN_OR_RETURN(X509ReqPtr csr, MakeCsr(r.key, r.common_name, r.sans));
  tmpl::X509TemplateInput in;
  in.common_name = r.common_name;
  in.sans = r.sans;
  in.csr = csr.get();
  tmpl::Value data = tmpl::X509TemplateData(in);
  if (!r.organization.empty()) {
    // .Subject is shared by reference: the organization shows through it.
    auto subject = data.as_map().at("Subject").shared_map();
    (*subject)["Organization"] = tmpl::Value::MakeList({tmpl::Value::String(r.organization)});
  }
  const tmpl::ExecResult out = parsed.tmpl->Execute(data);
  if (out.error.kind == tmpl::ErrorKind::kFail) return InvalidArgument(out.error.fail_message);
  if (!out.ok()) return InvalidArgument(out.error.message);
  STEPCA_ASSIGN_OR_RETURN(tmpl::X509CertificateTemplate cert,
                          tmpl::ParseX509CertificateJson(out.output));

  EVP_PKEY_up_ref(r.issuer_key);
  STEPCA_ASSIGN_OR_RETURN(std::unique_ptr<Signer> signer, MakeFileSigner(EvpPkeyPtr(r.issuer_key)));
  Issuer issuer(X509Ptr(X509_dup(r.issuer)), std::move(signer));
  LeafRequest leaf;
  leaf.public_key = r.key;
  leaf.validity.not_before = r.not_before;
  leaf.validity.not_after = r.not_after;
  leaf.add_provisioner_extension = false;
  leaf.serial = cert.serial_number;
  leaf.profile = std::make_shared<const tmpl::X509CertificateTemplate>(std::move(cert));
  STEPCA_ASSIGN_OR_RETURN(IssuedCertificate issued, issuer.IssueLeaf(leaf));
  return std::move(issued.cert);
}

int RunCertificateCreate(const std::vector<std::string>& argv, std::ostream& out,
                         std::ostream& err) {
  auto parsed = Args::Parse(argv, {{"template"}, {"ca"}, {"ca-key"}, {"ca-password-file"},
                                   {"password-file"}, {"no-password", false}, {"insecure", false},
                                   {"not-before"}, {"not-after"}, {"san"}, {"kty"}, {"curve"},
                                   {"crv"}, {"size"}, {"force", false}, {"f", false}});
  if (!parsed.ok()) {
    err << "error: " << parsed.status().message() << "\n";
    return 1;
  }
  const Args& args = parsed.value();
  if (args.positional().size() != 3)
    return Fail(err, "'stepca certificate create' requires the SUBJECT, CRT_FILE and KEY_FILE arguments");
  const std::string& subject = args.positional()[0];
  const std::string& crt_file = args.positional()[1];
  const std::string& key_file = args.positional()[2];
  for (const char* f : {"template", "ca", "ca-key"})
    if (!args.Has(f)) return Fail(err, std::string("flag '--") + f + "' is required");
  const bool no_password = args.Has("no-password");
  if (no_password && !args.Has("insecure"))
    return Fail(err, "flag '--no-password' requires the '--insecure' flag");
  if (!no_password && !args.Has("password-file"))
    return Fail(err, "flag '--password-file' (the new key's password) or '--no-password --insecure' is required");
  if (!(args.Has("force") || args.Has("f")))
    for (const std::string& f : {crt_file, key_file})
      if (Exists(f)) return Fail(err, f + " already exists (use --force to overwrite)");

  auto text = ReadFile(args.Get("template"));
  if (!text.ok()) return Fail(err, text.status().message());
  auto signing = ReadSigningCa(args.Get("ca"), args.Get("ca-key"),
                               args.Has("ca-password-file") ? args.Get("ca-password-file") : "");
  if (!signing.ok()) return Fail(err, signing.status().message());
  auto* ca = &signing->certs;
  Result<EvpPkeyPtr> ca_key(std::move(signing->key));

  int bits = 0;
  if (args.Has("size")) {
    try {
      bits = std::stoi(args.Get("size"));
    } catch (...) {
      return Fail(err, "invalid value '" + args.Get("size") + "' for flag '--size'");
    }
  }
  auto key = GenerateKey(args.Get("kty", "EC"), args.Get("curve", args.Get("crv")), bits);
  if (!key.ok()) return Fail(err, key.status().message());

  const TimePoint now = TimePoint(std::chrono::duration_cast<std::chrono::seconds>(
      Clock::now().time_since_epoch()));
  auto nb = TimeFlag(args.Get("not-before"), now, now);
  auto na = TimeFlag(args.Get("not-after"), now, now + std::chrono::hours(24));
  if (!nb.ok()) return Fail(err, nb.status().message());
  if (!na.ok()) return Fail(err, na.status().message());

  TemplateCertificateRequest req;
  req.template_text = text.value();
  req.template_name = args.Get("template");
  req.common_name = subject;
  req.sans = args.GetAll("san");
  req.key = key->get();
  req.issuer = ca->front().get();
  req.issuer_key = ca_key->get();
  req.not_before = nb.value();
  req.not_after = na.value();
  auto cert = MakeCertificateFromTemplate(req);
  if (!cert.ok()) return Fail(err, cert.status().message());

  std::string password;
  if (!no_password) {
    auto pw = ReadPasswordFile(args.Get("password-file"));
    if (!pw.ok()) return Fail(err, pw.status().message());
    password = pw.value();
  }
  auto key_pem = PrivateKeyToPem(key->get(), password);
  Wipe(password);
  if (!key_pem.ok()) return Fail(err, key_pem.status().message());
  Status st = WriteFile(crt_file, CertificateToPemText(cert->get()), 0644);
  if (st.ok()) st = WriteFile(key_file, key_pem.value(), 0600);
  Wipe(key_pem.value());
  if (!st.ok()) return Fail(err, st.message());
  out << "Your certificate has been saved in " << crt_file << ".\n"
      << "Your private key has been saved in " << key_file << ".\n";
  return 0;
}

}  // namespace cli
}  // namespace stepca
