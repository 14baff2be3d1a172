#include "authority/state/certificate_records.h"

#include <gtest/gtest.h>

#include "authority/store/memory_store.h"

namespace stepca {
namespace {

using std::chrono::seconds;

// A memory store whose writes of one kind fail while `fail_*` is set, as a
// store that goes away between two calls does.
class FaultyStore final : public Store {
 public:
  Status OpenInProcess() override { return Status::Ok(); }
  void CloseInProcess() override {}
  Status PutIfAbsent(std::string_view k, std::string_view v, seconds ttl) override {
    if (fail_put_if_absent) return Unavailable("store unavailable: test");
    return inner->PutIfAbsent(k, v, ttl);
  }
  Status PutIfAllAbsent(const std::vector<StoreEntry>& entries, size_t* taken) override {
    if (fail_put_if_absent) return Unavailable("store unavailable: test");
    return inner->PutIfAllAbsent(entries, taken);
  }
  Status Put(std::string_view k, std::string_view v, seconds ttl) override {
    return inner->Put(k, v, ttl);
  }
  Status CompareAndSwap(std::string_view k, const std::optional<std::string>& e,
                        std::string_view d, seconds ttl) override {
    if (fail_cas) return Unavailable("store unavailable: test");
    return inner->CompareAndSwap(k, e, d, ttl);
  }
  Result<std::optional<std::string>> Get(std::string_view k) override { return inner->Get(k); }
  Result<std::optional<std::string>> Take(std::string_view k) override { return inner->Take(k); }
  Status Delete(std::string_view k) override { return inner->Delete(k); }
  std::string Kind() const override { return "faulty"; }
  Result<std::string> ServerIdentity() override { return std::string(); }

  std::unique_ptr<Store> inner = MakeMemoryStore();
  bool fail_put_if_absent = false;
  bool fail_cas = false;
};

const TimePoint kNow(seconds(1700000000));

CertificateRecord Intent() {
  CertificateRecord r;
  r.provisioner = CertificateProvisioner{"admin/kid", "admin", "JWK"};
  r.names = {"a.example.com", "10.0.0.1"};
  r.not_after = kNow + std::chrono::hours(24);
  return r;
}

// Serials handed out in order, as the issuer's random source would.
CertificateRecords::SerialSource Serials(std::vector<std::string> list) {
  auto shared = std::make_shared<std::vector<std::string>>(std::move(list));
  auto next = std::make_shared<size_t>(0);
  return [shared, next]() -> Result<std::string> {
    if (*next >= shared->size()) return Internal("out of serials");
    return (*shared)[(*next)++];
  };
}

TEST(CertificateRecordsTest, ReserveThenCompleteWritesTheIssuedRecord) {
  auto store = MakeMemoryStore();
  CertificateRecords records(*store);
  int signed_with = 0;
  std::string serial_seen;
  Status st = records.Issue(Intent(), kNow, Serials({"42"}), [&](const std::string& serial) {
    ++signed_with;
    serial_seen = serial;
    // The intent is in the store before the signature is made.
    auto during = CertificateRecords(*store).Find(serial);
    EXPECT_TRUE(during.ok() && during.value().has_value());
    if (during.ok() && during.value()) {
      EXPECT_EQ(during.value()->state, CertificateState::kReserved);
      EXPECT_EQ(during.value()->names, Intent().names);
      EXPECT_TRUE(during.value()->der.empty());
    }
    return Result<SignedForRecord>(SignedForRecord{"DER!", kNow + std::chrono::hours(23)});
  });
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(signed_with, 1);
  EXPECT_EQ(serial_seen, "42");
  auto rec = records.Find("42");
  ASSERT_TRUE(rec.ok() && rec.value().has_value());
  EXPECT_EQ(rec.value()->state, CertificateState::kIssued);
  EXPECT_EQ(rec.value()->der, "DER!");
  EXPECT_EQ(rec.value()->not_after, kNow + std::chrono::hours(23));
  EXPECT_EQ(rec.value()->issued_at, kNow);
  EXPECT_EQ(rec.value()->reserved_at, kNow);
  ASSERT_TRUE(rec.value()->provisioner.has_value());
  EXPECT_EQ(rec.value()->provisioner->name, "admin");
  // The stored layout (docs/ARCHITECTURE.md, "Store keys").
  auto raw = store->Get("x509_certs/42");
  ASSERT_TRUE(raw.ok() && raw.value().has_value());
  EXPECT_EQ(*raw.value(),
            R"({"state":"issued","der":"REVSIQ==","provisioner":{"id":"admin/kid","name":"admin",)"
            R"("type":"JWK"},"names":["a.example.com","10.0.0.1"],"reservedAt":"2023-11-14T22:13:20Z",)"
            R"("issuedAt":"2023-11-14T22:13:20Z","notAfter":"2023-11-15T21:13:20Z"})");
}

TEST(CertificateRecordsTest, StoreFailureAtReserveSignsNothing) {
  FaultyStore store;
  store.fail_put_if_absent = true;
  bool signed_anything = false;
  Status st = CertificateRecords(store).Issue(Intent(), kNow, Serials({"1"}),
                                              [&](const std::string&) {
                                                signed_anything = true;
                                                return Result<SignedForRecord>(SignedForRecord{});
                                              });
  EXPECT_EQ(st.code(), Code::kUnavailable);
  EXPECT_FALSE(signed_anything);
  EXPECT_FALSE(store.inner->Get("x509_certs/1").value().has_value());
}

TEST(CertificateRecordsTest, StoreFailureAtCompletionIsUnavailableAndLeavesTheReservation) {
  FaultyStore store;
  store.fail_cas = true;
  bool signed_anything = false;
  Status st = CertificateRecords(store).Issue(
      Intent(), kNow, Serials({"7"}), [&](const std::string&) {
        signed_anything = true;
        return Result<SignedForRecord>(SignedForRecord{"DER", kNow});
      });
  EXPECT_EQ(st.code(), Code::kUnavailable);  // 503: the caller drops the certificate
  EXPECT_TRUE(signed_anything);
  auto rec = CertificateRecords(store).Find("7");
  ASSERT_TRUE(rec.ok() && rec.value().has_value());
  EXPECT_EQ(rec.value()->state, CertificateState::kReserved);  // never handed out
  EXPECT_TRUE(rec.value()->der.empty());
}

TEST(CertificateRecordsTest, SigningFailureMarksTheRecordFailed) {
  auto store = MakeMemoryStore();
  CertificateRecords records(*store);
  Status st = records.Issue(Intent(), kNow, Serials({"9"}), [](const std::string&) {
    return Result<SignedForRecord>(Internal("signer: device gone"));
  });
  EXPECT_EQ(st.code(), Code::kInternal);
  EXPECT_EQ(st.message(), "signer: device gone");
  auto rec = records.Find("9");
  ASSERT_TRUE(rec.ok() && rec.value().has_value());
  EXPECT_EQ(rec.value()->state, CertificateState::kFailed);
  EXPECT_EQ(rec.value()->failure, "signer: device gone");
}

TEST(CertificateRecordsTest, SerialCollisionDrawsAnotherAndNeverOverwrites) {
  auto store = MakeMemoryStore();
  CertificateRecords records(*store);
  ASSERT_TRUE(store->Put("x509_certs/5", R"({"der":"T0xE"})", seconds(0)).ok());
  std::string used;
  Status st = records.Issue(Intent(), kNow, Serials({"5", "6"}), [&](const std::string& s) {
    used = s;
    return Result<SignedForRecord>(SignedForRecord{"NEW", kNow});
  });
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(used, "6");
  EXPECT_EQ(records.Find("5").value()->der, "OLD");  // untouched
  EXPECT_EQ(records.Find("6").value()->der, "NEW");
  // A serial source that only ever collides gives up without signing.
  bool signed_anything = false;
  st = records.Issue(Intent(), kNow, Serials({"5", "5", "5", "5"}), [&](const std::string&) {
    signed_anything = true;
    return Result<SignedForRecord>(SignedForRecord{});
  });
  EXPECT_EQ(st.code(), Code::kInternal);
  EXPECT_FALSE(signed_anything);
}

const StoreEntry kSpend{"used_ott/abc", "admin/kid marker1", seconds(300)};

TEST(CertificateRecordsTest, ASpendGoesInTheReservationsWrite) {
  auto store = MakeMemoryStore();
  CertificateRecords records(*store);
  bool written = false;
  Status st = records.Issue(Intent(), kNow, Serials({"7"}), [&](const std::string& serial) {
    // both are in the store before the signature is made
    EXPECT_EQ(store->Get("used_ott/abc").value(), "admin/kid marker1");
    EXPECT_EQ(records.Find(serial).value()->state, CertificateState::kReserved);
    return Result<SignedForRecord>(SignedForRecord{"DER", kNow});
  }, &kSpend, &written);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_TRUE(written);
  EXPECT_EQ(records.Find("7").value()->state, CertificateState::kIssued);
}

TEST(CertificateRecordsTest, ASpentTokenReservesNothingAndSignsNothing) {
  auto store = MakeMemoryStore();
  ASSERT_TRUE(store->Put("used_ott/abc", "earlier", seconds(300)).ok());
  bool signed_anything = false, written = true;
  Status st = CertificateRecords(*store).Issue(Intent(), kNow, Serials({"8"}),
                                               [&](const std::string&) {
                                                 signed_anything = true;
                                                 return Result<SignedForRecord>(SignedForRecord{});
                                               },
                                               &kSpend, &written);
  EXPECT_EQ(st.code(), Code::kAlreadyExists);
  EXPECT_FALSE(signed_anything);
  EXPECT_FALSE(written);
  EXPECT_FALSE(store->Get("x509_certs/8").value().has_value());
  EXPECT_EQ(store->Get("used_ott/abc").value(), "earlier");
}

TEST(CertificateRecordsTest, ASerialCollisionWithASpendDrawsAgainAndSpendsOnce) {
  auto store = MakeMemoryStore();
  ASSERT_TRUE(store->Put("x509_certs/5", R"({"der":"T0xE"})", seconds(0)).ok());
  CertificateRecords records(*store);
  std::string used;
  Status st = records.Issue(Intent(), kNow, Serials({"5", "6"}), [&](const std::string& s) {
    used = s;
    return Result<SignedForRecord>(SignedForRecord{"NEW", kNow});
  }, &kSpend);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(used, "6");
  EXPECT_EQ(records.Find("5").value()->der, "OLD");
  EXPECT_EQ(store->Get("used_ott/abc").value(), "admin/kid marker1");
}

TEST(CertificateRecordsTest, AStoreDownAtTheSpendWritesNothing) {
  FaultyStore store;
  store.fail_put_if_absent = true;
  bool written = true;
  Status st = CertificateRecords(store).Issue(Intent(), kNow, Serials({"9"}),
                                              [&](const std::string&) {
                                                return Result<SignedForRecord>(SignedForRecord{});
                                              },
                                              &kSpend, &written);
  EXPECT_EQ(st.code(), Code::kUnavailable);
  EXPECT_FALSE(st.maybe_applied());
  EXPECT_FALSE(written);
  EXPECT_FALSE(store.inner->Get("used_ott/abc").value().has_value());
}

// A store whose PutIfAllAbsent applies the write and then answers
// "unavailable, may have been applied", a given number of times.
class UncertainStore final : public Store {
 public:
  Status OpenInProcess() override { return Status::Ok(); }
  void CloseInProcess() override {}
  Status PutIfAbsent(std::string_view k, std::string_view v, seconds t) override {
    return inner->PutIfAbsent(k, v, t);
  }
  Status PutIfAllAbsent(const std::vector<StoreEntry>& e, size_t* taken) override {
    Status st = inner->PutIfAllAbsent(e, taken);
    if (uncertain > 0) {
      --uncertain;
      return Unavailable("store unavailable: test").MaybeApplied();
    }
    return st;
  }
  Status Put(std::string_view k, std::string_view v, seconds t) override { return inner->Put(k, v, t); }
  Status CompareAndSwap(std::string_view k, const std::optional<std::string>& e,
                        std::string_view d, seconds t) override {
    return inner->CompareAndSwap(k, e, d, t);
  }
  Result<std::optional<std::string>> Get(std::string_view k) override { return inner->Get(k); }
  Result<std::optional<std::string>> Take(std::string_view k) override { return inner->Take(k); }
  Status Delete(std::string_view k) override { return inner->Delete(k); }
  std::string Kind() const override { return "uncertain"; }
  Result<std::string> ServerIdentity() override { return std::string(); }

  std::unique_ptr<Store> inner = MakeMemoryStore();
  int uncertain = 0;
};

TEST(CertificateRecordsTest, AnUncertainSpendIsSettledByWritingItAgain) {
  UncertainStore store;
  store.uncertain = 1;  // the first write landed, its answer was lost
  bool written = false;
  Status st = CertificateRecords(store).Issue(Intent(), kNow, Serials({"10"}),
                                              [&](const std::string&) {
                                                return Result<SignedForRecord>(SignedForRecord{"D", kNow});
                                              },
                                              &kSpend, &written);
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_TRUE(written);
  EXPECT_EQ(CertificateRecords(*store.inner).Find("10").value()->state, CertificateState::kIssued);

  // Someone else's spend found on the second look is a replay, not ours.
  UncertainStore other;
  ASSERT_TRUE(other.inner->Put("used_ott/abc", "someone else", seconds(300)).ok());
  other.uncertain = 1;
  st = CertificateRecords(other).Issue(Intent(), kNow, Serials({"11"}),
                                       [&](const std::string&) {
                                         return Result<SignedForRecord>(SignedForRecord{"D", kNow});
                                       },
                                       &kSpend, &written);
  EXPECT_EQ(st.code(), Code::kAlreadyExists);
  EXPECT_FALSE(written);

  // Both answers lost: unavailable, and it says the write may have landed.
  UncertainStore lost;
  lost.uncertain = 2;
  st = CertificateRecords(lost).Issue(Intent(), kNow, Serials({"12"}),
                                      [&](const std::string&) {
                                        return Result<SignedForRecord>(SignedForRecord{"D", kNow});
                                      },
                                      &kSpend, &written);
  EXPECT_EQ(st.code(), Code::kUnavailable);
  EXPECT_TRUE(st.maybe_applied());
  EXPECT_FALSE(written);
}

TEST(CertificateRecordsTest, CompletionRefusesARecordChangedMeanwhile) {
  auto store = MakeMemoryStore();
  CertificateRecords records(*store);
  CertificateRecord intent = Intent();
  intent.serial = "11";
  auto res = records.Reserve(intent);
  ASSERT_TRUE(res.ok());
  EXPECT_EQ(records.Reserve(intent).status().code(), Code::kAlreadyExists);
  ASSERT_TRUE(store->Put("x509_certs/11", R"({"state":"failed"})", seconds(0)).ok());
  EXPECT_EQ(records.Complete(res.value(), "DER", kNow, kNow).code(), Code::kAlreadyExists);
  EXPECT_EQ(records.Find("11").value()->state, CertificateState::kFailed);
}

// Records written before record-before-sign have no state: issued.
TEST(CertificateRecordsTest, RecordWithoutStateIsIssued) {
  auto store = MakeMemoryStore();
  ASSERT_TRUE(store->Put("x509_certs/3",
                         R"({"der":"REVS","provisioner":{"id":"i","name":"n","type":"JWK"},)"
                         R"("issuedAt":"2023-11-14T22:13:20Z","notAfter":"2023-11-15T22:13:20Z",)"
                         R"("renewedFrom":"2"})",
                         seconds(0))
                  .ok());
  ASSERT_TRUE(store->Put("x509_certs/4", R"({"der":"REVS","provisioner":null})", seconds(0)).ok());
  CertificateRecords records(*store);
  auto old = records.Find("3");
  ASSERT_TRUE(old.ok() && old.value().has_value());
  EXPECT_EQ(old.value()->state, CertificateState::kIssued);
  EXPECT_EQ(old.value()->der, "DER");
  EXPECT_EQ(old.value()->provisioner->name, "n");
  EXPECT_EQ(old.value()->renewed_from, "2");
  EXPECT_EQ(old.value()->not_after, TimePoint(seconds(1700086400)));
  auto noop = records.Find("4");
  ASSERT_TRUE(noop.ok() && noop.value().has_value());
  EXPECT_FALSE(noop.value()->provisioner.has_value());
  ASSERT_TRUE(store->Put("x509_certs/8", R"({"state":"bogus"})", seconds(0)).ok());
  EXPECT_EQ(records.Find("8").status().code(), Code::kInternal);
}

TEST(CertificateRecordsTest, ImportWritesAnIssuedRecordOnce) {
  auto store = MakeMemoryStore();
  CertificateRecords records(*store);
  CertificateRecord r = Intent();
  r.serial = "12345";
  r.der = "DER";
  r.state = CertificateState::kReserved;  // Import decides the state
  ASSERT_TRUE(records.Import(r).ok());
  auto found = records.Find("12345");
  ASSERT_TRUE(found.ok());
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ(found.value()->state, CertificateState::kIssued);
  EXPECT_EQ(found.value()->der, "DER");
  EXPECT_EQ(found.value()->provisioner->name, "admin");

  // A second import of the serial changes nothing.
  r.der = "OTHER";
  EXPECT_EQ(records.Import(r).code(), Code::kAlreadyExists);
  EXPECT_EQ(records.Find("12345").value()->der, "DER");
}

TEST(CertificateRecordsTest, ImportRefusesARecordWithoutItsCertificate) {
  auto store = MakeMemoryStore();
  CertificateRecord r = Intent();
  r.serial = "7";
  EXPECT_FALSE(CertificateRecords(*store).Import(r).ok());
  EXPECT_FALSE(CertificateRecords(*store).Find("7").value().has_value());
}

}  // namespace
}  // namespace stepca
