#include "authority/tls/self_tls.h"

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "authority/ca/local_ca.h"
#include "authority/signer/file_signer.h"

namespace stepca {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

EvpPkeyPtr P256() { return EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")); }

// An issuing certificate valid for `life` from now, for key.
X509Ptr SelfSigned(EVP_PKEY* key, long life) {
  X509Ptr cert(X509_new());
  X509_set_version(cert.get(), X509_VERSION_3);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), life);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("Self TLS test CA"), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  X509_set_pubkey(cert.get(), key);
  X509_sign(cert.get(), key, EVP_sha256());
  return cert;
}

std::unique_ptr<CertificateAuthorityService> MakeCa(long life, X509Ptr* issuing) {
  EvpPkeyPtr key = P256();
  X509Ptr cert = SelfSigned(key.get(), life);
  *issuing = X509Ptr(X509_dup(cert.get()));
  std::vector<X509Ptr> chain;
  chain.push_back(std::move(cert));
  auto signer = MakeFileSigner(std::move(key));
  EXPECT_TRUE(signer.ok());
  auto ca = MakeLocalCa(std::move(chain), std::move(signer).value());
  EXPECT_TRUE(ca.ok()) << ca.status().message();
  return std::move(ca).value();
}

std::vector<std::string> Sans(X509* cert) {
  std::vector<std::string> out;
  GeneralNamesPtr names(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(names.get(), i);
    if (n->type == GEN_DNS) {
      out.push_back("dns:" + std::string(reinterpret_cast<const char*>(
                                 ASN1_STRING_get0_data(n->d.dNSName)),
                             ASN1_STRING_length(n->d.dNSName)));
    } else if (n->type == GEN_IPADD) {
      out.push_back("ip:" + std::to_string(ASN1_STRING_length(n->d.iPAddress)) + "bytes");
    }
  }
  return out;
}

class SelfTlsTest : public ::testing::Test {
 protected:
  void SetUp() override { ca_ = MakeCa(24 * 3600, &issuing_); }

  SelfTlsRequest Request() {
    SelfTlsRequest r;
    r.dns_names = {"ca.example.test", "127.0.0.1"};
    r.lifetime = hours(1);
    r.backdate = minutes(1);
    r.now = Clock::now();
    return r;
  }

  X509Ptr issuing_;
  std::unique_ptr<CertificateAuthorityService> ca_;
};

TEST_F(SelfTlsTest, IssuesAServerCertificateForTheNames) {
  auto got = IssueSelfTls(*ca_, Request());
  ASSERT_TRUE(got.ok()) << got.status().message();
  X509* leaf = got.value().leaf.get();
  EXPECT_EQ(Sans(leaf), (std::vector<std::string>{"dns:ca.example.test", "ip:4bytes"}));
  EXPECT_EQ(X509_check_host(leaf, "ca.example.test", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_ip_asc(leaf, "127.0.0.1", 0), 1);
  EXPECT_EQ(X509_check_purpose(leaf, X509_PURPOSE_SSL_SERVER, 0), 1);
  EXPECT_EQ(X509_check_private_key(leaf, got.value().key.get()), 1);
  // signed by the intermediate, which follows the leaf in the chain
  EVP_PKEY* issuer_key = X509_get0_pubkey(issuing_.get());
  EXPECT_EQ(X509_verify(leaf, issuer_key), 1);
  EXPECT_EQ(got.value().chain_pem, CertificateToPem(leaf) + CertificateToPem(issuing_.get()));
  EXPECT_NE(got.value().key_pem.find("BEGIN PRIVATE KEY"), std::string::npos);
  // no provisioner extension: nothing may renew or revoke it through the API
  ASN1_OBJECT* oid = OBJ_txt2obj("1.3.6.1.4.1.37476.9000.64.1", 1);
  EXPECT_LT(X509_get_ext_by_OBJ(leaf, oid, -1), 0);
  ASN1_OBJECT_free(oid);
}

TEST_F(SelfTlsTest, ValidityIsBackdatedAndRenewedAtTwoThirds) {
  SelfTlsRequest r = Request();
  auto got = IssueSelfTls(*ca_, r);
  ASSERT_TRUE(got.ok()) << got.status().message();
  const SelfTlsCertificate& c = got.value();
  const auto nb = std::chrono::time_point_cast<seconds>(r.now - minutes(1));
  EXPECT_EQ(c.not_before, nb);
  EXPECT_EQ(c.not_after, std::chrono::time_point_cast<seconds>(r.now + hours(1)));
  EXPECT_EQ(c.renew_at, c.not_before + (c.not_after - c.not_before) * 2 / 3);
  // the certificate says the same
  int days = 0, secs = 0;
  ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(c.leaf.get()), X509_get0_notAfter(c.leaf.get()));
  EXPECT_EQ(days * 86400 + secs, 3600 + 60);
}

TEST_F(SelfTlsTest, EachIssueHasItsOwnKeyAndSerial) {
  auto a = IssueSelfTls(*ca_, Request());
  auto b = IssueSelfTls(*ca_, Request());
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(SerialDecimal(a.value().leaf.get()), SerialDecimal(b.value().leaf.get()));
  EXPECT_NE(EVP_PKEY_eq(a.value().key.get(), b.value().key.get()), 1);
}

TEST(SelfTls, NeverOutlivesTheIntermediate) {
  X509Ptr issuing;
  auto ca = MakeCa(2 * 3600, &issuing);
  SelfTlsRequest r;
  r.dns_names = {"ca.example.test"};
  r.lifetime = hours(24);
  r.backdate = minutes(1);
  r.now = Clock::now();
  auto got = IssueSelfTls(*ca, r);
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(X509_cmp_time(X509_get0_notAfter(got.value().leaf.get()),
                          nullptr) > 0, true);
  EXPECT_EQ(ASN1_TIME_compare(X509_get0_notAfter(got.value().leaf.get()),
                              X509_get0_notAfter(issuing.get())), 0);
}

TEST_F(SelfTlsTest, RefusesNoNamesAndTooShortALifetime) {
  SelfTlsRequest r = Request();
  r.dns_names.clear();
  EXPECT_EQ(IssueSelfTls(*ca_, r).status().code(), Code::kInvalidArgument);
  r = Request();
  r.lifetime = seconds(59);
  EXPECT_EQ(IssueSelfTls(*ca_, r).status().code(), Code::kInvalidArgument);
}

TEST_F(SelfTlsTest, CheckNamesTheFileAndTheField) {
  Status s = CheckSelfTls("/etc/ca.json", {}, *ca_, false);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("/etc/ca.json: \"dnsNames\" is empty"), std::string::npos)
      << s.message();
  s = CheckSelfTls("/etc/ca.json", {"bad name!"}, *ca_, false);
  EXPECT_EQ(s.code(), Code::kInvalidArgument) << s.message();
  s = CheckSelfTls("/etc/ca.json", {"ca.example.test"}, *ca_, true);
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("PKCS#11"), std::string::npos);
  EXPECT_TRUE(CheckSelfTls("/etc/ca.json", {"ca.example.test", "127.0.0.1"}, *ca_, false).ok());
}

TEST(SelfTls, PlaceholderIsSelfSignedAndMatchesItsKey) {
  auto got = PlaceholderTlsCertificate(Clock::now());
  ASSERT_TRUE(got.ok()) << got.status().message();
  X509* c = got.value().leaf.get();
  EXPECT_EQ(X509_verify(c, got.value().key.get()), 1);
  EXPECT_EQ(X509_check_private_key(c, got.value().key.get()), 1);
  BioPtr bio(BIO_new_mem_buf(got.value().chain_pem.data(), got.value().chain_pem.size()));
  X509Ptr back(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  ASSERT_TRUE(back);
  EXPECT_EQ(X509_cmp(back.get(), c), 0);
}

TEST(SelfTls, RenewAtTwoThirds) {
  const TimePoint nb = TimePoint(seconds(1000));
  EXPECT_EQ(SelfTlsRenewAt(nb, nb + seconds(90)), nb + seconds(60));
}

}  // namespace
}  // namespace stepca
