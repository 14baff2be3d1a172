// The report of `stepca migrate`: per kind of record, how many were
// imported and how many skipped, grouped by the reason.
#ifndef STEPCA_CLI_MIGRATE_REPORT_H
#define STEPCA_CLI_MIGRATE_REPORT_H

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace stepca {
namespace cli {

// The reasons that mean "this record is here already": a run that skips
// only for these imported nothing new.
extern const char kAlreadyImported[];
extern const char kAlreadyRevoked[];
extern const char kAlreadyBound[];

struct KindReport {
  std::string kind;  // "table <name>" for a table left behind
  int64_t imported = 0;
  std::map<std::string, int64_t> skipped;  // reason -> how many
};

struct MigrationReport {
  std::vector<KindReport> kinds;
  int64_t Imported() const;
};

// One line per kind, one per reason, and a last line that says whether
// anything new came in.
std::string FormatMigrationReport(const MigrationReport& report);

}  // namespace cli
}  // namespace stepca

#endif  // STEPCA_CLI_MIGRATE_REPORT_H
