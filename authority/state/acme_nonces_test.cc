#include "authority/state/acme_nonces.h"

#include <gtest/gtest.h>

#include "authority/store/memory_store.h"

namespace stepca {
namespace {

TEST(AcmeNoncesTest, SpendsOnceAndOnlyOurShape) {
  auto store = MakeMemoryStore();
  AcmeNonces nonces(*store);
  auto n = nonces.Issue();
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->size(), 43u);
  EXPECT_EQ(store->Get(AcmeNonces::Key(*n)).value().value_or(""), "1");
  EXPECT_TRUE(nonces.Spend(*n).value());
  EXPECT_FALSE(nonces.Spend(*n).value());
  EXPECT_FALSE(nonces.Spend("short").value());
  EXPECT_FALSE(nonces.Spend(std::string(43, '!')).value());
}

TEST(AcmeNoncesTest, ExpiresAfterItsTtl) {
  auto now = std::chrono::system_clock::now();
  auto store = MakeMemoryStore([&] { return now; });
  AcmeNonces nonces(*store);
  auto n = nonces.Issue();
  ASSERT_TRUE(n.ok());
  now += AcmeNonces::kNonceTtl + std::chrono::seconds(1);
  EXPECT_FALSE(nonces.Spend(*n).value());
}

}  // namespace
}  // namespace stepca
