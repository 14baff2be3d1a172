#include "cli/migrate_import.h"

#include <gtest/gtest.h>

#include "authority/state/acme_accounts.h"
#include "authority/state/revocation_index.h"
#include "authority/state/revocations.h"
#include "authority/store/memory_store.h"
#include "cli/testing_util.h"

namespace stepca {
namespace cli {
namespace {

constexpr char kRevoked[] = "36501270076500230830104165136919456648";
constexpr char kKept[] = "99222511903276083308444535640728443807";
constexpr char kAccount[] = "Ztx0k3QxlD5ReA0t5jeLZQqS1Yj4CjOR";
constexpr char kThumb[] = "WxZ70I45AxfvWQfJsHwd6VWjtpE_Yt7PaOhaTkFfU9k";

MigrationInput RealExport() {
  auto text = ReadFile(std::string(STEPCA_FIXTURES_DIR) + "/migrate/export.jsonl");
  EXPECT_TRUE(text.ok());
  auto in = ParseMigrationInput(text.ok() ? *text : "");
  EXPECT_TRUE(in.ok()) << in.status().message();
  return in.ok() ? *in : MigrationInput{};
}

MigrationOptions IntoAcme() {
  MigrationOptions o;
  o.acme_provisioner = "acme";
  return o;
}

const KindReport& Kind(const MigrationReport& r, const std::string& prefix) {
  for (const auto& k : r.kinds)
    if (k.kind.rfind(prefix, 0) == 0) return k;
  static const KindReport none;
  ADD_FAILURE() << "no kind " << prefix;
  return none;
}

class MigrateImportTest : public ::testing::Test {
 protected:
  std::unique_ptr<Store> store_ = MakeMemoryStore();
};

TEST_F(MigrateImportTest, ImportsCertificatesRevocationsAndAccounts) {
  auto report = ImportMigration(RealExport(), *store_, IntoAcme());
  ASSERT_TRUE(report.ok()) << report.status().message();
  EXPECT_EQ(Kind(*report, "x509 certificates").imported, 3);
  EXPECT_EQ(Kind(*report, "x509 revocations").imported, 1);
  EXPECT_EQ(Kind(*report, "ACME accounts").imported, 1);
  EXPECT_EQ(report->Imported(), 5);

  // The revoked certificate is revoked here, with step-ca's facts and the
  // certificate's end of validity; the CRL's index lists it.
  auto rev = Revocations(*store_).Find(kRevoked);
  ASSERT_TRUE(rev.ok());
  ASSERT_TRUE(rev->has_value());
  EXPECT_TRUE((*rev)->mtls);
  EXPECT_EQ((*rev)->reason, "test");
  EXPECT_TRUE((*rev)->expires_at.has_value());
  EXPECT_EQ((*rev)->provisioner_id, "fixture@example.test:dGow9tg6f8QNmFNqqdT7UCUC4Ehxuz5RGW4EMf84lFg");
  auto slots = RevocationIndex(*store_).ReadFrom(0, 10);
  ASSERT_TRUE(slots.ok());
  EXPECT_EQ(*slots, std::vector<std::string>{kRevoked});
  EXPECT_FALSE(Revocations(*store_).IsRevoked(kKept).value());

  // The other is an issued record with its provisioner, as renew reads it.
  auto rec = CertificateRecords(*store_).Find(kKept);
  ASSERT_TRUE(rec.ok());
  ASSERT_TRUE(rec->has_value());
  EXPECT_EQ((*rec)->state, CertificateState::kIssued);
  EXPECT_EQ((*rec)->provisioner->name, "fixture@example.test");
  EXPECT_EQ((*rec)->names, std::vector<std::string>{"b.example.test"});
  EXPECT_TRUE((*rec)->not_after.has_value());

  // The account is found by its key under the provisioner, as new-account
  // and the kid lookup find it.
  auto acct = AcmeAccounts(*store_).FindByKey("acme", kThumb);
  ASSERT_TRUE(acct.ok());
  ASSERT_TRUE(acct->has_value());
  EXPECT_EQ((*acct)->record.id, kAccount);
  EXPECT_EQ((*acct)->record.status, "valid");
  EXPECT_EQ((*acct)->record.contact, std::vector<std::string>{"mailto:ops@example.test"});
  EXPECT_FALSE((*acct)->record.created_at.empty());
  EXPECT_FALSE(AcmeAccounts(*store_).FindByKey("other", kThumb).value().has_value());

  const std::string text = FormatMigrationReport(*report);
  EXPECT_NE(text.find("x509 certificates: 3 imported, 0 skipped"), std::string::npos) << text;
  EXPECT_NE(text.find("table used_ott: 2 not imported: spent one-time tokens"), std::string::npos) << text;
  EXPECT_NE(text.find("imported 5 records"), std::string::npos) << text;
}

TEST_F(MigrateImportTest, ASecondRunImportsNothingAndSaysSo) {
  ASSERT_TRUE(ImportMigration(RealExport(), *store_, IntoAcme()).ok());
  auto again = ImportMigration(RealExport(), *store_, IntoAcme());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->Imported(), 0);
  EXPECT_EQ(Kind(*again, "x509 certificates").skipped.at("already imported"), 3);
  EXPECT_EQ(Kind(*again, "x509 revocations").skipped.at("already revoked here"), 1);
  EXPECT_EQ(Kind(*again, "ACME accounts").skipped.at("already imported"), 1);
  // No second slot in the CRL's index.
  EXPECT_EQ(RevocationIndex(*store_).ReadFrom(0, 10).value().size(), 1u);
  EXPECT_NE(FormatMigrationReport(*again).find("nothing new imported"), std::string::npos);
}

TEST_F(MigrateImportTest, WithoutAnAcmeProvisionerAccountsAreSkippedWithTheReason) {
  MigrationOptions none;
  none.acme_skip_reason = "ca.json has no ACME provisioner";
  auto report = ImportMigration(RealExport(), *store_, none);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(Kind(*report, "ACME accounts").imported, 0);
  EXPECT_EQ(Kind(*report, "ACME accounts").skipped.at("ca.json has no ACME provisioner"), 1);
  EXPECT_FALSE(AcmeAccounts(*store_).Load(kAccount).value().has_value());
  // The certificates still come over.
  EXPECT_EQ(Kind(*report, "x509 certificates").imported, 3);
}

TEST_F(MigrateImportTest, NeverOverwritesAnotherCertificateUnderTheSameSerial) {
  MigrationInput in = RealExport();
  CertificateRecord mine;
  mine.serial = kKept;
  mine.der = "ours";
  ASSERT_TRUE(CertificateRecords(*store_).Import(mine).ok());
  auto report = ImportMigration(in, *store_, IntoAcme());
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(Kind(*report, "x509 certificates").skipped.at("another certificate holds this serial here"), 1);
  EXPECT_EQ(CertificateRecords(*store_).Find(kKept).value()->der, "ours");
  EXPECT_EQ(FormatMigrationReport(*report).find("nothing new imported"), std::string::npos);
}

TEST_F(MigrateImportTest, SkipsRecordsThatDoNotHoldTogether) {
  MigrationInput in = RealExport();
  MigrationInput bad;
  auto c = in.certificates[0];
  c.der = "not a certificate";
  bad.certificates.push_back(c);
  c = in.certificates[1];
  c.serial = "12345";  // stored under another serial than its own
  bad.certificates.push_back(c);
  c.serial = "0x12";
  bad.certificates.push_back(c);
  bad.revocations.push_back({"777", "not json"});
  bad.revocations.push_back({"778", "{\"Serial\":\"779\"}"});
  auto a = in.accounts[0];
  a.key_id = "someone-else";
  bad.accounts.push_back(a);
  a = in.accounts[0];
  a.account = "{\"id\":\"x\",\"status\":\"valid\"}";
  a.id = "x";
  bad.accounts.push_back(a);

  auto report = ImportMigration(bad, *store_, IntoAcme());
  ASSERT_TRUE(report.ok());
  const auto& certs = Kind(*report, "x509 certificates");
  EXPECT_EQ(certs.imported, 0);
  EXPECT_EQ(certs.skipped.at("the stored certificate does not parse"), 1);
  EXPECT_EQ(certs.skipped.at("the certificate's serial is not the one it is stored under"), 1);
  EXPECT_EQ(certs.skipped.at("the serial is not a decimal number"), 1);
  const auto& revs = Kind(*report, "x509 revocations");
  EXPECT_EQ(revs.skipped.at("the stored revocation is not JSON"), 1);
  EXPECT_EQ(revs.skipped.at("the revocation's Serial is not the one it is stored under"), 1);
  const auto& accts = Kind(*report, "ACME accounts");
  EXPECT_EQ(accts.skipped.at("step-ca's key index names another key for this account"), 1);
  EXPECT_EQ(accts.skipped.at("the account key does not parse"), 1);
  EXPECT_EQ(report->Imported(), 0);
  EXPECT_FALSE(Revocations(*store_).IsRevoked("777").value());
}

TEST_F(MigrateImportTest, AnAccountWhoseKeyIsHeldHereIsSkipped) {
  acme::Account other;
  other.id = "other";
  other.provisioner = "acme";
  other.key = "{}";
  other.thumbprint = kThumb;
  ASSERT_TRUE(AcmeAccounts(*store_).Insert(other).ok());
  ASSERT_TRUE(AcmeAccounts(*store_).BindKey("acme", kThumb, "other").ok());
  auto report = ImportMigration(RealExport(), *store_, IntoAcme());
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(Kind(*report, "ACME accounts").skipped.at("another account here holds this account's key"), 1);
  EXPECT_FALSE(AcmeAccounts(*store_).Load(kAccount).value().has_value());
}

TEST_F(MigrateImportTest, ARunStoppedBeforeTheKeyIndexIsFinished) {
  ASSERT_TRUE(ImportMigration(RealExport(), *store_, IntoAcme()).ok());
  ASSERT_TRUE(AcmeAccounts(*store_).UnbindKey("acme", kThumb).ok());
  auto again = ImportMigration(RealExport(), *store_, IntoAcme());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(Kind(*again, "ACME accounts").imported, 1);
  EXPECT_EQ(AcmeAccounts(*store_).KeyHolder("acme", kThumb).value().value_or(""), kAccount);
}

}  // namespace
}  // namespace cli
}  // namespace stepca
