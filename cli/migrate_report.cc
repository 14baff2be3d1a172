#include "cli/migrate_report.h"

namespace stepca {
namespace cli {

const char kAlreadyImported[] = "already imported";
const char kAlreadyRevoked[] = "already revoked here";
const char kAlreadyBound[] = "already bound here";

namespace {

bool IsAlreadyThere(const std::string& why) {
  return why == kAlreadyImported || why == kAlreadyRevoked || why == kAlreadyBound;
}

}  // namespace

int64_t MigrationReport::Imported() const {
  int64_t n = 0;
  for (const auto& k : kinds) n += k.imported;
  return n;
}

std::string FormatMigrationReport(const MigrationReport& report) {
  std::string out;
  int64_t skipped_already = 0, skipped_other = 0;
  for (const auto& k : report.kinds) {
    int64_t skipped = 0;
    for (const auto& [why, n] : k.skipped) skipped += n;
    if (k.imported == 0 && skipped == 0) {
      out += k.kind + ": none in the export\n";
      continue;
    }
    if (k.kind.rfind("table ", 0) == 0) {
      out += k.kind + ": " + std::to_string(skipped) + " not imported: " + k.skipped.begin()->first + "\n";
      continue;
    }
    out += k.kind + ": " + std::to_string(k.imported) + " imported, " + std::to_string(skipped) + " skipped\n";
    for (const auto& [why, n] : k.skipped) {
      out += "  skipped " + std::to_string(n) + ": " + why + "\n";
      (IsAlreadyThere(why) ? skipped_already : skipped_other) += n;
    }
  }
  const int64_t imported = report.Imported();
  if (imported == 0 && skipped_already > 0 && skipped_other == 0)
    out += "nothing new imported: every record was already in the store\n";
  else
    out += "imported " + std::to_string(imported) + " records\n";
  return out;
}

}  // namespace cli
}  // namespace stepca
