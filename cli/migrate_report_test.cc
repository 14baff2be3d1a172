#include "cli/migrate_report.h"

#include <gtest/gtest.h>

namespace stepca {
namespace cli {
namespace {

KindReport Kind(const std::string& name, int64_t imported, std::map<std::string, int64_t> skipped) {
  KindReport k;
  k.kind = name;
  k.imported = imported;
  k.skipped = std::move(skipped);
  return k;
}

TEST(MigrateReportTest, OnlyAlreadyPresentRecordsMeanNothingNew) {
  MigrationReport r;
  r.kinds = {Kind("x509 certificates", 0, {{kAlreadyImported, 2}}),
             Kind("x509 revocations", 0, {{kAlreadyRevoked, 1}}),
             Kind("SSH revocations", 0, {}),
             Kind("table used_ott", 0, {{"spent one-time tokens: not copied", 4}})};
  const std::string text = FormatMigrationReport(r);
  EXPECT_EQ(text,
            "x509 certificates: 0 imported, 2 skipped\n"
            "  skipped 2: already imported\n"
            "x509 revocations: 0 imported, 1 skipped\n"
            "  skipped 1: already revoked here\n"
            "SSH revocations: none in the export\n"
            "table used_ott: 4 not imported: spent one-time tokens: not copied\n"
            "nothing new imported: every record was already in the store\n");
}

TEST(MigrateReportTest, AConflictIsNotNothingNew) {
  MigrationReport r;
  r.kinds = {Kind("x509 certificates", 0,
                  {{kAlreadyImported, 2}, {"another certificate holds this serial here", 1}})};
  const std::string text = FormatMigrationReport(r);
  EXPECT_EQ(text.find("nothing new"), std::string::npos) << text;
  EXPECT_NE(text.find("  skipped 1: another certificate holds this serial here\n"), std::string::npos);
  EXPECT_NE(text.find("imported 0 records\n"), std::string::npos) << text;
}

TEST(MigrateReportTest, CountsWhatWasImported) {
  MigrationReport r;
  r.kinds = {Kind("x509 certificates", 3, {}), Kind("ACME accounts", 1, {{kAlreadyImported, 1}})};
  EXPECT_EQ(r.Imported(), 4);
  const std::string text = FormatMigrationReport(r);
  EXPECT_NE(text.find("x509 certificates: 3 imported, 0 skipped\n"), std::string::npos) << text;
  EXPECT_NE(text.find("imported 4 records\n"), std::string::npos) << text;
}

}  // namespace
}  // namespace cli
}  // namespace stepca
