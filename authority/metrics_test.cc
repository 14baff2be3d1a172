#include "authority/metrics.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include <set>
#include <vector>

#include "authority/provisioner/parse_provisioner.h"
#include "authority/state/acme_authorizations.h"
#include "authority/state/acme_certificates.h"
#include "authority/state/acme_orders.h"
#include "authority/state/certificate_records.h"
#include "authority/state/spent_tokens.h"
#include "authority/state/store_epoch.h"
#include "authority/store/store.h"

namespace stepca {
namespace {

TEST(MetricsTest, RoutesAreAFixedSet) {
  EXPECT_EQ(Metrics::RouteOf("/1.0/sign"), "sign");
  EXPECT_EQ(Metrics::RouteOf("/sign"), "sign");
  EXPECT_EQ(Metrics::RouteOf("/roots.pem"), "roots");
  EXPECT_EQ(Metrics::RouteOf("/root/abc"), "root");
  EXPECT_EQ(Metrics::RouteOf("/provisioners/kid/encrypted-key"), "provisioners");
  EXPECT_EQ(Metrics::RouteOf("/re-sign"), "renew");
  EXPECT_EQ(Metrics::RouteOf("/acme/acme/new-order"), "acme");
  EXPECT_EQ(Metrics::RouteOf("/signx"), "other");
  EXPECT_EQ(Metrics::RouteOf("/1.0/sign/x"), "other");
  EXPECT_EQ(Metrics::RouteOf(""), "other");
}

// The counters are in a shared mapping made before fork: what a child
// process (an nginx worker) adds, the parent and its siblings see.
TEST(MetricsTest, CountersAreSharedAcrossFork) {
  ProvisionerCollection none;
  auto m = Metrics::Create(none);
  ASSERT_TRUE(m.ok());
  Metrics& metrics = *m.value();
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    for (int i = 0; i < 1000; ++i) metrics.TokenReplay();
    _exit(0);
  }
  for (int i = 0; i < 1000; ++i) metrics.TokenReplay();
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(metrics.token_replays(), 2000u);
}

class FakeStore final : public Store {
 public:
  Status OpenInProcess() override { return Status::Ok(); }
  void CloseInProcess() override {}
  Status PutIfAbsent(std::string_view key, std::string_view, std::chrono::seconds) override {
    if (down) return Unavailable("store unavailable: test");
    return seen.insert(std::string(key)).second ? Status::Ok()
                                                : Status(Code::kAlreadyExists, "exists");
  }
  Status PutIfAllAbsent(const std::vector<StoreEntry>& entries, size_t* taken) override {
    if (down) return Unavailable("store unavailable: test");
    for (size_t i = 0; i < entries.size(); ++i) {
      if (seen.count(entries[i].key)) {
        if (taken) *taken = i;
        return Status(Code::kAlreadyExists, "exists");
      }
    }
    for (const auto& e : entries) seen.insert(e.key);
    return Status::Ok();
  }
  Status Put(std::string_view, std::string_view, std::chrono::seconds) override {
    return down ? Unavailable("store unavailable: test") : Status::Ok();
  }
  Status CompareAndSwap(std::string_view, const std::optional<std::string>&, std::string_view,
                        std::chrono::seconds) override {
    return down ? Unavailable("store unavailable: test") : Status::Ok();
  }
  Result<std::optional<std::string>> Get(std::string_view) override {
    return std::optional<std::string>();
  }
  Result<std::optional<std::string>> Take(std::string_view) override {
    return std::optional<std::string>();
  }
  Status Delete(std::string_view) override { return Status::Ok(); }
  std::string Kind() const override { return "fake"; }
  Result<std::string> ServerIdentity() override { return std::string(); }
  std::set<std::string> seen;
  bool down = false;
};

TEST(MetricsTest, MeteredStoreCountsReplaysErrorsAndCertificates) {
  ProvisionerCollection none;
  auto m = Metrics::Create(none);
  ASSERT_TRUE(m.ok());
  auto fake = std::make_unique<FakeStore>();
  FakeStore* raw = fake.get();
  auto store = MeteredStore(std::move(fake), m.value().get());
  const auto ttl = std::chrono::seconds(60);
  EXPECT_TRUE(store->PutIfAbsent(SpentTokens::Key("a"), "p", ttl).ok());
  EXPECT_EQ(store->PutIfAbsent(SpentTokens::Key("a"), "p", ttl).code(), Code::kAlreadyExists);
  EXPECT_EQ(store->PutIfAbsent(StoreEpoch::Key(), "1", ttl).code(), Code::kOk);
  EXPECT_EQ(store->PutIfAbsent(StoreEpoch::Key(), "1", ttl).code(), Code::kAlreadyExists);
  EXPECT_TRUE(store->Put(CertificateRecords::Key("1"), R"({"provisioner":{"name":"x"}})", ttl).ok());
  raw->down = true;
  EXPECT_EQ(store->Put(CertificateRecords::Key("2"), "{}", ttl).code(), Code::kUnavailable);
  EXPECT_EQ(m.value()->token_replays(), 1u);   // only a spent token is a replay
  EXPECT_EQ(m.value()->store_errors(), 1u);    // AlreadyExists is an answer
  EXPECT_EQ(m.value()->store_calls(), 6u);
  EXPECT_EQ(m.value()->certificates_issued(), 1u);  // the failed record is not
}

TEST(MetricsTest, AcmeOrdersAreCountedByTheStateWritten) {
  ProvisionerCollection none;
  auto m = Metrics::Create(none);
  ASSERT_TRUE(m.ok());
  auto fake = std::make_unique<FakeStore>();
  FakeStore* raw = fake.get();
  auto store = MeteredStore(std::move(fake), m.value().get());
  const auto ttl = std::chrono::seconds(60);
  EXPECT_TRUE(store->Put(AcmeOrders::Key("o1"), R"({"id":"o1","status":"pending"})", ttl).ok());
  EXPECT_TRUE(store->Put(AcmeOrders::Key("o2"), R"({"id":"o2","status":"pending"})", ttl).ok());
  EXPECT_TRUE(store->Put(AcmeOrders::Key("o1"), R"({"id":"o1","status":"valid"})", ttl).ok());
  // Other ACME records are not orders; unknown states are not counted.
  EXPECT_TRUE(store->PutIfAbsent(AcmeCertificates::Key("o1"), R"({"status":"valid"})", ttl).ok());
  EXPECT_TRUE(store->Put(AcmeOrders::Key("o3"), R"({"status":"bogus"})", ttl).ok());
  EXPECT_TRUE(store->Put(AcmeAuthorizations::Key("a1"), R"({"status":"invalid"})", ttl).ok());
  raw->down = true;
  EXPECT_FALSE(store->Put(AcmeOrders::Key("o4"), R"({"status":"pending"})", ttl).ok());
  EXPECT_EQ(m.value()->acme_orders("pending"), 2u);
  EXPECT_EQ(m.value()->acme_orders("valid"), 1u);
  EXPECT_EQ(m.value()->acme_orders("invalid"), 0u);
}

ProvisionerCollection Named(std::vector<std::string> names) {
  ProvisionerCollection c;
  std::vector<std::string> warnings;
  for (size_t i = 0; i < names.size(); ++i) {
    json_t* j = json_pack("{s:s,s:s}", "type", "ACME", "name", names[i].c_str());
    auto p = ParseProvisioner(j, "provisioners[" + std::to_string(i) + "]", Claims(), &warnings);
    json_decref(j);
    EXPECT_TRUE(p.ok()) << p.status().LogText();
    EXPECT_TRUE(c.Add(std::move(p).value(), names[i]).ok());
  }
  return c;
}

// What nginx does on reload: a new Metrics for the new configuration on the
// zone the old one used. Counts survive, per provisioner by name.
TEST(MetricsTest, CountersSurviveInHandedInMemory) {
  std::vector<uint64_t> zone(Metrics::SharedSize() / 8 + 1, 0);
  auto a = Metrics::Create(Named({"jwk", "acme"}));
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(a.value()->UseSharedMemory(zone.data(), Metrics::SharedSize()).ok());
  a.value()->TokenReplay();
  a.value()->CertificateIssued("acme");
  a.value()->CertificateIssued("acme");
  a.value()->CertificateIssued("jwk");
  a.value()->Request("/1.0/sign", 201);

  // reordered, one added
  auto b = Metrics::Create(Named({"new", "acme", "jwk"}));
  ASSERT_TRUE(b.ok());
  ASSERT_TRUE(b.value()->UseSharedMemory(zone.data(), Metrics::SharedSize()).ok());
  EXPECT_EQ(b.value()->token_replays(), 1u);
  EXPECT_EQ(b.value()->certificates_issued(), 3u);
  b.value()->CertificateIssued("new");
  a.value()->TokenReplay();  // an old worker still counting during the reload
  EXPECT_EQ(b.value()->token_replays(), 2u);
}

TEST(MetricsTest, UpstreamCallsAreCountedByResultWithTheirConnections) {
  auto m = Metrics::Create(Named({}));
  ASSERT_TRUE(m.ok());
  (*m)->UpstreamCall(std::chrono::milliseconds(20), "ok", 1);
  (*m)->UpstreamCall(std::chrono::milliseconds(30), "ok", 0);  // a reused connection
  (*m)->UpstreamCall(std::chrono::seconds(15), "timeout", 1);
  (*m)->UpstreamCall(std::chrono::milliseconds(5), "refused", 0);
  (*m)->UpstreamCall(std::chrono::milliseconds(5), "no such result", 0);
  EXPECT_EQ((*m)->upstream_calls("ok"), 2u);
  EXPECT_EQ((*m)->upstream_calls("timeout"), 1u);
  EXPECT_EQ((*m)->upstream_calls("refused"), 1u);
  EXPECT_EQ((*m)->upstream_calls("failed"), 1u);  // an unnamed result is a failure
  EXPECT_EQ((*m)->upstream_calls("unreachable"), 0u);
  EXPECT_EQ((*m)->upstream_connections(), 2u);
}

TEST(MetricsTest, RefusesMemoryTooSmall) {
  auto m = Metrics::Create(Named({}));
  ASSERT_TRUE(m.ok());
  std::vector<uint64_t> zone(16, 0);
  Status st = m.value()->UseSharedMemory(zone.data(), zone.size() * 8);
  EXPECT_EQ(st.code(), Code::kInvalidArgument);
  EXPECT_EQ(m.value()->UseSharedMemory(nullptr, Metrics::SharedSize()).code(),
            Code::kInvalidArgument);
  m.value()->TokenReplay();  // still counts in its own memory
  EXPECT_EQ(m.value()->token_replays(), 1u);
}

TEST(MetricsTest, ForeignBytesStartFromZero) {
  std::vector<uint64_t> zone(Metrics::SharedSize() / 8 + 1, 0xababababababababull);
  auto m = Metrics::Create(Named({"p"}));
  ASSERT_TRUE(m.ok());
  ASSERT_TRUE(m.value()->UseSharedMemory(zone.data(), Metrics::SharedSize()).ok());
  EXPECT_EQ(m.value()->token_replays(), 0u);
  EXPECT_EQ(m.value()->certificates_issued(), 0u);
  EXPECT_EQ(m.value()->store_calls(), 0u);
}

}  // namespace
}  // namespace stepca
