// The C ABI of the CA's own TLS certificate, over the fixture PKI as the
// module loads it.
#include "shared/stepca_tls_abi.h"

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <ctime>
#include <string>

#include "authority/ossl.h"
#include "authority/testing/fixture_pki.h"

namespace stepca {
namespace {

using testing::FixturePki;

struct Loaded {
  stepca_authority_t* a = nullptr;
  ~Loaded() {
    if (a) stepca_authority_free(a);
  }
};

void Load(const FixturePki& pki, Loaded* out) {
  stepca_options_t o{};
  const std::string store = pki.store_uri(), password = pki.password_file();
  o.ca_json_path = pki.ca_json().c_str();
  o.password_file = password.c_str();
  o.store_uri = store.c_str();
  char err[STEPCA_ERRLEN] = "";
  out->a = stepca_authority_load(&o, err, sizeof(err));
  ASSERT_NE(out->a, nullptr) << err;
}

std::string Metrics(stepca_authority_t* a) {
  stepca_response_t r{};
  stepca_metrics(a, &r);
  std::string body(r.body ? r.body : "", r.body_len);
  stepca_response_free(&r);
  return body;
}

TEST(TlsAbi, IssuesForTheFixtureDnsNamesFromTheIntermediate) {
  FixturePki pki;
  Loaded l;
  Load(pki, &l);
  char err[STEPCA_ERRLEN] = "";
  ASSERT_EQ(stepca_tls_check(l.a, err, sizeof(err)), 0) << err;

  stepca_tls_cert_t c{};
  const long long now = time(nullptr);
  ASSERT_EQ(stepca_tls_issue(l.a, 600, &c, err, sizeof(err)), 0) << err;
  EXPECT_NEAR(c.not_after, now + 600, 2);
  EXPECT_NEAR(c.not_before, now - 60, 2);  // authority.backdate
  EXPECT_EQ(c.renew_at, c.not_before + (c.not_after - c.not_before) * 2 / 3);
  EXPECT_NE(std::string(c.serial), "");

  BioPtr bio(BIO_new_mem_buf(c.chain_pem, -1));
  X509Ptr leaf(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  X509Ptr inter(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  ASSERT_TRUE(leaf && inter);
  X509Ptr fixture_inter(
      PEM_read_bio_X509(BioPtr(BIO_new_mem_buf(
                                   testing::ReadFile(pki.dir() + "/certs/intermediate_ca.crt")
                                       .c_str(),
                                   -1))
                            .get(),
                        nullptr, nullptr, nullptr));
  ASSERT_TRUE(fixture_inter);
  EXPECT_EQ(X509_cmp(inter.get(), fixture_inter.get()), 0);
  EXPECT_EQ(X509_verify(leaf.get(), X509_get0_pubkey(inter.get())), 1);
  EXPECT_EQ(X509_check_host(leaf.get(), "localhost", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_ip_asc(leaf.get(), "127.0.0.1", 0), 1);

  BioPtr kbio(BIO_new_mem_buf(c.key_pem, -1));
  EvpPkeyPtr key(PEM_read_bio_PrivateKey(kbio.get(), nullptr, nullptr, nullptr));
  ASSERT_TRUE(key);
  EXPECT_EQ(X509_check_private_key(leaf.get(), key.get()), 1);
  stepca_tls_cert_free(&c);
  EXPECT_EQ(c.key_pem, nullptr);
}

TEST(TlsAbi, RefusesTooShortALifetime) {
  FixturePki pki;
  Loaded l;
  Load(pki, &l);
  stepca_tls_cert_t c{};
  char err[STEPCA_ERRLEN] = "";
  EXPECT_NE(stepca_tls_issue(l.a, 59, &c, err, sizeof(err)), 0);
  EXPECT_NE(std::string(err).find("60s"), std::string::npos) << err;
  EXPECT_EQ(c.chain_pem, nullptr);
}

TEST(TlsAbi, EmptyDnsNamesAreRefusedNamingTheFile) {
  FixturePki pki;
  pki.EditCaJson([](json_t* root) { json_object_set_new(root, "dnsNames", json_array()); });
  Loaded l;
  Load(pki, &l);
  char err[STEPCA_ERRLEN] = "";
  EXPECT_NE(stepca_tls_check(l.a, err, sizeof(err)), 0);
  EXPECT_EQ(std::string(err), pki.ca_json() +
                                  ": \"dnsNames\" is empty: the CA's own TLS certificate "
                                  "(stepca_tls_certificate) needs at least one name to be "
                                  "issued for");
}

TEST(TlsAbi, TheGaugeShowsTheSoonestToExpire) {
  FixturePki pki;
  Loaded l;
  Load(pki, &l);
  EXPECT_EQ(Metrics(l.a).find("stepca_tls_certificate_expiry_days"), std::string::npos);
  const long long now = time(nullptr);
  stepca_tls_installed(l.a, 1, now + 2 * 86400);
  stepca_tls_installed(l.a, 0, now + 86400);
  std::string m = Metrics(l.a);
  size_t at = m.find("\nstepca_tls_certificate_expiry_days ");
  ASSERT_NE(at, std::string::npos) << m;
  double days = std::stod(m.substr(at + sizeof("\nstepca_tls_certificate_expiry_days ") - 1));
  EXPECT_NEAR(days, 1.0, 0.001);
  EXPECT_NE(m.find("# TYPE stepca_tls_certificate_expiry_days gauge"), std::string::npos);
  // a renewal moves the slot on
  stepca_tls_installed(l.a, 0, now + 3 * 86400);
  m = Metrics(l.a);
  at = m.find("\nstepca_tls_certificate_expiry_days ");
  days = std::stod(m.substr(at + sizeof("\nstepca_tls_certificate_expiry_days ") - 1));
  EXPECT_NEAR(days, 2.0, 0.001);
}

}  // namespace
}  // namespace stepca
