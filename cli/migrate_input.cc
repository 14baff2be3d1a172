#include "cli/migrate_input.h"

#include <jansson.h>

#include <map>

#include "authority/ossl.h"
#include "shared/base64.h"

namespace stepca {
namespace cli {
namespace {

Status LineError(size_t line, const std::string& why) {
  return InvalidArgument("export line " + std::to_string(line) + ": " + why);
}

// A required string member; empty allowed only when allow_empty.
Status Str(const json_t* o, const char* name, size_t line, std::string* out, bool allow_empty = false) {
  const json_t* v = json_object_get(o, name);
  if (!json_is_string(v)) return LineError(line, std::string("\"") + name + "\" is not a string");
  out->assign(json_string_value(v), json_string_length(v));
  if (out->empty() && !allow_empty) return LineError(line, std::string("\"") + name + "\" is empty");
  return Status::Ok();
}

// The stored JSON value passed through by the exporter, as text. The
// exporter writes a string when the stored bytes were not JSON; that is
// kept as is so the importer can say which record it was.
Status RawJson(const json_t* o, const char* name, size_t line, std::string* out) {
  const json_t* v = json_object_get(o, name);
  if (v == nullptr) return LineError(line, std::string("\"") + name + "\" is missing");
  if (json_is_string(v)) {
    out->assign(json_string_value(v), json_string_length(v));
    return Status::Ok();
  }
  char* text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
  if (text == nullptr) return LineError(line, std::string("\"") + name + "\" does not serialize");
  *out = text;
  free(text);
  return Status::Ok();
}

Status Provisioner(const json_t* o, size_t line, std::optional<CertificateProvisioner>* out) {
  const json_t* p = json_object_get(o, "provisioner");
  if (p == nullptr || json_is_null(p)) return Status::Ok();
  if (!json_is_object(p)) return LineError(line, "\"provisioner\" is not an object");
  CertificateProvisioner cp;
  STEPCA_RETURN_IF_ERROR(Str(p, "id", line, &cp.id, true));
  STEPCA_RETURN_IF_ERROR(Str(p, "name", line, &cp.name, true));
  STEPCA_RETURN_IF_ERROR(Str(p, "type", line, &cp.type, true));
  *out = std::move(cp);
  return Status::Ok();
}

}  // namespace

Result<MigrationInput> ParseMigrationInput(std::string_view text) {
  MigrationInput in;
  std::map<std::string, int64_t> seen;
  bool ended = false;
  size_t line_no = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    ++line_no;
    if (line.empty()) continue;
    if (ended) return LineError(line_no, "data after the \"end\" line");
    json_error_t jerr;
    JsonPtr o(json_loadb(line.data(), line.size(), JSON_REJECT_DUPLICATES, &jerr));
    if (!o || !json_is_object(o.get()))
      return LineError(line_no, std::string("not a JSON object (") + (o ? "not an object" : jerr.text) + ")");
    std::string kind;
    STEPCA_RETURN_IF_ERROR(Str(o.get(), "kind", line_no, &kind));
    if (kind == "x509_cert") {
      MigrationCertificate c;
      std::string der64;
      STEPCA_RETURN_IF_ERROR(Str(o.get(), "serial", line_no, &c.serial));
      STEPCA_RETURN_IF_ERROR(Str(o.get(), "der", line_no, &der64));
      auto der = Base64Decode(der64);
      if (!der || der->empty()) return LineError(line_no, "\"der\" is not base64");
      c.der = std::move(*der);
      STEPCA_RETURN_IF_ERROR(Provisioner(o.get(), line_no, &c.provisioner));
      in.certificates.push_back(std::move(c));
    } else if (kind == "revoked_x509_cert" || kind == "revoked_ssh_cert") {
      MigrationRevocation r;
      STEPCA_RETURN_IF_ERROR(Str(o.get(), "serial", line_no, &r.serial));
      STEPCA_RETURN_IF_ERROR(RawJson(o.get(), "info", line_no, &r.info));
      (kind == "revoked_x509_cert" ? in.revocations : in.ssh_revocations).push_back(std::move(r));
    } else if (kind == "acme_account") {
      MigrationAccount a;
      STEPCA_RETURN_IF_ERROR(Str(o.get(), "id", line_no, &a.id));
      STEPCA_RETURN_IF_ERROR(RawJson(o.get(), "account", line_no, &a.account));
      STEPCA_RETURN_IF_ERROR(Str(o.get(), "keyId", line_no, &a.key_id, true));
      in.accounts.push_back(std::move(a));
    } else if (kind == "acme_eab_key") {
      MigrationEabKey k;
      STEPCA_RETURN_IF_ERROR(Str(o.get(), "id", line_no, &k.id));
      STEPCA_RETURN_IF_ERROR(Str(o.get(), "provisionerId", line_no, &k.provisioner_id, true));
      STEPCA_RETURN_IF_ERROR(Str(o.get(), "reference", line_no, &k.reference, true));
      STEPCA_RETURN_IF_ERROR(Str(o.get(), "accountId", line_no, &k.account_id, true));
      in.eab_keys.push_back(std::move(k));
    } else if (kind == "table") {
      MigrationTable t;
      STEPCA_RETURN_IF_ERROR(Str(o.get(), "name", line_no, &t.name));
      const json_t* n = json_object_get(o.get(), "count");
      if (!json_is_integer(n) || json_integer_value(n) < 0)
        return LineError(line_no, "\"count\" is not a count");
      t.count = json_integer_value(n);
      in.tables.push_back(std::move(t));
    } else if (kind == "end") {
      const json_t* counts = json_object_get(o.get(), "counts");
      if (!json_is_object(counts)) return LineError(line_no, "\"counts\" is not an object");
      const char* k;
      json_t* v;
      std::map<std::string, int64_t> said;
      json_object_foreach(const_cast<json_t*>(counts), k, v) {
        if (!json_is_integer(v)) return LineError(line_no, std::string("count of ") + k + " is not a number");
        said[k] = json_integer_value(v);
      }
      // The end line counts itself out; every other kind it names must be
      // what was read, so a dropped or duplicated line is caught.
      if (said != seen) return LineError(line_no, "the counts do not match the lines read (a cut or edited export)");
      ended = true;
      continue;
    } else {
      return LineError(line_no, "unknown kind \"" + kind + "\"");
    }
    ++seen[kind];
  }
  if (!ended) return InvalidArgument("the export has no \"end\" line: it is incomplete");
  return in;
}

}  // namespace cli
}  // namespace stepca
