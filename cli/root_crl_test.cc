#include "cli/root_crl.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "authority/revocation/test_issuer.h"

namespace stepca {
namespace cli {
namespace {

std::string TempDir() {
  char tmpl[] = "/tmp/stepca-rootcrl-XXXXXX";
  return mkdtemp(tmpl);
}

TEST(RootCrl, AMissingDatabaseIsEmptyAndEntriesRoundTrip) {
  const std::string db_path = TempDir() + "/crl.json";
  auto db = LoadRootCrlDb(db_path);
  ASSERT_TRUE(db.ok());
  EXPECT_EQ(db->number, 0);
  EXPECT_TRUE(db->entries.empty());
  auto inter = stepca::testing::TestIssuer::Make("Example Intermediate CA");
  const TimePoint when = TimePoint(std::chrono::seconds(1800000000));
  ASSERT_TRUE(AddToRootCrl(&db.value(), inter.cert.get(), 1, when).ok());
  EXPECT_EQ(AddToRootCrl(&db.value(), inter.cert.get(), 1, when).code(), Code::kAlreadyExists);
  db->number = 4;
  ASSERT_TRUE(SaveRootCrlDb(db_path, db.value()).ok());
  auto back = LoadRootCrlDb(db_path);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->number, 4);
  ASSERT_EQ(back->entries.size(), 1u);
  EXPECT_EQ(back->entries[0].entry.serial, "1");
  EXPECT_EQ(back->entries[0].entry.reason_code, 1);
  EXPECT_EQ(back->entries[0].entry.revoked_at, when);
  EXPECT_EQ(back->entries[0].subject, "CN=Example Intermediate CA");
}

TEST(RootCrl, ADamagedDatabaseIsRefusedWithTheField) {
  const std::string dir = TempDir();
  const std::pair<const char*, const char*> cases[] = {
      {"[]", "not a CRL database"},
      {"{\"entries\":[]}", "field \"number\""},
      {"{\"number\":1}", "field \"entries\""},
      {"{\"number\":1,\"entries\":[{\"serial\":\"1\"}]}", "entries[0]: needs serial"},
      {"{\"number\":1,\"entries\":[{\"serial\":\"1\",\"revokedAt\":\"x\",\"reasonCode\":1}]}", "RFC 3339"},
      {"{\"number\":1,\"entries\":[{\"serial\":\"1\",\"revokedAt\":\"2026-01-01T00:00:00Z\",\"reasonCode\":7}]}", "RFC 5280"},
  };
  for (const auto& [text, want] : cases) {
    std::ofstream(dir + "/db.json") << text;
    auto db = LoadRootCrlDb(dir + "/db.json");
    ASSERT_FALSE(db.ok()) << text;
    EXPECT_NE(db.status().message().find(want), std::string::npos) << db.status().message();
  }
}

TEST(RootCrl, CommandErrorsNameTheFlag) {
  std::ostringstream out, err;
  EXPECT_EQ(RunCrl({}, out, err), 1);
  EXPECT_NE(err.str().find("requires a subcommand"), std::string::npos);
  err.str("");
  EXPECT_EQ(RunCrl({"sign", "--db", "/nonexistent/x.json"}, out, err), 1);
  EXPECT_NE(err.str().find("flag '--ca' is required"), std::string::npos) << err.str();
  err.str("");
  EXPECT_EQ(RunCrl({"revoke", "x.crt", "--db", "d.json", "--reason", "stolen"}, out, err), 1);
  EXPECT_NE(err.str().find("invalid value 'stolen' for flag '--reason'"), std::string::npos) << err.str();
  err.str("");
  EXPECT_EQ(RunCrl({"burn"}, out, err), 1);
  EXPECT_NE(err.str().find("unknown subcommand"), std::string::npos);
}

}  // namespace
}  // namespace cli
}  // namespace stepca
