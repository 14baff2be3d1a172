#include "authority/x509/claims.h"

#include <gtest/gtest.h>

#include "authority/ossl.h"

namespace stepca {
namespace {

using std::chrono::hours;
using std::chrono::minutes;

JsonPtr Json(const char* text) {
  json_error_t err;
  JsonPtr j(json_loads(text, JSON_DECODE_ANY, &err));
  EXPECT_TRUE(j) << err.text;
  return j;
}

Result<Claims> Apply(const Claims& base, const char* text, bool provisioner = true) {
  JsonPtr j = Json(text);
  return ApplyClaims(base, j.get(), provisioner, "authority.provisioners[0].claims");
}

TEST(ApplyClaims, NullOrEmptyKeepsDefaults) {
  Claims defaults;
  auto a = ApplyClaims(defaults, nullptr, false, "authority.claims");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->min_tls, minutes(5));
  EXPECT_EQ(a->max_tls, hours(24));
  EXPECT_EQ(a->default_tls, hours(24));
  EXPECT_EQ(a->default_user_ssh, hours(16));
  EXPECT_EQ(a->max_host_ssh, hours(720));
  EXPECT_FALSE(a->enable_ssh_ca);
  auto b = Apply(defaults, "null");
  ASSERT_TRUE(b.ok());
  auto c = Apply(defaults, "{}");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->max_tls, hours(24));
}

TEST(ApplyClaims, ThreeLayersMostSpecificWins) {
  Claims defaults;
  auto global = Apply(defaults,
                      R"({"maxTLSCertDuration":"48h","defaultTLSCertDuration":"12h",
                          "enableSSHCA":true,"disableRenewal":true})",
                      false);
  ASSERT_TRUE(global.ok()) << global.status().message();
  EXPECT_EQ(global->max_tls, hours(48));
  EXPECT_EQ(global->default_tls, hours(12));
  EXPECT_EQ(global->min_tls, minutes(5));
  EXPECT_TRUE(global->enable_ssh_ca);
  EXPECT_TRUE(global->disable_renewal);

  auto prov = Apply(*global,
                    R"({"minTLSCertDuration":"1m","defaultTLSCertDuration":"1h",
                        "disableRenewal":false,"allowRenewalAfterExpiry":true,
                        "disableSmallstepExtensions":true,"unknownClaim":1})");
  ASSERT_TRUE(prov.ok()) << prov.status().message();
  EXPECT_EQ(prov->min_tls, minutes(1));
  EXPECT_EQ(prov->max_tls, hours(48));
  EXPECT_EQ(prov->default_tls, hours(1));
  EXPECT_TRUE(prov->enable_ssh_ca);
  EXPECT_FALSE(prov->disable_renewal);
  EXPECT_TRUE(prov->allow_renewal_after_expiry);
  EXPECT_TRUE(prov->disable_smallstep_extensions);
}

TEST(ApplyClaims, ProvisionerDefaultMovesBounds) {
  Claims global;
  auto above = Apply(global, R"({"defaultTLSCertDuration":"72h"})");
  ASSERT_TRUE(above.ok()) << above.status().message();
  EXPECT_EQ(above->max_tls, hours(72));
  EXPECT_EQ(above->default_tls, hours(72));

  auto below = Apply(global, R"({"defaultTLSCertDuration":"2m"})");
  ASSERT_TRUE(below.ok()) << below.status().message();
  EXPECT_EQ(below->min_tls, minutes(2));

  auto ssh = Apply(global, R"({"defaultUserSSHCertDuration":"48h",
                               "defaultHostSSHCertDuration":"1m"})");
  ASSERT_TRUE(ssh.ok());
  EXPECT_EQ(ssh->max_user_ssh, hours(48));
  EXPECT_EQ(ssh->min_host_ssh, minutes(1));

  // Not at the global layer, and not when the provisioner sets the bound.
  auto global_layer = Apply(global, R"({"defaultTLSCertDuration":"72h"})", false);
  ASSERT_FALSE(global_layer.ok());
  auto explicit_max =
      Apply(global, R"({"defaultTLSCertDuration":"72h","maxTLSCertDuration":"48h"})");
  ASSERT_FALSE(explicit_max.ok());
  EXPECT_EQ(explicit_max.status().message(),
            "field \"authority.provisioners[0].claims.defaultTLSCertDuration\": 72h0m0s is "
            "greater than maxTLSCertDuration 48h0m0s");
}

TEST(ApplyClaims, BadDurationNamesFieldAndValue) {
  auto r = Apply(Claims(), R"({"maxTLSCertDuration":"abc"})");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "field \"authority.provisioners[0].claims.maxTLSCertDuration\": invalid duration "
            "\"abc\"");
  EXPECT_FALSE(Apply(Claims(), R"({"minTLSCertDuration":true})").ok());
  EXPECT_FALSE(Apply(Claims(), R"({"enableSSHCA":"yes"})").ok());
  auto notobj = Apply(Claims(), R"([1])");
  ASSERT_FALSE(notobj.ok());
  EXPECT_EQ(notobj.status().message(),
            "field \"authority.provisioners[0].claims\": must be an object");
}

TEST(ApplyClaims, MinGreaterThanMax) {
  auto r = Apply(Claims(), R"({"minTLSCertDuration":"48h","maxTLSCertDuration":"24h"})");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "field \"authority.provisioners[0].claims.minTLSCertDuration\": 48h0m0s is greater "
            "than maxTLSCertDuration 24h0m0s");
}

TEST(ApplyClaims, ZeroOrNegative) {
  auto zero = Apply(Claims(), R"({"minTLSCertDuration":"0s"})", false);
  ASSERT_FALSE(zero.ok());
  EXPECT_EQ(zero.status().message(),
            "field \"authority.provisioners[0].claims.minTLSCertDuration\": duration \"0s\" "
            "must be greater than 0");
  auto neg = Apply(Claims(), R"({"maxTLSCertDuration":"-1h"})");
  ASSERT_FALSE(neg.ok());
  EXPECT_NE(neg.status().message().find("maxTLSCertDuration"), std::string::npos);
  EXPECT_NE(neg.status().message().find("-1h0m0s"), std::string::npos);
}

TEST(ApplyClaims, IntegerNanoseconds) {
  auto r = Apply(Claims(), R"({"minTLSCertDuration":60000000000})");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->min_tls, minutes(1));
}

}  // namespace
}  // namespace stepca
