// Writes what a step-ca database held (MigrationInput) into our store,
// through the state classes that own each key (authority/state/), never
// overwriting: a record already present is skipped and says why, so a
// second run imports nothing new. Per kind, a report of what was imported
// and what was skipped, with the reason.
//
// Kinds and what becomes of them:
//   x509 certificates   x509_certs/<serial>, state issued, with the
//                       provisioner step-ca recorded (renew looks it up)
//   x509 revocations    revoked_x509_certs/<serial> and the CRL's index,
//                       ExpiresAt from the certificate when it was exported
//   SSH revocations     revoked_ssh_certs/<serial>
//   ACME accounts       acme_acct/<id> and its key index under one ACME
//                       provisioner (step-ca 0.19 keeps no provisioner per
//                       account; the kid URL a client holds names it)
//   the rest            counted and reported as not imported, with why
#ifndef STEPCA_CLI_MIGRATE_IMPORT_H
#define STEPCA_CLI_MIGRATE_IMPORT_H

#include <string>

#include "authority/status.h"
#include "authority/store/store.h"
#include "cli/migrate_input.h"
#include "cli/migrate_report.h"

namespace stepca {
namespace cli {

struct MigrationOptions {
  // The ACME provisioner the accounts go to; empty: accounts are skipped
  // (ca.json has none, or several and none was chosen; the reason says).
  std::string acme_provisioner;
  std::string acme_skip_reason;
};

// A store error stops the import and is returned: what was written before
// it stays (each record is whole), and a second run completes the rest.
[[nodiscard]] Result<MigrationReport> ImportMigration(const MigrationInput& input, Store& store,
                                                      const MigrationOptions& options);

}  // namespace cli
}  // namespace stepca

#endif  // STEPCA_CLI_MIGRATE_IMPORT_H
