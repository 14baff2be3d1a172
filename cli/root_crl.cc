#include "cli/root_crl.h"

#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "authority/config/ca_config.h"
#include "authority/signer/file_signer.h"
#include "cli/args.h"
#include "cli/crypto.h"
#include "cli/files.h"
#include "shared/base64.h"

namespace stepca {
namespace cli {
namespace {

int Fail(std::ostream& err, const std::string& message) {
  err << "error: " << message << "\n";
  return 1;
}

std::string SerialOf(X509* cert) {
  BignumPtr bn(ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr));
  char* dec = bn ? BN_bn2dec(bn.get()) : nullptr;
  std::string out = dec ? dec : "";
  OPENSSL_free(dec);
  return out;
}

std::string OneLine(const X509_NAME* name) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

TimePoint NotAfter(X509* cert) {
  struct tm tm;
  ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm);
  return TimePoint(std::chrono::seconds(timegm(&tm)));
}

TimePoint Now() {
  return TimePoint(std::chrono::duration_cast<std::chrono::seconds>(Clock::now().time_since_epoch()));
}

std::string Pem(const std::string& der) {
  std::string b64 = Base64Encode(der), out = "-----BEGIN X509 CRL-----\n";
  for (size_t i = 0; i < b64.size(); i += 64) out += b64.substr(i, 64) + "\n";
  return out + "-----END X509 CRL-----\n";
}

int Revoke(const Args& args, std::ostream& out, std::ostream& err) {
  if (args.positional().size() != 1)
    return Fail(err, "'stepca crl revoke' requires the CRT_FILE argument (the intermediate)");
  if (!args.Has("db")) return Fail(err, "flag '--db' is required");
  const std::string reason_name = args.Get("reason", "keyCompromise");
  const int reason = CrlReasonCode(reason_name);
  if (reason < 0)
    return Fail(err, "invalid value '" + reason_name + "' for flag '--reason' (keyCompromise, "
                     "cACompromise, affiliationChanged, superseded, cessationOfOperation, "
                     "certificateHold, unspecified, ...)");
  auto certs = ReadCertificates(args.positional()[0]);
  if (!certs.ok()) return Fail(err, certs.status().message());
  X509* cert = certs->front().get();
  if (args.Has("ca")) {
    auto ca = ReadCertificates(args.Get("ca"));
    if (!ca.ok()) return Fail(err, ca.status().message());
    if (X509_check_issued(ca->front().get(), cert) != X509_V_OK ||
        X509_verify(cert, X509_get0_pubkey(ca->front().get())) != 1)
      return Fail(err, args.positional()[0] + " was not issued by " + args.Get("ca"));
  }
  auto db = LoadRootCrlDb(args.Get("db"));
  if (!db.ok()) return Fail(err, db.status().message());
  Status st = AddToRootCrl(&db.value(), cert, reason, Now());
  if (!st.ok()) return Fail(err, st.message());
  st = SaveRootCrlDb(args.Get("db"), db.value());
  if (!st.ok()) return Fail(err, st.message());
  out << "Serial " << SerialOf(cert) << " (" << OneLine(X509_get_subject_name(cert))
      << ") is listed as revoked (" << reason_name << ") in " << args.Get("db")
      << ".\nRun 'stepca crl sign' to publish a CRL with it.\n";
  return 0;
}

int Sign(const Args& args, std::ostream& out, std::ostream& err) {
  for (const char* f : {"db", "ca", "ca-key", "out"})
    if (!args.Has(f)) return Fail(err, std::string("flag '--") + f + "' is required");
  auto signing = ReadSigningCa(args.Get("ca"), args.Get("ca-key"),
                               args.Has("ca-password-file") ? args.Get("ca-password-file") : "");
  if (!signing.ok()) return Fail(err, signing.status().message());
  auto* ca = &signing->certs;
  Result<EvpPkeyPtr> key(std::move(signing->key));
  const std::string validity = args.Get("not-after", "720h");  // the guide's default_crl_days = 30
  auto d = ParseGoDuration(validity);
  if (!d || d->count() <= 0) return Fail(err, "invalid value '" + validity + "' for flag '--not-after'");
  const std::string idp = args.Get("idp");
  if (!idp.empty() && idp.rfind("http://", 0) != 0 && idp.rfind("https://", 0) != 0)
    return Fail(err, "flag '--idp' must be an http:// or https:// URL");

  auto db = LoadRootCrlDb(args.Get("db"));
  if (!db.ok()) return Fail(err, db.status().message());
  CrlContents c;
  c.number = db->number + 1;
  c.this_update = Now();
  c.next_update = c.this_update + *d;
  c.idp_url = idp;
  for (const auto& e : db->entries) c.entries.push_back(e.entry);
  auto signer = MakeFileSigner(std::move(key).value());
  if (!signer.ok()) return Fail(err, signer.status().message());
  auto der = BuildCrl(ca->front().get(), *signer.value(), c);
  if (!der.ok()) return Fail(err, der.status().message());
  const bool as_pem = args.Has("pem");
  Status st = WriteFile(args.Get("out"), as_pem ? Pem(*der) : *der, 0644);
  if (!st.ok()) return Fail(err, st.message());
  db->number = c.number;
  st = SaveRootCrlDb(args.Get("db"), db.value());
  if (!st.ok()) return Fail(err, st.message());
  out << "CRL number " << c.number << " with " << c.entries.size()
      << (c.entries.size() == 1 ? " entry" : " entries") << ", valid until "
      << FormatRfc3339(c.next_update) << ", saved in " << args.Get("out")
      << (as_pem ? " (PEM)" : " (DER)") << ".\n";
  return 0;
}

int Show(const Args& args, std::ostream& out, std::ostream& err) {
  if (!args.Has("db")) return Fail(err, "flag '--db' is required");
  auto db = LoadRootCrlDb(args.Get("db"));
  if (!db.ok()) return Fail(err, db.status().message());
  out << "CRL number " << db->number << "\n";
  for (const auto& e : db->entries)
    out << e.entry.serial << "\t" << FormatRfc3339(e.entry.revoked_at) << "\t" << e.entry.reason_code
        << "\t" << e.subject << "\n";
  return 0;
}

}  // namespace

Result<RootCrlDb> LoadRootCrlDb(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    if (errno == ENOENT) return RootCrlDb{};
    return InvalidArgument(path + ": cannot read: " + std::strerror(errno));
  }
  json_error_t jerr;
  JsonPtr root(json_loadf(f, 0, &jerr));
  std::fclose(f);
  if (!root || !json_is_object(root.get()))
    return InvalidArgument(path + ": not a CRL database (" + (root ? "not an object" : jerr.text) + ")");
  RootCrlDb db;
  const json_t* n = json_object_get(root.get(), "number");
  if (!json_is_integer(n) || json_integer_value(n) < 0)
    return InvalidArgument(path + ": field \"number\" must be a non-negative integer");
  db.number = json_integer_value(n);
  const json_t* list = json_object_get(root.get(), "entries");
  if (!json_is_array(list)) return InvalidArgument(path + ": field \"entries\" must be a list");
  size_t i;
  const json_t* e;
  json_array_foreach(list, i, e) {
    const std::string at = path + ": entries[" + std::to_string(i) + "]";
    const json_t* serial = json_object_get(e, "serial");
    const json_t* reason = json_object_get(e, "reasonCode");
    const json_t* when = json_object_get(e, "revokedAt");
    if (!json_is_string(serial) || !json_is_integer(reason) || !json_is_string(when))
      return InvalidArgument(at + ": needs serial, revokedAt and reasonCode");
    RootCrlEntry r;
    r.entry.serial = json_string_value(serial);
    r.entry.reason_code = static_cast<int>(json_integer_value(reason));
    auto t = ParseRfc3339(json_string_value(when));
    if (!t) return InvalidArgument(at + ": revokedAt is not an RFC 3339 time");
    r.entry.revoked_at = *t;
    if (!ValidCrlReason(r.entry.reason_code))
      return InvalidArgument(at + ": reasonCode is not an RFC 5280 reason");
    const json_t* subject = json_object_get(e, "subject");
    if (json_is_string(subject)) r.subject = json_string_value(subject);
    const json_t* na = json_object_get(e, "notAfter");
    if (json_is_string(na))
      if (auto t2 = ParseRfc3339(json_string_value(na))) r.not_after = *t2;
    db.entries.push_back(std::move(r));
  }
  return db;
}

Status SaveRootCrlDb(const std::string& path, const RootCrlDb& db) {
  JsonPtr root(json_object());
  json_object_set_new(root.get(), "number", json_integer(db.number));
  json_t* list = json_array();
  for (const auto& e : db.entries) {
    json_array_append_new(
        list, json_pack("{s:s,s:s,s:s,s:i,s:s}", "serial", e.entry.serial.c_str(), "subject",
                        e.subject.c_str(), "revokedAt", FormatRfc3339(e.entry.revoked_at).c_str(),
                        "reasonCode", e.entry.reason_code, "notAfter",
                        FormatRfc3339(e.not_after).c_str()));
  }
  json_object_set_new(root.get(), "entries", list);
  char* text = json_dumps(root.get(), JSON_INDENT(2) | JSON_PRESERVE_ORDER);
  std::string s = text ? std::string(text) + "\n" : "";
  free(text);
  // Written whole to a new file, then renamed: a crash keeps the old list.
  const std::string tmp = path + ".tmp";
  STEPCA_RETURN_IF_ERROR(WriteFile(tmp, s, 0644));
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    return InvalidArgument(path + ": cannot write: " + std::strerror(errno));
  return Status::Ok();
}

Status AddToRootCrl(RootCrlDb* db, X509* cert, int reason_code, TimePoint revoked_at) {
  const std::string serial = SerialOf(cert);
  for (const auto& e : db->entries)
    if (e.entry.serial == serial) return AlreadyExists("serial " + serial + " is already revoked");
  RootCrlEntry r;
  r.entry.serial = serial;
  r.entry.reason_code = reason_code;
  r.entry.revoked_at = revoked_at;
  r.subject = OneLine(X509_get_subject_name(cert));
  r.not_after = NotAfter(cert);
  db->entries.push_back(std::move(r));
  return Status::Ok();
}

int RunCrl(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err) {
  if (argv.empty()) return Fail(err, "'stepca crl' requires a subcommand: revoke, sign or show");
  const std::string sub = argv[0];
  auto parsed = Args::Parse(std::vector<std::string>(argv.begin() + 1, argv.end()),
                            {{"db"}, {"reason"}, {"ca"}, {"ca-key"}, {"ca-password-file"},
                             {"not-after"}, {"idp"}, {"out"}, {"pem", false}});
  if (!parsed.ok()) return Fail(err, parsed.status().message());
  if (sub == "revoke") return Revoke(parsed.value(), out, err);
  if (sub == "sign") return Sign(parsed.value(), out, err);
  if (sub == "show") return Show(parsed.value(), out, err);
  return Fail(err, "unknown subcommand 'stepca crl " + sub + "' (revoke, sign, show)");
}

}  // namespace cli
}  // namespace stepca
