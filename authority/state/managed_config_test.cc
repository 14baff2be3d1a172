#include "authority/state/managed_config.h"

#include <gtest/gtest.h>

#include "authority/store/memory_store.h"

namespace stepca {
namespace {

ManagedConfig WithAdmins(int n) {
  ManagedConfig c;
  c.provisioners.reset(json_array());
  c.admins.reset(json_array());
  for (int i = 0; i < n; ++i) json_array_append_new(c.admins.get(), json_pack("{s:i}", "n", i));
  return c;
}

TEST(ManagedConfigRecords, AbsentReadsEmptyAndTheFirstWriteIsGenerationOne) {
  auto store = MakeMemoryStore();
  ManagedConfigRecords r(*store);
  EXPECT_EQ(r.Generation().value(), 0);
  auto read = r.Read();
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->record.generation, 0);
  EXPECT_EQ(json_array_size(read->record.admins.get()), 0u);
  auto gen = r.Replace(read.value(), WithAdmins(1));
  ASSERT_TRUE(gen.ok()) << gen.status().message();
  EXPECT_EQ(gen.value(), 1);
  EXPECT_EQ(r.Generation().value(), 1);
  auto again = r.Read();
  EXPECT_EQ(again->record.generation, 1);
  EXPECT_EQ(json_array_size(again->record.admins.get()), 1u);
}

TEST(ManagedConfigRecords, AStaleWriterLosesAndChangesNothing) {
  auto store = MakeMemoryStore();
  ManagedConfigRecords r(*store);
  auto first = r.Read().value();
  auto second = r.Read().value();
  ASSERT_TRUE(r.Replace(first, WithAdmins(1)).ok());
  auto lost = r.Replace(second, WithAdmins(5));
  EXPECT_EQ(lost.status().code(), Code::kAlreadyExists);
  EXPECT_EQ(json_array_size(r.Read()->record.admins.get()), 1u);
  EXPECT_EQ(r.Generation().value(), 1);
}

TEST(ManagedConfigRecords, MalformedRecordsAreErrorsNotGuesses) {
  auto store = MakeMemoryStore();
  ManagedConfigRecords r(*store);
  ASSERT_TRUE(store->Put(ManagedConfigRecords::ConfigKey(), "{\"generation\":1}", std::chrono::seconds(0)).ok());
  EXPECT_EQ(r.Read().status().code(), Code::kInternal);
  ASSERT_TRUE(store->Put(ManagedConfigRecords::GenerationKey(), "x", std::chrono::seconds(0)).ok());
  EXPECT_EQ(r.Generation().status().code(), Code::kInternal);
}

}  // namespace
}  // namespace stepca
