#include "authority/testing/fixture_pki.h"
#include "authority/x509/issuer.h"
#include "authority/signer/file_signer.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <openssl/pem.h>

#include <fstream>
#include <sstream>

namespace stepca {
namespace {

using std::chrono::hours;
using std::chrono::minutes;

constexpr char kKid[] = "dGow9tg6f8QNmFNqqdT7UCUC4Ehxuz5RGW4EMf84lFg";

using testing::ReadFixture;

X509Ptr ReadCert(const std::string& rel) {
  std::string pem = ReadFixture(rel);
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return X509Ptr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

std::string Hex(std::string_view bytes) {
  static const char* d = "0123456789abcdef";
  std::string s;
  for (unsigned char c : bytes) {
    s += d[c >> 4];
    s += d[c & 15];
  }
  return s;
}

std::string Asn1Bytes(const ASN1_STRING* s) {
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                     static_cast<size_t>(ASN1_STRING_length(s)));
}

EvpPkeyPtr Key(const char* type, const char* curve = nullptr) {
  if (curve) return EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, type, curve));
  if (std::string(type) == "RSA") {
    return EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, type, size_t{2048}));
  }
  return EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, type));
}

class IssuerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pw = ReadFixture("pki/password.txt");
    while (!pw.empty() && pw.back() == '\n') pw.pop_back();
    auto key = LoadPrivateKeyPem(ReadFixture("pki/secrets/intermediate_ca_key"), pw);
    ASSERT_TRUE(key.ok()) << key.status().message();
    auto signer = MakeFileSigner(std::move(key).value());
    ASSERT_TRUE(signer.ok());
    X509Ptr cert = ReadCert("pki/certs/intermediate_ca.crt");
    ASSERT_TRUE(cert);
    issuer_ = std::make_unique<Issuer>(std::move(cert), std::move(signer).value());
    root_ = ReadCert("pki/certs/root_ca.crt");
    ASSERT_TRUE(root_);
  }

  LeafRequest Request(EVP_PKEY* key) {
    LeafRequest r;
    r.public_key = key;
    r.common_name = "leaf.example.test";
    r.sans = ClassifySans({"leaf.example.test", "127.0.0.1", "ops@example.test",
                           "spiffe://example.test/leaf", "2001:db8::1"});
    TimePoint now = Clock::now();
    r.validity.not_before = now - minutes(1);
    r.validity.not_after = now + hours(24);
    r.provisioner = {ProvisionerType::kJwk, "fixture@example.test", kKid};
    return r;
  }

  // X509_verify_cert with the fixture root as trust anchor.
  int Verify(X509* leaf) {
    X509StorePtr store(X509_STORE_new());
    X509_STORE_add_cert(store.get(), root_.get());
    STACK_OF(X509)* untrusted = sk_X509_new_null();
    sk_X509_push(untrusted, issuer_->certificate());
    X509StoreCtxPtr ctx(X509_STORE_CTX_new());
    X509_STORE_CTX_init(ctx.get(), store.get(), leaf, untrusted);
    X509_STORE_CTX_set_purpose(ctx.get(), X509_PURPOSE_SSL_SERVER);
    int rc = X509_verify_cert(ctx.get());
    if (rc != 1) {
      ADD_FAILURE() << X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get()));
    }
    sk_X509_free(untrusted);
    return rc;
  }

  std::unique_ptr<Issuer> issuer_;
  X509Ptr root_;
};

TEST(EncodeProvisionerExtension, MatchesFixtureBytes) {
  std::string der = EncodeProvisionerExtension(
      {ProvisionerType::kJwk, "fixture@example.test", kKid});
  EXPECT_EQ(Hex(der),
            "3046020101041466697874757265406578616d706c652e74657374042b64476f77397467366638"
            "514e6d464e71716454375543554334456878757a3552475734454d6638346c4667");
  // X5C: type 7, empty credential id.
  EXPECT_EQ(Hex(EncodeProvisionerExtension({ProvisionerType::kX5c, "x5c", ""})),
            "300a020107040378356304" "00");
  // Long names use a long-form length.
  std::string long_name(200, 'n');
  std::string big = EncodeProvisionerExtension({ProvisionerType::kAcme, long_name, ""});
  EXPECT_EQ(Hex(big.substr(0, 10)), "3081d002010604" "81c8" "6e");
}

TEST(EncodeProvisionerExtension, SameAsFixtureCertificateExtension) {
  X509Ptr cert = ReadCert("certs/sign-ok.crt");
  ASSERT_TRUE(cert);
  X509_EXTENSION* ext = X509_get_ext(cert.get(), 5);
  ASSERT_NE(ext, nullptr);
  EXPECT_EQ(Asn1Bytes(X509_EXTENSION_get_data(ext)),
            EncodeProvisionerExtension({ProvisionerType::kJwk, "fixture@example.test", kKid}));
}

TEST(SerialDecimal, FixtureSerial) {
  X509Ptr ok = ReadCert("certs/sign-ok.crt");
  EXPECT_EQ(SerialDecimal(ok.get()), "164704587795228910488264403392029268546");
  X509Ptr unprefixed = ReadCert("certs/sign-unprefixed.crt");
  EXPECT_EQ(SerialDecimal(unprefixed.get()), "183483591032972849659046592821056741055");
}

TEST(CertificateToPem, RoundTrips) {
  std::string pem = ReadFixture("certs/sign-ok.crt");
  X509Ptr cert = ReadCert("certs/sign-ok.crt");
  std::string out = CertificateToPem(cert.get());
  EXPECT_EQ(out.rfind("-----BEGIN CERTIFICATE-----\n", 0), 0u);
  EXPECT_EQ(pem.substr(0, out.size()), out);
}

TEST_F(IssuerTest, NotAfterOfIntermediate) {
  TimePoint na = issuer_->not_after();
  EXPECT_GT(na, Clock::now());
  EXPECT_EQ(FormatRfc3339(na).size(), 20u);
}

TEST_F(IssuerTest, IssuesStepProfileLeafThatVerifies) {
  EvpPkeyPtr key = Key("EC", "P-256");
  LeafRequest req = Request(key.get());
  auto issued = issuer_->IssueLeaf(req);
  ASSERT_TRUE(issued.ok()) << issued.status().message();
  X509* leaf = issued->cert.get();
  EXPECT_EQ(Verify(leaf), 1);

  EXPECT_EQ(X509_get_version(leaf), X509_VERSION_3);
  EXPECT_EQ(X509_get_signature_nid(leaf), NID_ecdsa_with_SHA256);
  EXPECT_EQ(X509_NAME_cmp(X509_get_issuer_name(leaf),
                          X509_get_subject_name(issuer_->certificate())),
            0);
  // Subject: exactly one RDN, CN, PrintableString like Go.
  const X509_NAME* subject = X509_get_subject_name(leaf);
  ASSERT_EQ(X509_NAME_entry_count(subject), 1);
  const X509_NAME_ENTRY* cn = X509_NAME_get_entry(subject, 0);
  EXPECT_EQ(OBJ_obj2nid(X509_NAME_ENTRY_get_object(cn)), NID_commonName);
  EXPECT_EQ(ASN1_STRING_type(X509_NAME_ENTRY_get_data(cn)), V_ASN1_PRINTABLESTRING);
  EXPECT_EQ(Asn1Bytes(X509_NAME_ENTRY_get_data(cn)), "leaf.example.test");

  // Serial: positive, at most 128 bits, decimal form matches.
  BignumPtr serial(ASN1_INTEGER_to_BN(X509_get0_serialNumber(leaf), nullptr));
  EXPECT_FALSE(BN_is_negative(serial.get()));
  EXPECT_FALSE(BN_is_zero(serial.get()));
  EXPECT_LE(BN_num_bits(serial.get()), 128);
  EXPECT_EQ(issued->serial, SerialDecimal(leaf));

  // Validity in whole seconds as requested.
  int day = 0, sec = 0;
  ASSERT_EQ(ASN1_TIME_diff(&day, &sec, X509_get0_notBefore(leaf), X509_get0_notAfter(leaf)), 1);
  EXPECT_EQ(day * 86400 + sec, 24 * 3600 + 60);

  // Extension order and contents.
  ASSERT_EQ(X509_get_ext_count(leaf), 6);
  const int want[] = {NID_key_usage, NID_ext_key_usage, NID_subject_key_identifier,
                      NID_authority_key_identifier, NID_subject_alt_name};
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(OBJ_obj2nid(X509_EXTENSION_get_object(X509_get_ext(leaf, i))), want[i]) << i;
  }
  char oid[64];
  OBJ_obj2txt(oid, sizeof oid, X509_EXTENSION_get_object(X509_get_ext(leaf, 5)), 1);
  EXPECT_STREQ(oid, "1.3.6.1.4.1.37476.9000.64.1");
  EXPECT_EQ(X509_EXTENSION_get_critical(X509_get_ext(leaf, 0)), 1);
  for (int i = 1; i < 6; ++i) EXPECT_EQ(X509_EXTENSION_get_critical(X509_get_ext(leaf, i)), 0);

  // KU and EKU bytes as in the fixture leaf.
  EXPECT_EQ(Hex(Asn1Bytes(X509_EXTENSION_get_data(X509_get_ext(leaf, 0)))), "03020780");
  EXPECT_EQ(Hex(Asn1Bytes(X509_EXTENSION_get_data(X509_get_ext(leaf, 1)))),
            "301406082b0601050507030106082b06010505070302");
  EXPECT_EQ(X509_get_key_usage(leaf), static_cast<uint32_t>(KU_DIGITAL_SIGNATURE));

  // SKI = SHA-1 of the key bits; AKI = the intermediate's SKI.
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int mdlen = 0;
  ASSERT_EQ(X509_pubkey_digest(leaf, EVP_sha1(), md, &mdlen), 1);
  EXPECT_EQ(Asn1Bytes(X509_get0_subject_key_id(leaf)),
            std::string(reinterpret_cast<char*>(md), mdlen));
  EXPECT_EQ(Hex(Asn1Bytes(X509_get0_authority_key_id(leaf))),
            "6b0d1ea9eaa0539a25091e153199104b3fedc461");

  // SAN order: DNS, email, IP (v4, v6), URI.
  GeneralNamesPtr names(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(leaf, NID_subject_alt_name, nullptr, nullptr)));
  ASSERT_TRUE(names);
  ASSERT_EQ(sk_GENERAL_NAME_num(names.get()), 5);
  const int kinds[] = {GEN_DNS, GEN_EMAIL, GEN_IPADD, GEN_IPADD, GEN_URI};
  for (int i = 0; i < 5; ++i) EXPECT_EQ(sk_GENERAL_NAME_value(names.get(), i)->type, kinds[i]);
  EXPECT_EQ(Asn1Bytes(sk_GENERAL_NAME_value(names.get(), 0)->d.dNSName), "leaf.example.test");
  EXPECT_EQ(Hex(Asn1Bytes(sk_GENERAL_NAME_value(names.get(), 2)->d.iPAddress)), "7f000001");
  EXPECT_EQ(Asn1Bytes(sk_GENERAL_NAME_value(names.get(), 3)->d.iPAddress).size(), 16u);
  EXPECT_EQ(Asn1Bytes(sk_GENERAL_NAME_value(names.get(), 4)->d.uniformResourceIdentifier),
            "spiffe://example.test/leaf");

  // Provisioner extension value.
  EXPECT_EQ(Asn1Bytes(X509_EXTENSION_get_data(X509_get_ext(leaf, 5))),
            EncodeProvisionerExtension(req.provisioner));

  // DER and PEM describe the same certificate.
  EXPECT_EQ(issued->pem, CertificateToPem(leaf));
  const unsigned char* p = reinterpret_cast<const unsigned char*>(issued->der.data());
  X509Ptr back(d2i_X509(nullptr, &p, static_cast<long>(issued->der.size())));
  ASSERT_TRUE(back);
  EXPECT_EQ(X509_cmp(back.get(), leaf), 0);
}

TEST_F(IssuerTest, SerialsAreRandom) {
  EvpPkeyPtr key = Key("EC", "P-256");
  auto a = issuer_->IssueLeaf(Request(key.get()));
  auto b = issuer_->IssueLeaf(Request(key.get()));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(a->serial, b->serial);
}

// Record before sign: the caller reserves a serial, the issuer uses it.
TEST_F(IssuerTest, CallerChosenSerialIsUsed) {
  EvpPkeyPtr key = Key("EC", "P-256");
  auto serial = NewSerial();
  ASSERT_TRUE(serial.ok());
  EXPECT_NE(serial.value(), NewSerial().value());
  LeafRequest req = Request(key.get());
  req.serial = serial.value();
  auto issued = issuer_->IssueLeaf(req);
  ASSERT_TRUE(issued.ok()) << issued.status().message();
  EXPECT_EQ(issued->serial, serial.value());
  EXPECT_EQ(SerialDecimal(issued->cert.get()), serial.value());
  ReissueRequest rr;
  rr.old = issued->cert.get();
  rr.validity = req.validity;
  rr.serial = "340282366920938463463374607431768211455";  // 2^128 - 1
  auto renewed = issuer_->Reissue(rr);
  ASSERT_TRUE(renewed.ok()) << renewed.status().message();
  EXPECT_EQ(renewed->serial, rr.serial);
  for (const char* bad : {"0", "-5", "12a", " 7", "0x10"}) {
    req.serial = bad;
    EXPECT_EQ(issuer_->IssueLeaf(req).status().code(), Code::kInvalidArgument) << bad;
  }
}

TEST_F(IssuerTest, RsaLeafGetsKeyEncipherment) {
  EvpPkeyPtr key = Key("RSA");
  auto issued = issuer_->IssueLeaf(Request(key.get()));
  ASSERT_TRUE(issued.ok()) << issued.status().message();
  EXPECT_EQ(Verify(issued->cert.get()), 1);
  EXPECT_EQ(X509_get_key_usage(issued->cert.get()),
            static_cast<uint32_t>(KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT));
  EXPECT_EQ(Hex(Asn1Bytes(X509_EXTENSION_get_data(X509_get_ext(issued->cert.get(), 0)))),
            "030205a0");
}

TEST_F(IssuerTest, Ed25519Leaf) {
  EvpPkeyPtr key = Key("ED25519");
  auto issued = issuer_->IssueLeaf(Request(key.get()));
  ASSERT_TRUE(issued.ok()) << issued.status().message();
  EXPECT_EQ(Verify(issued->cert.get()), 1);
  EXPECT_EQ(X509_get_key_usage(issued->cert.get()), static_cast<uint32_t>(KU_DIGITAL_SIGNATURE));
  EXPECT_EQ(EVP_PKEY_get_base_id(X509_get0_pubkey(issued->cert.get())), EVP_PKEY_ED25519);
}

TEST_F(IssuerTest, NoCommonNameMakesSanCritical) {
  EvpPkeyPtr key = Key("EC", "P-256");
  LeafRequest req = Request(key.get());
  req.common_name.clear();
  req.add_provisioner_extension = false;
  auto issued = issuer_->IssueLeaf(req);
  ASSERT_TRUE(issued.ok()) << issued.status().message();
  X509* leaf = issued->cert.get();
  EXPECT_EQ(X509_NAME_entry_count(X509_get_subject_name(leaf)), 0);
  ASSERT_EQ(X509_get_ext_count(leaf), 5);
  EXPECT_EQ(X509_EXTENSION_get_critical(X509_get_ext(leaf, 4)), 1);
}

TEST_F(IssuerTest, NoSansOmitsExtension) {
  EvpPkeyPtr key = Key("EC", "P-384");
  LeafRequest req = Request(key.get());
  req.sans = SanSet();
  auto issued = issuer_->IssueLeaf(req);
  ASSERT_TRUE(issued.ok());
  EXPECT_EQ(X509_get_ext_by_NID(issued->cert.get(), NID_subject_alt_name, -1), -1);
  EXPECT_EQ(X509_get_ext_count(issued->cert.get()), 5);
}

TEST_F(IssuerTest, RejectsBadInput) {
  EvpPkeyPtr key = Key("EC", "P-256");
  LeafRequest none = Request(key.get());
  none.public_key = nullptr;
  EXPECT_FALSE(issuer_->IssueLeaf(none).ok());

  EvpPkeyPtr weak(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{1024}));
  EXPECT_EQ(issuer_->IssueLeaf(Request(weak.get())).status().code(), Code::kPermissionDenied);

  LeafRequest bad_dns = Request(key.get());
  bad_dns.sans.dns.push_back("bad name");
  EXPECT_EQ(issuer_->IssueLeaf(bad_dns).status().code(), Code::kInvalidArgument);

  LeafRequest bad_ip = Request(key.get());
  bad_ip.sans.ips.push_back("300.1.1.1");
  EXPECT_EQ(issuer_->IssueLeaf(bad_ip).status().code(), Code::kInvalidArgument);

  LeafRequest many = Request(key.get());
  for (size_t i = 0; i < kMaxSans; ++i) many.sans.dns.push_back("h" + std::to_string(i) + ".test");
  EXPECT_EQ(issuer_->IssueLeaf(many).status().code(), Code::kInvalidArgument);

  LeafRequest nul_cn = Request(key.get());
  nul_cn.common_name = std::string("a\0b", 3);
  EXPECT_EQ(issuer_->IssueLeaf(nul_cn).status().code(), Code::kInvalidArgument);

  LeafRequest empty_window = Request(key.get());
  empty_window.validity.not_after = empty_window.validity.not_before;
  EXPECT_FALSE(issuer_->IssueLeaf(empty_window).ok());
}

TEST_F(IssuerTest, Utf8CommonName) {
  EvpPkeyPtr key = Key("EC", "P-256");
  LeafRequest req = Request(key.get());
  req.common_name = "J\xc3\xa9r\xc3\xb4me_svc";
  auto issued = issuer_->IssueLeaf(req);
  ASSERT_TRUE(issued.ok()) << issued.status().message();
  const X509_NAME_ENTRY* cn = X509_NAME_get_entry(X509_get_subject_name(issued->cert.get()), 0);
  EXPECT_EQ(ASN1_STRING_type(X509_NAME_ENTRY_get_data(cn)), V_ASN1_UTF8STRING);
}

}  // namespace
}  // namespace stepca
