#include "authority/provisioner/token_claims.h"

#include <gtest/gtest.h>

#include "authority/ossl.h"

namespace stepca {
namespace {

JsonPtr Parse(const char* text) {
  json_error_t e;
  return JsonPtr(json_loads(text, 0, &e));
}

TimePoint At(int64_t s) { return TimePoint(std::chrono::seconds(s)); }

TokenClaims Times(std::optional<int64_t> nbf, std::optional<int64_t> exp, std::optional<int64_t> iat) {
  TokenClaims c;
  c.not_before = nbf;
  c.expiry = exp;
  c.issued_at = iat;
  return c;
}

TEST(TokenClaimsTest, ReadsStepTokenClaims) {
  auto p = Parse(R"({"aud":"https://ca/1.0/sign","exp":300,"iat":0,"iss":"p","jti":"j","nbf":0,
                    "sans":["a","b"],"sub":"s","cnf":{"x5rt#S256":"abc"}})");
  auto c = ReadTokenClaims(p.get());
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->issuer, "p");
  EXPECT_EQ(c->subject, "s");
  EXPECT_EQ(c->id, "j");
  EXPECT_EQ(c->audience, std::vector<std::string>{"https://ca/1.0/sign"});
  EXPECT_EQ(c->sans, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(*c->expiry, 300);
  EXPECT_EQ(c->cnf_x5rt, "abc");
}

TEST(TokenClaimsTest, AudienceMayBeAnArray) {
  auto p = Parse(R"({"aud":["x","y"]})");
  auto c = ReadTokenClaims(p.get());
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->audience.size(), 2u);
}

TEST(TokenClaimsTest, RejectsWrongTypes) {
  for (const char* bad : {R"({"sub":1})", R"({"iss":[]})", R"({"aud":5})", R"({"aud":[1]})",
                          R"({"exp":"300"})", R"({"nbf":true})", R"({"sans":"a"})",
                          R"({"sans":[1]})", R"({"cnf":"x"})", R"({"jti":{}})"}) {
    auto p = Parse(bad);
    auto c = ReadTokenClaims(p.get());
    EXPECT_FALSE(c.ok()) << bad;
    EXPECT_EQ(c.status().code(), Code::kUnauthenticated) << bad;
  }
}

TEST(TokenClaimsTest, TimeClaimsWithOneMinuteLeeway) {
  const int64_t now = 1'800'000'000;
  EXPECT_TRUE(CheckTimeClaims(Times(now, now + 300, now), At(now)).ok());
  // exp passed 59 s ago: still inside the leeway.
  EXPECT_TRUE(CheckTimeClaims(Times(now - 400, now - 59, now - 400), At(now)).ok());
  // nbf 59 s ahead: inside the leeway.
  EXPECT_TRUE(CheckTimeClaims(Times(now + 59, now + 300, now), At(now)).ok());
}

TEST(TokenClaimsTest, RejectsExpiredToken) {
  const int64_t now = 1'800'000'000;
  Status st = CheckTimeClaims(Times(now - 400, now - 61, now - 400), At(now));
  EXPECT_EQ(st.code(), Code::kUnauthenticated);
  EXPECT_NE(st.message().find("expired"), std::string::npos);
}

TEST(TokenClaimsTest, RejectsTokenNotYetValid) {
  const int64_t now = 1'800'000'000;
  EXPECT_EQ(CheckTimeClaims(Times(now + 61, now + 300, now), At(now)).code(), Code::kUnauthenticated);
}

TEST(TokenClaimsTest, RejectsTokenIssuedInTheFuture) {
  const int64_t now = 1'800'000'000;
  EXPECT_EQ(CheckTimeClaims(Times(std::nullopt, now + 300, now + 61), At(now)).code(),
            Code::kUnauthenticated);
}

TEST(TokenClaimsTest, RejectsTokenWithoutExpiry) {
  const int64_t now = 1'800'000'000;
  Status st = CheckTimeClaims(Times(now, std::nullopt, now), At(now));
  EXPECT_EQ(st.code(), Code::kUnauthenticated);
  EXPECT_NE(st.message().find("exp"), std::string::npos);
}

TEST(TokenClaimsTest, RejectsTokenLivingLongerThanAnHour) {
  const int64_t now = 1'800'000'000;
  EXPECT_TRUE(CheckTimeClaims(Times(now, now + 3600, now), At(now)).ok());
  EXPECT_EQ(CheckTimeClaims(Times(now, now + 3600 + 61, now), At(now)).code(),
            Code::kUnauthenticated);
}

TEST(AudiencesTest, MatchesBothSignPathsPortInsensitive) {
  Audiences a({"localhost", "127.0.0.1"});
  EXPECT_TRUE(a.Matches(TokenMethod::kSign, {"https://127.0.0.1:9643/1.0/sign"}));
  EXPECT_TRUE(a.Matches(TokenMethod::kSign, {"https://127.0.0.1/sign"}));
  EXPECT_TRUE(a.Matches(TokenMethod::kSign, {"https://localhost:8443/1.0/sign"}));
  EXPECT_TRUE(a.Matches(TokenMethod::kSign, {"https://LOCALHOST/sign"}));
  EXPECT_TRUE(a.Matches(TokenMethod::kSign, {"step-certificate-authority"}));
  EXPECT_TRUE(a.Matches(TokenMethod::kSign, {"https://other/x", "https://localhost/sign"}));
}

TEST(AudiencesTest, RejectsForeignHostPathSchemeAndMethod) {
  Audiences a({"localhost", "127.0.0.1"});
  EXPECT_FALSE(a.Matches(TokenMethod::kSign, {"https://ca.example.invalid/1.0/sign"}));
  EXPECT_FALSE(a.Matches(TokenMethod::kSign, {"http://localhost/1.0/sign"}));
  EXPECT_FALSE(a.Matches(TokenMethod::kSign, {"https://localhost/1.0/signx"}));
  EXPECT_FALSE(a.Matches(TokenMethod::kSign, {"https://localhost/1.0/revoke"}));
  EXPECT_FALSE(a.Matches(TokenMethod::kRenew, {"step-certificate-authority"}));
  EXPECT_FALSE(a.Matches(TokenMethod::kSign, {}));
  EXPECT_FALSE(a.Matches(TokenMethod::kSign, {"https://localhost.evil/1.0/sign"}));
  EXPECT_FALSE(a.Matches(TokenMethod::kSign, {"https://127.0.0.1@evil/1.0/sign"}));
}

TEST(AudiencesTest, FragmentMustMatchExactly) {
  Audiences a({"ca.internal"});
  const std::vector<std::string> aud = {"https://ca.internal/1.0/sign#x5c/x5c"};
  EXPECT_EQ(a.Fragment(TokenMethod::kSign, aud), "x5c/x5c");
  EXPECT_TRUE(a.Matches(TokenMethod::kSign, aud, "x5c/x5c"));
  EXPECT_FALSE(a.Matches(TokenMethod::kSign, aud));
  EXPECT_FALSE(a.Matches(TokenMethod::kSign, aud, "acme/acme"));
}

TEST(AudiencesTest, Ipv6Names) {
  Audiences a({"::1"});
  EXPECT_TRUE(a.Matches(TokenMethod::kSign, {"https://[::1]:9000/1.0/sign"}));
  EXPECT_FALSE(a.Matches(TokenMethod::kSign, {"https://[::2]/1.0/sign"}));
}

// Found by fuzz_jws: a real time claim beyond int64 ("exp":1.8e48) was
// converted with undefined behaviour, before any signature check.
TEST(TokenClaimsTest, RealTimeClaimOutOfRangeIsRejected) {
  for (const char* text : {R"({"exp":1.79542e+48})", R"({"nbf":-1e19})", R"({"iat":9.3e18})"}) {
    auto p = Parse(text);
    auto c = ReadTokenClaims(p.get());
    ASSERT_FALSE(c.ok()) << text;
    EXPECT_EQ(c.status().code(), Code::kUnauthenticated);
    EXPECT_NE(c.status().message().find("out of range"), std::string::npos) << c.status().message();
  }
  auto p = Parse(R"({"exp":1795409619.5})");
  auto c = ReadTokenClaims(p.get());
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(*c->expiry, 1795409619);
}

TEST(TokenClaims, IdentityTimeClaimsLeaveTheLifetimeToTheIssuer) {
  const TimePoint now(std::chrono::seconds(1700000000));
  TokenClaims c;
  EXPECT_FALSE(CheckIdentityTimeClaims(c, now).ok());  // exp required
  c.expiry = 1700000000 + 86400;                       // a day: the issuer's choice
  EXPECT_TRUE(CheckIdentityTimeClaims(c, now).ok());
  c.expiry = 1700000000 - 59;  // within the leeway
  EXPECT_TRUE(CheckIdentityTimeClaims(c, now).ok());
  c.expiry = 1700000000 - 61;
  EXPECT_FALSE(CheckIdentityTimeClaims(c, now).ok());
  c.expiry = 1700000000 + 60;
  c.not_before = 1700000000 + 61;
  EXPECT_FALSE(CheckIdentityTimeClaims(c, now).ok());
  c.not_before.reset();
  c.issued_at = 1700000000 + 61;
  EXPECT_FALSE(CheckIdentityTimeClaims(c, now).ok());
}

}  // namespace
}  // namespace stepca
