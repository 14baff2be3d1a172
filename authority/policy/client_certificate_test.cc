#include "authority/policy/client_certificate.h"

#include <gtest/gtest.h>

namespace stepca {
namespace {

TEST(BearerToken, ReadsTheSchemeCaseInsensitivelyAndTrims) {
  EXPECT_EQ(BearerToken("Bearer abc"), "abc");
  EXPECT_EQ(BearerToken("  bearer   abc  "), "abc");
  EXPECT_EQ(BearerToken("BEARER x.y.z"), "x.y.z");
}

TEST(BearerToken, IsEmptyForOtherSchemesOrNoToken) {
  EXPECT_EQ(BearerToken(""), "");
  EXPECT_EQ(BearerToken("Basic abc"), "");
  EXPECT_EQ(BearerToken("Bearer"), "");
  EXPECT_EQ(BearerToken("Bearerabc"), "");
  EXPECT_EQ(BearerToken("Bearer    "), "");
}

TEST(VerifiedPeerCertificate, RefusesBytesThatAreNotACertificate) {
  std::vector<X509Ptr> none;
  TrustAnchors anchors{&none, &none, &none};
  auto r = VerifiedPeerCertificate("not der", anchors, Clock::now());
  EXPECT_EQ(r.status().code(), Code::kUnauthenticated);
  EXPECT_EQ(r.status().message(), "client certificate is not valid");
}

TEST(RenewSubjectFromToken, RefusesATokenWithoutAnX5cInsecureChain) {
  std::vector<X509Ptr> none;
  TrustAnchors anchors{&none, &none, &none};
  auto r = RenewSubjectFromToken("a.b.c", anchors);
  EXPECT_EQ(r.status().code(), Code::kUnauthenticated);
  EXPECT_EQ(r.status().message(), "authority.AuthorizeRenewToken: error validating renew token");
}

}  // namespace
}  // namespace stepca
