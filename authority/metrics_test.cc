#include "authority/metrics.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <set>

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
  EXPECT_TRUE(store->PutIfAbsent("used_ott/a", "p", ttl).ok());
  EXPECT_EQ(store->PutIfAbsent("used_ott/a", "p", ttl).code(), Code::kAlreadyExists);
  EXPECT_EQ(store->PutIfAbsent("meta/epoch", "1", ttl).code(), Code::kOk);
  EXPECT_EQ(store->PutIfAbsent("meta/epoch", "1", ttl).code(), Code::kAlreadyExists);
  EXPECT_TRUE(store->Put("x509_certs/1", R"({"provisioner":{"name":"x"}})", ttl).ok());
  raw->down = true;
  EXPECT_EQ(store->Put("x509_certs/2", "{}", ttl).code(), Code::kUnavailable);
  EXPECT_EQ(m.value()->token_replays(), 1u);   // only used_ott/ is a token
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
  EXPECT_TRUE(store->Put("acme_order/o1", R"({"id":"o1","status":"pending"})", ttl).ok());
  EXPECT_TRUE(store->Put("acme_order/o2", R"({"id":"o2","status":"pending"})", ttl).ok());
  EXPECT_TRUE(store->Put("acme_order/o1", R"({"id":"o1","status":"valid"})", ttl).ok());
  // Guards and locks are not orders; unknown states are not counted.
  EXPECT_TRUE(store->PutIfAbsent("acme_order_fin/o1", R"({"status":"valid"})", ttl).ok());
  EXPECT_TRUE(store->Put("acme_order/o3", R"({"status":"bogus"})", ttl).ok());
  EXPECT_TRUE(store->Put("acme_authz/a1", R"({"status":"invalid"})", ttl).ok());
  raw->down = true;
  EXPECT_FALSE(store->Put("acme_order/o4", R"({"status":"pending"})", ttl).ok());
  EXPECT_EQ(m.value()->acme_orders("pending"), 2u);
  EXPECT_EQ(m.value()->acme_orders("valid"), 1u);
  EXPECT_EQ(m.value()->acme_orders("invalid"), 0u);
}

}  // namespace
}  // namespace stepca
