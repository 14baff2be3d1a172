#include "cli/migrate_input.h"

#include <gtest/gtest.h>

#include "cli/testing_util.h"

namespace stepca {
namespace cli {
namespace {

std::string Export() {
  auto text = ReadFile(std::string(STEPCA_FIXTURES_DIR) + "/migrate/export.jsonl");
  EXPECT_TRUE(text.ok());
  return text.ok() ? *text : "";
}

TEST(MigrateInputTest, ReadsTheRealStepCaExport) {
  auto in = ParseMigrationInput(Export());
  ASSERT_TRUE(in.ok()) << in.status().message();
  ASSERT_EQ(in->certificates.size(), 3u);
  EXPECT_EQ(in->revocations.size(), 1u);
  EXPECT_TRUE(in->ssh_revocations.empty());
  ASSERT_EQ(in->accounts.size(), 1u);
  EXPECT_EQ(in->accounts[0].id, "Ztx0k3QxlD5ReA0t5jeLZQqS1Yj4CjOR");
  EXPECT_EQ(in->accounts[0].key_id, "WxZ70I45AxfvWQfJsHwd6VWjtpE_Yt7PaOhaTkFfU9k");
  // The DER is decoded; the provisioner step-ca recorded is kept.
  EXPECT_EQ(static_cast<unsigned char>(in->certificates[0].der[0]), 0x30);
  ASSERT_TRUE(in->certificates[1].provisioner.has_value());
  EXPECT_EQ(in->certificates[1].provisioner->name, "fixture@example.test");
  EXPECT_EQ(in->revocations[0].serial, "36501270076500230830104165136919456648");
  EXPECT_NE(in->revocations[0].info.find("\"MTLS\":true"), std::string::npos);
  EXPECT_EQ(in->tables.size(), 8u);
}

TEST(MigrateInputTest, RefusesAnExportWithoutItsEndLine) {
  std::string text = Export();
  text = text.substr(0, text.rfind("{\"counts\""));
  auto in = ParseMigrationInput(text);
  ASSERT_FALSE(in.ok());
  EXPECT_NE(in.status().message().find("incomplete"), std::string::npos);
  EXPECT_FALSE(ParseMigrationInput("").ok());
}

TEST(MigrateInputTest, RefusesADroppedLine) {
  std::string text = Export();
  size_t first_nl = text.find('\n');
  auto in = ParseMigrationInput(text.substr(first_nl + 1));
  ASSERT_FALSE(in.ok());
  EXPECT_NE(in.status().message().find("counts do not match"), std::string::npos) << in.status().message();
}

TEST(MigrateInputTest, RefusesACorruptedLineNamingIt) {
  std::string text = Export();
  size_t second = text.find('\n') + 1;
  text.insert(second + 10, "\x01garbage");
  auto in = ParseMigrationInput(text);
  ASSERT_FALSE(in.ok());
  EXPECT_NE(in.status().message().find("export line 2:"), std::string::npos) << in.status().message();
}

TEST(MigrateInputTest, RefusesUnknownKindsMissingFieldsAndTrailingData) {
  const std::string end = "{\"kind\":\"end\",\"counts\":{}}\n";
  EXPECT_TRUE(ParseMigrationInput(end).ok());
  EXPECT_FALSE(ParseMigrationInput("{\"kind\":\"ssh_cert\"}\n" + end).ok());
  EXPECT_FALSE(ParseMigrationInput("[1,2]\n" + end).ok());
  EXPECT_FALSE(ParseMigrationInput("{\"kind\":\"x509_cert\",\"serial\":\"1\"}\n" + end).ok());
  EXPECT_FALSE(ParseMigrationInput("{\"kind\":\"x509_cert\",\"serial\":\"1\",\"der\":\"!!\"}\n" + end).ok());
  EXPECT_FALSE(ParseMigrationInput("{\"kind\":\"table\",\"name\":\"x\",\"count\":-1}\n" + end).ok());
  EXPECT_FALSE(ParseMigrationInput("{\"kind\":\"acme_account\",\"id\":\"a\",\"keyId\":\"\"}\n" + end).ok());
  EXPECT_FALSE(ParseMigrationInput(end + end).ok());
  EXPECT_FALSE(ParseMigrationInput("{\"kind\":\"end\",\"counts\":{\"x509_cert\":1}}\n").ok());
}

}  // namespace
}  // namespace cli
}  // namespace stepca
