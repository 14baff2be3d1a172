#include "authority/revocation/crl_service.h"

#include <gtest/gtest.h>

#include "authority/revocation/test_issuer.h"
#include "authority/state/revocation_index.h"
#include "authority/state/revocations.h"
#include "authority/store/memory_store.h"
#include "authority/testing/fake_time_source.h"

namespace stepca {
namespace {

using std::chrono::hours;
using std::chrono::seconds;
using CrlPtr = OsslPtr<X509_CRL, X509_CRL_free>;

const TimePoint kStart = TimePoint(std::chrono::seconds(1800000000));

CrlPtr Parse(const std::string& der) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  return CrlPtr(d2i_X509_CRL(nullptr, &p, static_cast<long>(der.size())));
}

std::vector<std::string> Serials(const std::string& der) {
  CrlPtr crl = Parse(der);
  std::vector<std::string> out;
  STACK_OF(X509_REVOKED)* r = X509_CRL_get_REVOKED(crl.get());
  for (int i = 0; i < sk_X509_REVOKED_num(r); ++i) {
    BignumPtr bn(ASN1_INTEGER_to_BN(X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(r, i)), nullptr));
    char* d = BN_bn2dec(bn.get());
    out.emplace_back(d);
    OPENSSL_free(d);
  }
  return out;
}

class CrlServiceTest : public ::testing::Test {
 protected:
  CrlServiceTest()
      : time_(kStart),
        store_(MakeMemoryStore([this] {
          return std::chrono::system_clock::time_point(
              std::chrono::duration_cast<std::chrono::system_clock::duration>(
                  time_.Now().time_since_epoch()));
        })),
        issuer_(testing::TestIssuer::Make()) {
    config_.enabled = true;
    config_.generate_on_revoke = true;
    config_.cache_duration = hours(24);
    config_.renew_period = hours(16);
    config_.check_interval = seconds(1);
  }

  std::unique_ptr<CrlService> Service(const std::string& holder) {
    return std::make_unique<CrlService>(config_, *store_, issuer_.cert.get(), *issuer_.signer,
                                        time_, holder);
  }

  void Revoke(const std::string& serial, int reason = 1) {
    RevocationRecord r;
    r.serial = serial;
    r.reason_code = reason;
    r.revoked_at = time_.Now();
    r.expires_at = time_.Now() + hours(48);
    ASSERT_TRUE(Revocations(*store_).Revoke(r).ok());
  }

  CrlConfig config_;
  testing::FakeTimeSource time_;
  std::unique_ptr<Store> store_;
  testing::TestIssuer issuer_;
};

TEST_F(CrlServiceTest, TheFirstRequestGeneratesAnEmptySignedCrl) {
  auto svc = Service("a");
  auto crl = svc->Serve();
  ASSERT_TRUE(crl.ok()) << crl.status().message();
  EXPECT_EQ(crl->number, 1);
  EXPECT_EQ(crl->this_update, kStart);
  EXPECT_EQ(crl->next_update, kStart + hours(24));
  CrlPtr parsed = Parse(crl->der);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(X509_CRL_verify(parsed.get(), X509_get0_pubkey(issuer_.cert.get())), 1);
  EXPECT_TRUE(Serials(crl->der).empty());
  // Served again as stored, not regenerated.
  auto again = svc->Serve();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->der, crl->der);
}

TEST_F(CrlServiceTest, GenerateOnRevokeAddsTheSerialAtTheNextCheck) {
  auto svc = Service("a");
  ASSERT_TRUE(svc->Serve().ok());
  Revoke("1001");
  auto wrote = svc->Check();
  ASSERT_TRUE(wrote.ok()) << wrote.status().message();
  EXPECT_TRUE(*wrote);
  auto crl = svc->Serve();
  ASSERT_TRUE(crl.ok());
  EXPECT_EQ(crl->number, 2);
  EXPECT_EQ(Serials(crl->der), std::vector<std::string>{"1001"});
  // Nothing new: no new number.
  EXPECT_FALSE(svc->Check().value());
  EXPECT_EQ(svc->Serve()->number, 2);
}

TEST_F(CrlServiceTest, WithoutGenerateOnRevokeTheSerialWaitsForTheRenewPeriod) {
  config_.generate_on_revoke = false;
  auto svc = Service("a");
  ASSERT_TRUE(svc->Serve().ok());
  Revoke("1001");
  EXPECT_FALSE(svc->Check().value());
  time_.Advance(hours(16) - seconds(1));
  EXPECT_FALSE(svc->Check().value());
  time_.Advance(seconds(1));
  EXPECT_TRUE(svc->Check().value());
  auto crl = svc->Serve();
  EXPECT_EQ(crl->number, 2);
  EXPECT_EQ(crl->this_update, kStart + hours(16));
  EXPECT_EQ(Serials(crl->der), std::vector<std::string>{"1001"});
}

TEST_F(CrlServiceTest, OnlyTheLeaseHolderGeneratesAndAnotherTakesOverWhenItStops) {
  auto a = Service("node-a");
  auto b = Service("node-b");
  ASSERT_TRUE(a->Check().value());  // a takes the lease and writes CRL 1
  EXPECT_EQ(CrlState(*store_).LeaseHolder().value().value(), "node-a");
  Revoke("5");
  EXPECT_FALSE(b->Check().value());  // not b's to write
  EXPECT_EQ(CrlState(*store_).Current().value()->record.number, 1);
  EXPECT_TRUE(a->Check().value());
  EXPECT_EQ(CrlState(*store_).Current().value()->record.number, 2);

  // a dies (no more checks): its lease runs out, b takes over and writes
  // what a would have.
  Revoke("6");
  time_.Advance(a->lease_ttl() - seconds(1));
  EXPECT_FALSE(b->Check().value());
  time_.Advance(seconds(1));
  EXPECT_TRUE(b->Check().value());
  EXPECT_EQ(CrlState(*store_).LeaseHolder().value().value(), "node-b");
  auto crl = CrlState(*store_).Current().value()->record;
  EXPECT_EQ(crl.number, 3);
  EXPECT_EQ(Serials(crl.der), (std::vector<std::string>{"5", "6"}));
  // And keeps renewing it before it expires.
  time_.Advance(hours(16));
  EXPECT_TRUE(b->Check().value());
  EXPECT_EQ(CrlState(*store_).Current().value()->record.number, 4);
  EXPECT_FALSE(a->Check().value());  // a, back, waits its turn
}

TEST_F(CrlServiceTest, StopGivesTheLeaseUp) {
  auto a = Service("node-a");
  a->Start();
  for (int i = 0; i < 200 && !CrlState(*store_).LeaseHolder().value(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(CrlState(*store_).LeaseHolder().value().value_or(""), "node-a");
  a->Stop();
  EXPECT_FALSE(CrlState(*store_).LeaseHolder().value().has_value());
  auto b = Service("node-b");
  EXPECT_FALSE(b->Check().value());  // CRL 1 is still fresh: nothing to write
  EXPECT_EQ(CrlState(*store_).LeaseHolder().value().value_or(""), "node-b");
}

TEST_F(CrlServiceTest, ASlotWithoutItsRecordIsSkippedUntilTheRecordAppears) {
  auto svc = Service("a");
  ASSERT_TRUE(svc->Serve().ok());
  ASSERT_TRUE(RevocationIndex(*store_).Append("77").ok());  // a revoke that crashed here
  EXPECT_TRUE(svc->Check().value());  // the index grew
  EXPECT_TRUE(Serials(svc->Serve()->der).empty());
  RevocationRecord r;
  r.serial = "77";
  r.revoked_at = time_.Now();
  ASSERT_TRUE(store_->Put(Revocations::Key("77"), Revocations::Encode(r), seconds(0)).ok());
  EXPECT_TRUE(svc->Check().value());
  EXPECT_EQ(Serials(svc->Serve()->der), std::vector<std::string>{"77"});
}

TEST_F(CrlServiceTest, ExpiredCertificatesLeaveTheList) {
  auto svc = Service("a");
  Revoke("9");  // expires 48 h from now
  ASSERT_TRUE(svc->Serve().ok());
  EXPECT_EQ(Serials(svc->Serve()->der), std::vector<std::string>{"9"});
  time_.Advance(hours(49));
  EXPECT_TRUE(svc->Check().value());
  EXPECT_TRUE(Serials(svc->Serve()->der).empty());
}

TEST_F(CrlServiceTest, ACrlOfAnotherKeyIsReplacedAtOnce) {
  auto old_issuer = testing::TestIssuer::Make("Old CA");
  CrlService old(config_, *store_, old_issuer.cert.get(), *old_issuer.signer, time_, "a");
  ASSERT_TRUE(old.Serve().ok());
  auto svc = Service("a");  // same holder id: a reload of the same worker
  EXPECT_TRUE(svc->Check().value());
  CrlPtr crl = Parse(svc->Serve()->der);
  EXPECT_EQ(X509_CRL_verify(crl.get(), X509_get0_pubkey(issuer_.cert.get())), 1);
}

TEST_F(CrlServiceTest, AStoreWithoutTheCrlAndTheLeaseTakenIsUnavailable) {
  ASSERT_TRUE(CrlState(*store_).HoldLease("other", seconds(30)).value());
  auto svc = Service("a");
  auto crl = svc->Serve();
  EXPECT_EQ(crl.status().code(), Code::kUnavailable);
}

}  // namespace
}  // namespace stepca
