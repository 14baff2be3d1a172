// What `stepca migrate` reads from a step-ca database: the JSON lines that
// tools/stepca-db-export writes (one object per line, "kind" first among
// equals, an "end" line last with the counts). Parsing is all or nothing: a
// line that is not JSON, an unknown kind, a missing field, a missing or
// disagreeing "end" line is an error naming the line, and nothing is
// imported from such an export.
#ifndef STEPCA_CLI_MIGRATE_INPUT_H
#define STEPCA_CLI_MIGRATE_INPUT_H

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "authority/state/certificate_records.h"
#include "authority/status.h"

namespace stepca {
namespace cli {

struct MigrationCertificate {
  std::string serial;  // the table key: decimal
  std::string der;     // decoded
  std::optional<CertificateProvisioner> provisioner;  // from x509_certs_data
};

// A revocation as step-ca stored it: its RevokedCertificateInfo JSON text.
struct MigrationRevocation {
  std::string serial;  // the table key
  std::string info;
};

struct MigrationAccount {
  std::string id;       // the table key
  std::string account;  // step-ca's dbAccount JSON text
  std::string key_id;   // the acme_keyID_accountID_index entry naming it, or ""
};

struct MigrationEabKey {
  std::string id, provisioner_id, reference, account_id;
};

// A table the export only counts.
struct MigrationTable {
  std::string name;
  int64_t count = 0;
};

struct MigrationInput {
  std::vector<MigrationCertificate> certificates;
  std::vector<MigrationRevocation> revocations;
  std::vector<MigrationRevocation> ssh_revocations;
  std::vector<MigrationAccount> accounts;
  std::vector<MigrationEabKey> eab_keys;
  std::vector<MigrationTable> tables;
};

[[nodiscard]] Result<MigrationInput> ParseMigrationInput(std::string_view text);

}  // namespace cli
}  // namespace stepca

#endif  // STEPCA_CLI_MIGRATE_INPUT_H
