#include "cli/migrate.h"

#include <jansson.h>

#include "authority/authority.h"
#include "authority/ossl.h"
#include "authority/store/store.h"
#include "cli/args.h"
#include "cli/files.h"
#include "cli/migrate_exporter.h"
#include "cli/migrate_import.h"
#include "cli/migrate_input.h"

namespace stepca {
namespace cli {
namespace {

constexpr const char kMigrateUsage[] =
    "usage: stepca migrate --config ca.json [--from SOURCE | --from-json FILE]\n"
    "                      [--db-type TYPE] [--database NAME] [--store URI]\n"
    "                      [--acme-provisioner NAME] [--exporter PATH]\n";

int Fail(std::ostream& err, const std::string& message) {
  err << "error: migrate: " << message << "\n";
  return 1;
}

std::string JsonString(const json_t* o, const char* name) {
  const json_t* v = json_object_get(o, name);
  return json_is_string(v) ? json_string_value(v) : "";
}

// What the migration needs from ca.json: where step-ca kept its database
// and which ACME provisioners there are.
struct CaJsonFacts {
  std::string db_type, db_source, db_database;
  std::vector<std::string> acme_provisioners;
};

Result<CaJsonFacts> ReadCaJson(const std::string& path) {
  json_error_t jerr;
  JsonPtr root(json_load_file(path.c_str(), JSON_REJECT_DUPLICATES, &jerr));
  if (!root || !json_is_object(root.get()))
    return InvalidArgument(path + ": " + (root ? "not a JSON object" : jerr.text));
  CaJsonFacts f;
  const json_t* db = json_object_get(root.get(), "db");
  if (json_is_object(db)) {
    f.db_type = JsonString(db, "type");
    f.db_source = JsonString(db, "dataSource");
    f.db_database = JsonString(db, "database");
  }
  const json_t* provs = json_object_get(json_object_get(root.get(), "authority"), "provisioners");
  for (size_t i = 0; json_is_array(provs) && i < json_array_size(provs); ++i) {
    const json_t* p = json_array_get(provs, i);
    if (JsonString(p, "type") == "ACME") f.acme_provisioners.push_back(JsonString(p, "name"));
  }
  return f;
}

// step-ca 0.19 records no provisioner per account: every ACME provisioner
// of that CA reached every account. Here an account belongs to one, so the
// accounts go to the one the clients' account URLs name.
Status ChooseAcmeProvisioner(const CaJsonFacts& facts, const std::string& asked, const std::string& path,
                             bool have_accounts, MigrationOptions* options) {
  const auto& list = facts.acme_provisioners;
  if (!asked.empty()) {
    for (const auto& n : list)
      if (n == asked) {
        options->acme_provisioner = asked;
        return Status::Ok();
      }
    return InvalidArgument("--acme-provisioner \"" + asked + "\" is not an ACME provisioner of " + path);
  }
  if (list.size() == 1) {
    options->acme_provisioner = list[0];
  } else if (list.empty()) {
    options->acme_skip_reason = path + " has no ACME provisioner";
  } else if (have_accounts) {
    std::string names;
    for (const auto& n : list) names += (names.empty() ? "" : ", ") + n;
    return InvalidArgument(path + " has several ACME provisioners (" + names +
                           "): name the one the accounts belong to with --acme-provisioner");
  }
  return Status::Ok();
}

// A MySQL DSN may carry a password (user:password@tcp(host)/): what is
// printed keeps only what follows the credentials.
std::string SourceForDisplay(const std::string& type, const std::string& source) {
  if (type != "mysql") return source;
  const size_t at = source.rfind('@');
  return at == std::string::npos ? source : source.substr(at + 1);
}

}  // namespace

int RunMigrate(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err) {
  auto parsed = Args::Parse(argv, {{"config"}, {"ca-config"}, {"from"}, {"from-json"}, {"db-type"},
                                   {"database"}, {"store"}, {"acme-provisioner"}, {"exporter"}});
  if (!parsed.ok()) return Fail(err, parsed.status().message() + "\n" + kMigrateUsage);
  const Args& args = *parsed;
  if (!args.positional().empty()) return Fail(err, std::string("unexpected arguments\n") + kMigrateUsage);
  const std::string config = args.Get("config", args.Get("ca-config"));
  if (config.empty()) return Fail(err, std::string("--config ca.json is required\n") + kMigrateUsage);
  if (args.Has("from") && args.Has("from-json")) return Fail(err, "--from and --from-json exclude each other");

  auto facts = ReadCaJson(config);
  if (!facts.ok()) return Fail(err, facts.status().message());

  // 1. The whole export, read and checked before anything is written.
  std::string text, described;
  if (args.Has("from-json")) {
    const std::string file = args.Get("from-json");
    auto read = ReadFile(file);
    if (!read.ok()) return Fail(err, read.status().message());
    text = std::move(*read);
    described = "export " + file;
  } else {
    ExportRequest req;
    req.exporter = FindExporter(args.Get("exporter"));
    req.type = args.Get("db-type", facts->db_type.empty() ? "badgerv2" : facts->db_type);
    req.source = args.Get("from", facts->db_source);
    req.database = args.Get("database", facts->db_database);
    if (req.source.empty())
      return Fail(err, config + " has no db.dataSource: name the step-ca database with --from");
    const std::string shown = SourceForDisplay(req.type, req.source);
    auto exported = RunExporter(req);
    if (!exported.ok()) return Fail(err, shown + ": " + exported.status().message());
    text = std::move(*exported);
    described = req.type + " database " + shown + (req.database.empty() ? "" : " (" + req.database + ")");
  }
  auto input = ParseMigrationInput(text);
  if (!input.ok()) return Fail(err, described + ": " + input.status().message() + "; nothing was imported");

  MigrationOptions options;
  Status chosen = ChooseAcmeProvisioner(*facts, args.Get("acme-provisioner"), config,
                                        !input->accounts.empty(), &options);
  if (!chosen.ok()) return Fail(err, chosen.message() + "; nothing was imported");

  // 2. Our store, as the stepca_store directive names it.
  const std::string uri = args.Get("store", kDefaultStoreUri);
  auto store_config = ParseStoreUri(uri);
  if (!store_config.ok()) return Fail(err, "--store: " + store_config.status().message());
  // As the nginx master does: an LMDB directory is made (0700); nginx hands
  // it and its files to the worker user when it starts.
  if (Status st = PrepareStore(*store_config, -1, -1); !st.ok()) return Fail(err, "--store: " + st.message());
  auto store = MakeStore(*store_config);
  if (!store.ok()) return Fail(err, "--store: " + store.status().message());
  if (Status st = (*store)->OpenInProcess(); !st.ok()) return Fail(err, "--store: " + st.message());

  auto report = ImportMigration(*input, **store, options);
  (*store)->CloseInProcess();
  if (!report.ok())
    return Fail(err, "the store failed during the import: " + report.status().message() +
                         "; each record written is whole: run the same command again to finish");
  out << "stepca migrate: " << described << " -> " << (*store)->Kind() << " store\n"
      << FormatMigrationReport(*report);
  return 0;
}

}  // namespace cli
}  // namespace stepca
