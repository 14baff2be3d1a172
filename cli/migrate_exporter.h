// Running tools/stepca-db-export: finding it and collecting its JSON lines.
#ifndef STEPCA_CLI_MIGRATE_EXPORTER_H
#define STEPCA_CLI_MIGRATE_EXPORTER_H

#include <string>
#include <vector>

#include "authority/status.h"

namespace stepca {
namespace cli {

// The exporter to run: explicit (a flag) when given, else
// $STEPCA_DB_EXPORT, else beside this program (build/stepca-db-export/bin/
// as the build leaves it, or the same directory), else
// /usr/lib/stepca/stepca-db-export, else "stepca-db-export" on PATH.
std::string FindExporter(const std::string& explicit_path);

struct ExportRequest {
  std::string exporter;
  std::string type;       // ca.json db.type
  std::string source;     // ca.json db.dataSource
  std::string database;   // ca.json db.database (MySQL)
};

// The exporter's stdout. A source that is not a step-ca database is
// kInvalidArgument, any other failure kInternal; both carry the
// exporter's own message (its database driver's chatter left out).
[[nodiscard]] Result<std::string> RunExporter(const ExportRequest& request);

}  // namespace cli
}  // namespace stepca

#endif  // STEPCA_CLI_MIGRATE_EXPORTER_H
