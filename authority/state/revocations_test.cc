#include "authority/state/revocations.h"

#include <gtest/gtest.h>

#include "authority/store/memory_store.h"

namespace stepca {
namespace {

RevocationRecord Sample() {
  RevocationRecord r;
  r.serial = "1234";
  r.provisioner_id = "jwk/admin";
  r.reason_code = 1;
  r.reason = "key \"compromise\"";
  r.revoked_at = TimePoint(std::chrono::seconds(1700000000));
  r.expires_at = TimePoint(std::chrono::seconds(1700086400));
  r.token_id = "abc";
  r.mtls = false;
  r.acme = false;
  return r;
}

TEST(RevocationsTest, RevokeOnceThenAlreadyExists) {
  auto store = MakeMemoryStore();
  Revocations revocations(*store);
  auto before = revocations.IsRevoked("1234");
  ASSERT_TRUE(before.ok());
  EXPECT_FALSE(before.value());
  ASSERT_TRUE(revocations.Revoke(Sample()).ok());
  RevocationRecord again = Sample();
  again.reason = "second";
  EXPECT_EQ(revocations.Revoke(again).code(), Code::kAlreadyExists);
  auto found = revocations.Find("1234");
  ASSERT_TRUE(found.ok());
  ASSERT_TRUE(found.value().has_value());
  EXPECT_EQ(found.value()->reason, "key \"compromise\"");  // the first stays
  EXPECT_TRUE(revocations.IsRevoked("1234").value());
  EXPECT_FALSE(revocations.Find("99").value().has_value());
}

// step-ca's RevokedCertificateInfo with Go's field names, in its order.
TEST(RevocationsTest, StoredLayoutIsStepCas) {
  auto store = MakeMemoryStore();
  ASSERT_TRUE(Revocations(*store).Revoke(Sample()).ok());
  auto v = store->Get("revoked_x509_certs/1234");
  ASSERT_TRUE(v.ok());
  ASSERT_TRUE(v.value().has_value());
  EXPECT_EQ(*v.value(),
            R"({"Serial":"1234","ProvisionerID":"jwk/admin","ReasonCode":1,)"
            R"("Reason":"key \"compromise\"","RevokedAt":"2023-11-14T22:13:20Z",)"
            R"("ExpiresAt":"2023-11-15T22:13:20Z","TokenID":"abc","MTLS":false,"ACME":false})");
  RevocationRecord unknown = Sample();
  unknown.serial = "5";
  unknown.expires_at.reset();
  unknown.acme = true;
  ASSERT_TRUE(Revocations(*store).Revoke(unknown).ok());
  auto back = Revocations(*store).Find("5");
  ASSERT_TRUE(back.ok() && back.value().has_value());
  EXPECT_FALSE(back.value()->expires_at.has_value());
  EXPECT_TRUE(back.value()->acme);
  EXPECT_NE(store->Get("revoked_x509_certs/5").value()->find(R"("ExpiresAt":"")"),
            std::string::npos);
}

TEST(RevocationsTest, UnparseableRecordIsAnError) {
  auto store = MakeMemoryStore();
  ASSERT_TRUE(store->Put("revoked_x509_certs/7", "not json", std::chrono::seconds(0)).ok());
  EXPECT_EQ(Revocations(*store).Find("7").status().code(), Code::kInternal);
  EXPECT_TRUE(Revocations(*store).IsRevoked("7").value());  // present is revoked
}

}  // namespace
}  // namespace stepca
