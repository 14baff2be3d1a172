#include "authority/abi_response.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace stepca {
namespace {

// malloc that fails from the n-th call on (counted from 0).
int g_calls = 0;
int g_fail_at = -1;
void* Failing(size_t n) {
  if (g_fail_at >= 0 && g_calls++ >= g_fail_at) return nullptr;
  return std::malloc(n);
}

HttpResponse Created(size_t headers) {
  HttpResponse r;
  r.status = 201;
  r.content_type = "application/json";
  r.body = "{\"crt\":\"...\"}\n";
  for (size_t i = 0; i < headers; ++i)
    r.headers.emplace_back("X-H" + std::to_string(i), "v" + std::to_string(i));
  r.log_level = LogLevel::kInfo;
  r.log_message = "issued";
  return r;
}

TEST(AbiResponseTest, KeepsEveryHeader) {
  stepca_response_t out;
  ASSERT_TRUE(FillAbiResponse(Created(20), &out, std::malloc));
  EXPECT_EQ(out.status, 201);
  ASSERT_EQ(out.nheaders, 20u);
  for (size_t i = 0; i < 20; ++i) {
    EXPECT_EQ(std::string(out.headers[i].name), "X-H" + std::to_string(i));
    EXPECT_EQ(std::string(out.headers[i].value), "v" + std::to_string(i));
  }
  EXPECT_EQ(std::string(out.body, out.body_len), "{\"crt\":\"...\"}\n");
  EXPECT_EQ(out.log_level, STEPCA_LOG_INFO);
  FreeAbiResponse(&out);
  EXPECT_EQ(out.headers, nullptr);
}

TEST(AbiResponseTest, EmptyBodyIsNotAFailure) {
  HttpResponse r;
  r.status = 204;
  stepca_response_t out;
  ASSERT_TRUE(FillAbiResponse(r, &out, std::malloc));
  EXPECT_EQ(out.status, 204);
  EXPECT_NE(out.body, nullptr);
  EXPECT_EQ(out.body_len, 0u);
  EXPECT_EQ(out.nheaders, 0u);
  FreeAbiResponse(&out);
}

// Whichever allocation fails (content type, body, header array, a header,
// the log line), the answer is the "no memory" 500, never the 201.
TEST(AbiResponseTest, AnyFailedAllocationIsA500WithoutBody) {
  const HttpResponse r = Created(3);
  const int allocations = 1 + 1 + 1 + 3 * 2 + 1;
  for (int fail = 0; fail < allocations; ++fail) {
    g_calls = 0;
    g_fail_at = fail;
    stepca_response_t out;
    EXPECT_FALSE(FillAbiResponse(r, &out, Failing)) << fail;
    EXPECT_EQ(out.status, 500) << fail;
    EXPECT_EQ(out.body, nullptr);
    EXPECT_EQ(out.body_len, 0u);
    EXPECT_EQ(out.content_type, nullptr);
    EXPECT_EQ(out.headers, nullptr);
    EXPECT_EQ(out.nheaders, 0u);
    EXPECT_EQ(out.log_message, nullptr);
  }
  g_calls = 0;
  g_fail_at = allocations;
  stepca_response_t out;
  EXPECT_TRUE(FillAbiResponse(r, &out, Failing));
  FreeAbiResponse(&out);
  g_fail_at = -1;
}

}  // namespace
}  // namespace stepca
