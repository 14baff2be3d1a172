#include "authority/acme/options.h"

#include <gtest/gtest.h>

#include "authority/authority.h"
#include "authority/testing/fixture_pki.h"

namespace stepca {
namespace acme {
namespace {

void ExpectRefused(const AcmeOptions& o, const std::string& setting) {
  Status st = ValidateAcmeOptions(o);
  EXPECT_EQ(st.code(), Code::kInvalidArgument) << setting;
  EXPECT_NE(st.message().find(setting), std::string::npos) << st.message();
}

TEST(AcmeOptionsTest, DefaultsAreValid) { EXPECT_TRUE(ValidateAcmeOptions(AcmeOptions()).ok()); }

TEST(AcmeOptionsTest, AcceptsGoodValues) {
  AcmeOptions o;
  o.base_url = "https://ca.example.com:8443/";
  o.http01_port = 1;
  o.tls_alpn01_port = 65535;
  o.validation_threads = kMaxValidationThreads;
  o.validation_queue = 1;
  for (const char* r : {"127.0.0.1", "127.0.0.1:5353", "::1", "[::1]", "[::1]:53"}) {
    o.dns_resolver = r;
    EXPECT_TRUE(ValidateAcmeOptions(o).ok()) << r;
  }
  o.base_url = "http://10.0.0.1";
  EXPECT_TRUE(ValidateAcmeOptions(o).ok());
}

TEST(AcmeOptionsTest, RefusesBadPorts) {
  for (int port : {0, -1, 65536, 100000}) {
    AcmeOptions o;
    o.http01_port = port;
    ExpectRefused(o, "stepca_acme_http01_port");
    o = AcmeOptions();
    o.tls_alpn01_port = port;
    ExpectRefused(o, "stepca_acme_tls_alpn01_port");
  }
}

TEST(AcmeOptionsTest, RefusesBadBaseUrls) {
  for (const char* u : {"ca.example.com", "ftp://ca", "https://", "https:///x", "https://a b",
                        "https://ca/?q", "https://ca/#f", "https://user@ca"}) {
    AcmeOptions o;
    o.base_url = u;
    ExpectRefused(o, "stepca_acme_base_url");
  }
}

TEST(AcmeOptionsTest, RefusesBadResolvers) {
  for (const char* r : {"dns.example", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536",
                        "127.0.0.1:53x", "[::1", "[::1]53", "[127.0.0.1]:53", "1.2.3:53"}) {
    AcmeOptions o;
    o.dns_resolver = r;
    ExpectRefused(o, "stepca_acme_dns_resolver");
  }
}

TEST(AcmeOptionsTest, RefusesBadPoolSizes) {
  AcmeOptions o;
  o.validation_threads = 0;
  ExpectRefused(o, "stepca_acme_validation_threads");
  o.validation_threads = kMaxValidationThreads + 1;
  ExpectRefused(o, "stepca_acme_validation_threads");
  o = AcmeOptions();
  o.validation_queue = 0;
  ExpectRefused(o, "stepca_acme_validation_queue");
  o.validation_queue = kMaxValidationQueue + 1;
  ExpectRefused(o, "stepca_acme_validation_queue");
}

// Any caller of the library, not only the nginx module, gets the refusal.
TEST(AcmeOptionsTest, AuthorityLoadRefusesBadValues) {
  testing::FixturePki pki;
  AuthorityOptions o{pki.ca_json(), pki.password_file(), pki.store_uri(), "test"};
  o.acme.http01_port = 0;
  auto a = Authority::Load(o);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().code(), Code::kInvalidArgument);
  EXPECT_NE(a.status().message().find("stepca_acme_http01_port"), std::string::npos);
  o.acme = AcmeOptions();
  o.acme.validation_threads = 2;
  o.acme.dns_resolver = "127.0.0.1:5353";
  EXPECT_TRUE(Authority::Load(o).ok());
}

}  // namespace
}  // namespace acme
}  // namespace stepca
