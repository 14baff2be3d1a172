#include "authority/testing/fixture_pki.h"
#include "authority/x509/csr.h"

#include <gtest/gtest.h>
#include <arpa/inet.h>
#include <openssl/pem.h>

#include <fstream>
#include <sstream>

namespace stepca {
namespace {

using testing::ReadFixture;

EvpPkeyPtr Key(const char* type, const char* curve = nullptr, size_t bits = 2048) {
  if (curve) return EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, type, curve));
  if (std::string(type) == "RSA") {
    return EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, type, bits));
  }
  return EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, type));
}

struct San {
  int type;  // GEN_DNS, GEN_EMAIL, GEN_IPADD, GEN_URI
  std::string value;  // raw bytes (IP: 4 or 16 bytes)
};

std::string MakeCsrDer(EVP_PKEY* key, const std::string& cn, const std::vector<San>& sans) {
  X509ReqPtr req(X509_REQ_new());
  X509_REQ_set_version(req.get(), X509_REQ_VERSION_1);
  if (!cn.empty()) {
    X509_NAME* name = X509_REQ_get_subject_name(req.get());
    X509_NAME_add_entry_by_NID(name, NID_commonName, V_ASN1_UTF8STRING,
                               reinterpret_cast<const unsigned char*>(cn.data()),
                               static_cast<int>(cn.size()), -1, 0);
  }
  X509_REQ_set_pubkey(req.get(), key);
  if (!sans.empty()) {
    GeneralNamesPtr names(sk_GENERAL_NAME_new_null());
    for (const auto& s : sans) {
      GENERAL_NAME* gn = GENERAL_NAME_new();
      ASN1_STRING* str = s.type == GEN_IPADD ? ASN1_OCTET_STRING_new() : ASN1_IA5STRING_new();
      ASN1_STRING_set(str, s.value.data(), static_cast<int>(s.value.size()));
      GENERAL_NAME_set0_value(gn, s.type, str);
      sk_GENERAL_NAME_push(names.get(), gn);
    }
    STACK_OF(X509_EXTENSION)* exts = sk_X509_EXTENSION_new_null();
    X509_EXTENSION* ext = X509V3_EXT_i2d(NID_subject_alt_name, 0, names.get());
    sk_X509_EXTENSION_push(exts, ext);
    X509_REQ_add_extensions(req.get(), exts);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  }
  const EVP_MD* md = EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519 ||
                             EVP_PKEY_get_base_id(key) == EVP_PKEY_ED448
                         ? nullptr
                         : EVP_sha256();
  EXPECT_GT(X509_REQ_sign(req.get(), key, md), 0);
  unsigned char* der = nullptr;
  int len = i2d_X509_REQ(req.get(), &der);
  std::string out(reinterpret_cast<char*>(der), len);
  OPENSSL_free(der);
  return out;
}

std::string Ip(const char* text) {
  unsigned char buf[16];
  if (inet_pton(AF_INET, text, buf) == 1) return std::string(reinterpret_cast<char*>(buf), 4);
  inet_pton(AF_INET6, text, buf);
  return std::string(reinterpret_cast<char*>(buf), 16);
}

TEST(ParseCsr, FixtureSignOkParses) {
  auto csr = ParseCsrPem(ReadFixture("wire/sign-ok.csr"));
  ASSERT_TRUE(csr.ok()) << csr.status().message();
  EXPECT_EQ(csr->common_name, "sign-ok.example.test");
  EXPECT_EQ(csr->sans.dns, std::vector<std::string>{"sign-ok.example.test"});
  EXPECT_TRUE(csr->sans.ips.empty());
  EXPECT_TRUE(CheckPublicKey(X509_REQ_get0_pubkey(csr->req.get())).ok());
  EXPECT_TRUE(CheckCsrAgainstToken(*csr, "sign-ok.example.test", {"sign-ok.example.test"}).ok());
}

TEST(ParseCsr, FixtureBadSignatureRejected) {
  auto csr = ParseCsrPem(ReadFixture("wire/sign-bad-csr.csr"));
  ASSERT_FALSE(csr.ok());
  EXPECT_EQ(csr.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(csr.status().message(), "invalid csr: x509: ECDSA verification failure");
}

TEST(ParseCsr, PemFraming) {
  std::string pem = ReadFixture("wire/sign-ok.csr");
  EXPECT_TRUE(ParseCsrPem("\n  " + pem + "\n\n").ok());
  std::string legacy = pem;
  legacy.replace(legacy.find("BEGIN "), 6, "BEGIN NEW ");
  legacy.replace(legacy.find("END "), 4, "END NEW ");
  EXPECT_TRUE(ParseCsrPem(legacy).ok());

  EXPECT_FALSE(ParseCsrPem("").ok());
  EXPECT_FALSE(ParseCsrPem("garbage").ok());
  EXPECT_FALSE(ParseCsrPem("junk\n" + pem).ok());
  EXPECT_FALSE(ParseCsrPem(pem + pem).ok());
  std::string cert = pem;
  cert.replace(cert.find("CERTIFICATE REQUEST"), 19, "CERTIFICATE");
  EXPECT_FALSE(ParseCsrPem(cert).ok());
  std::string broken = pem;
  broken[60] = '!';
  EXPECT_FALSE(ParseCsrPem(broken).ok());
}

TEST(ParseCsr, DerStrictness) {
  EvpPkeyPtr key = Key("EC", "P-256");
  std::string der = MakeCsrDer(key.get(), "a.example.test", {});
  EXPECT_TRUE(ParseCsrDer(der).ok());
  EXPECT_FALSE(ParseCsrDer("").ok());
  EXPECT_FALSE(ParseCsrDer(der + std::string(1, '\0')).ok());
  EXPECT_FALSE(ParseCsrDer(der.substr(0, der.size() - 1)).ok());
}

TEST(ParseCsr, AllSanKinds) {
  EvpPkeyPtr key = Key("EC", "P-384");
  std::string der = MakeCsrDer(key.get(), "svc.example.test",
                               {{GEN_DNS, "svc.example.test"},
                                {GEN_DNS, "*.svc.example.test"},
                                {GEN_EMAIL, "ops@example.test"},
                                {GEN_IPADD, Ip("127.0.0.1")},
                                {GEN_IPADD, Ip("2001:db8::1")},
                                {GEN_IPADD, Ip("::ffff:10.0.0.1")},
                                {GEN_URI, "spiffe://example.test/svc"}});
  auto csr = ParseCsrDer(der);
  ASSERT_TRUE(csr.ok()) << csr.status().message();
  EXPECT_EQ(csr->sans.dns, (std::vector<std::string>{"svc.example.test", "*.svc.example.test"}));
  EXPECT_EQ(csr->sans.emails, std::vector<std::string>{"ops@example.test"});
  EXPECT_EQ(csr->sans.ips, (std::vector<std::string>{"127.0.0.1", "2001:db8::1", "10.0.0.1"}));
  EXPECT_EQ(csr->sans.uris, std::vector<std::string>{"spiffe://example.test/svc"});
}

TEST(ParseCsr, RejectsBadNames) {
  EvpPkeyPtr key = Key("EC", "P-256");
  std::vector<std::vector<San>> bad = {
      {{GEN_DNS, std::string("a\0b.example.test", 16)}},
      {{GEN_DNS, "a\x01.example.test"}},
      {{GEN_DNS, "bad name.example.test"}},
      {{GEN_DNS, ""}},
      {{GEN_DNS, "-lead.example.test"}},
      {{GEN_DNS, "a..example.test"}},
      {{GEN_DNS, "*"}},
      {{GEN_DNS, "a.*.example.test"}},
      {{GEN_DNS, std::string(64, 'a') + ".example.test"}},
      {{GEN_DNS, std::string(250, 'a')}},
      {{GEN_EMAIL, "no-at-sign"}},
      {{GEN_EMAIL, "x@bad domain"}},
      {{GEN_EMAIL, std::string("x@a\0b", 5)}},
      {{GEN_IPADD, "\x01\x02\x03"}},
      {{GEN_URI, "no-scheme"}},
      {{GEN_URI, "https://x.test/\x7f"}},
  };
  for (const auto& sans : bad) {
    auto csr = ParseCsrDer(MakeCsrDer(key.get(), "", sans));
    EXPECT_FALSE(csr.ok()) << sans[0].value;
    if (!csr.ok()) {
      EXPECT_EQ(csr.status().code(), Code::kInvalidArgument);
    }
  }
}

TEST(ParseCsr, BoundsSanCountAndCommonName) {
  EvpPkeyPtr key = Key("EC", "P-256");
  std::vector<San> many;
  for (size_t i = 0; i <= kMaxSans; ++i) {
    many.push_back({GEN_DNS, "h" + std::to_string(i) + ".example.test"});
  }
  EXPECT_FALSE(ParseCsrDer(MakeCsrDer(key.get(), "", many)).ok());
  many.pop_back();
  EXPECT_TRUE(ParseCsrDer(MakeCsrDer(key.get(), "", many)).ok());

  EXPECT_FALSE(ParseCsrDer(MakeCsrDer(key.get(), std::string(kMaxNameLength + 1, 'a'), {})).ok());
  EXPECT_FALSE(ParseCsrDer(MakeCsrDer(key.get(), "bad\ncn", {})).ok());
  EXPECT_FALSE(ParseCsrDer(MakeCsrDer(key.get(), std::string("nul\0cn", 6), {})).ok());
  auto human = ParseCsrDer(MakeCsrDer(key.get(), "Jane Doe", {}));
  ASSERT_TRUE(human.ok());
  EXPECT_EQ(human->common_name, "Jane Doe");
}

TEST(CheckPublicKey, AcceptsSupportedKeys) {
  for (const char* curve : {"P-256", "P-384", "P-521"}) {
    EXPECT_TRUE(CheckPublicKey(Key("EC", curve).get()).ok()) << curve;
  }
  EXPECT_TRUE(CheckPublicKey(Key("ED25519").get()).ok());
  EXPECT_TRUE(CheckPublicKey(Key("RSA", nullptr, 2048).get()).ok());
  EXPECT_TRUE(CheckPublicKey(Key("RSA", nullptr, 3072).get()).ok());
}

TEST(CheckPublicKey, WeakRsaIsForbidden) {
  Status st = CheckPublicKey(Key("RSA", nullptr, 1024).get());
  EXPECT_EQ(st.code(), Code::kPermissionDenied);
  EXPECT_EQ(st.message(), "certificate request RSA key must be at least 2048 bits (256 bytes)");
}

TEST(CheckPublicKey, OtherKeyTypesAreBadRequests) {
  EXPECT_EQ(CheckPublicKey(Key("EC", "P-224").get()).code(), Code::kInvalidArgument);
  EXPECT_EQ(CheckPublicKey(Key("EC", "secp256k1").get()).code(), Code::kInvalidArgument);
  EXPECT_EQ(CheckPublicKey(Key("ED448").get()).code(), Code::kInvalidArgument);
  EXPECT_EQ(CheckPublicKey(nullptr).code(), Code::kInvalidArgument);

  EvpPkeyCtxPtr pctx(EVP_PKEY_CTX_new_from_name(nullptr, "DSA", nullptr));
  ASSERT_TRUE(pctx);
  ASSERT_EQ(EVP_PKEY_paramgen_init(pctx.get()), 1);
  EVP_PKEY_CTX_set_dsa_paramgen_bits(pctx.get(), 1024);
  EVP_PKEY* params = nullptr;
  ASSERT_EQ(EVP_PKEY_paramgen(pctx.get(), &params), 1);
  EvpPkeyPtr p(params);
  EvpPkeyCtxPtr kctx(EVP_PKEY_CTX_new_from_pkey(nullptr, p.get(), nullptr));
  ASSERT_EQ(EVP_PKEY_keygen_init(kctx.get()), 1);
  EVP_PKEY* dsa = nullptr;
  ASSERT_EQ(EVP_PKEY_keygen(kctx.get(), &dsa), 1);
  EvpPkeyPtr d(dsa);
  EXPECT_EQ(CheckPublicKey(d.get()).code(), Code::kInvalidArgument);
}

TEST(CsrSignature, Ed25519AndRsaCsrs) {
  EvpPkeyPtr ed = Key("ED25519");
  auto a = ParseCsrDer(MakeCsrDer(ed.get(), "ed.example.test", {}));
  ASSERT_TRUE(a.ok()) << a.status().message();
  EvpPkeyPtr rsa = Key("RSA");
  std::string der = MakeCsrDer(rsa.get(), "rsa.example.test", {});
  ASSERT_TRUE(ParseCsrDer(der).ok());
  der[der.size() - 1] ^= 1;
  auto bad = ParseCsrDer(der);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Code::kInvalidArgument);
}

TEST(ClassifySans, FollowsStepRules) {
  SanSet s = ClassifySans({"example.test", "127.0.0.1", "2001:DB8::1", "::ffff:1.2.3.4",
                           "user@example.test", "https://example.test/x", "spiffe://td/w",
                           "01.2.3.4", "mailto:a@b.test", "1.2.3.4.5"});
  EXPECT_EQ(s.dns, (std::vector<std::string>{"example.test", "01.2.3.4", "1.2.3.4.5"}));
  EXPECT_EQ(s.ips, (std::vector<std::string>{"127.0.0.1", "2001:db8::1", "1.2.3.4"}));
  EXPECT_EQ(s.emails, std::vector<std::string>{"user@example.test"});
  EXPECT_EQ(s.uris, (std::vector<std::string>{"https://example.test/x", "spiffe://td/w",
                                              "mailto:a@b.test"}));
  EXPECT_TRUE(ClassifySans({}).empty());
}

TEST(CheckCsrAgainstToken, CommonNameMismatchUsesStepWording) {
  EvpPkeyPtr key = Key("EC", "P-256");
  auto csr = ParseCsrDer(
      MakeCsrDer(key.get(), "other.example.test", {{GEN_DNS, "other.example.test"}}));
  ASSERT_TRUE(csr.ok());
  Status st = CheckCsrAgainstToken(*csr, "token-name.example.test", {"token-name.example.test"});
  EXPECT_EQ(st.code(), Code::kPermissionDenied);
  EXPECT_EQ(st.message(),
            "certificate request does not contain the valid common name - got "
            "other.example.test, want token-name.example.test");
}

TEST(CheckCsrAgainstToken, CommonNameMayBeAnySanOrEmpty) {
  EvpPkeyPtr key = Key("EC", "P-256");
  auto csr = ParseCsrDer(MakeCsrDer(key.get(), "b.example.test", {}));
  ASSERT_TRUE(csr.ok());
  EXPECT_TRUE(CheckCsrAgainstToken(*csr, "a.example.test", {"a.example.test", "b.example.test"}).ok());
  auto empty = ParseCsrDer(MakeCsrDer(key.get(), "", {}));
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(CheckCsrAgainstToken(*empty, "a.example.test", {"a.example.test"}).ok());
}

TEST(CheckCsrAgainstToken, SanSetsMustMatchPerKind) {
  EvpPkeyPtr key = Key("EC", "P-256");
  auto csr = ParseCsrDer(MakeCsrDer(key.get(), "", {{GEN_DNS, "a.example.test"}}));
  ASSERT_TRUE(csr.ok());
  Status st = CheckCsrAgainstToken(*csr, "b.example.test", {"b.example.test"});
  EXPECT_EQ(st.code(), Code::kPermissionDenied);
  EXPECT_EQ(st.message(),
            "certificate request does not contain the valid DNS names - got [a.example.test], "
            "want [b.example.test]");

  // Subset is not enough; order and duplicates and DNS case do not matter.
  EXPECT_FALSE(CheckCsrAgainstToken(*csr, "a.example.test", {"a.example.test", "c.example.test"}).ok());
  auto two = ParseCsrDer(MakeCsrDer(key.get(), "", {{GEN_DNS, "C.example.test"},
                                                    {GEN_DNS, "a.example.test"},
                                                    {GEN_DNS, "a.example.test"}}));
  ASSERT_TRUE(two.ok());
  EXPECT_TRUE(CheckCsrAgainstToken(*two, "a.example.test", {"a.example.test", "c.example.test"}).ok());

  // Kinds absent from the CSR are not checked; present ones are.
  auto ip = ParseCsrDer(MakeCsrDer(key.get(), "", {{GEN_IPADD, Ip("127.0.0.1")}}));
  ASSERT_TRUE(ip.ok());
  EXPECT_TRUE(CheckCsrAgainstToken(*ip, "x.example.test", {"x.example.test", "127.0.0.1"}).ok());
  Status ipst = CheckCsrAgainstToken(*ip, "x.example.test", {"x.example.test", "10.0.0.1"});
  EXPECT_EQ(ipst.message(),
            "certificate request does not contain the valid IP addresses - got [127.0.0.1], "
            "want [10.0.0.1]");
  auto email = ParseCsrDer(MakeCsrDer(key.get(), "", {{GEN_EMAIL, "a@example.test"}}));
  ASSERT_TRUE(email.ok());
  EXPECT_EQ(CheckCsrAgainstToken(*email, "x", {"b@example.test"}).code(), Code::kPermissionDenied);
  auto uri = ParseCsrDer(MakeCsrDer(key.get(), "", {{GEN_URI, "spiffe://td/a"}}));
  ASSERT_TRUE(uri.ok());
  EXPECT_TRUE(CheckCsrAgainstToken(*uri, "x", {"spiffe://td/a"}).ok());
  EXPECT_EQ(CheckCsrAgainstToken(*uri, "x", {"spiffe://td/b"}).code(), Code::kPermissionDenied);
}

TEST(IsValidDnsName, Rules) {
  for (const char* ok : {"a", "example.test", "*.example.test", "xn--bcher-kva.example",
                         "a-b.c", "_acme-challenge.example.test", "1.2.3.4"}) {
    EXPECT_TRUE(IsValidDnsName(ok)) << ok;
  }
  for (const char* bad : {"", ".", "example.test.", ".example.test", "a..b", "*", "*.",
                          "a.*.b", "**.a", "-a.b", "a-.b", "a b", "a/b", "\xc3\xa9.test"}) {
    EXPECT_FALSE(IsValidDnsName(bad)) << bad;
  }
}

}  // namespace
}  // namespace stepca
