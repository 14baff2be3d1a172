// The template path of the issuer: the default template gives exactly the
// bytes of today's leaf profile, and each template field reaches the
// certificate as Go's crypto/x509 encodes it.
#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "authority/signer/file_signer.h"
#include "authority/testing/fixture_pki.h"
#include "authority/x509/issuer.h"
#include "authority/x509/template_profile.h"

namespace stepca {
namespace {

using testing::ReadFixture;

X509Ptr ReadCert(const std::string& rel) {
  std::string pem = ReadFixture(rel);
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return X509Ptr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

EvpPkeyPtr Key(const std::string& type) {
  if (type == "P-256" || type == "P-384")
    return EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", type.c_str()));
  if (type == "RSA") return EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048}));
  return EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
}

// A CSR for key, for the template's .Insecure.CR.
X509ReqPtr CsrFor(EVP_PKEY* key, const std::string& cn) {
  X509ReqPtr req(X509_REQ_new());
  X509_REQ_set_pubkey(req.get(), key);
  X509_NAME* name = X509_REQ_get_subject_name(req.get());
  if (!cn.empty())
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  const bool ed = EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519;
  X509_REQ_sign(req.get(), key, ed ? nullptr : EVP_sha256());
  return req;
}

std::string Tbs(X509* cert) {
  unsigned char* der = nullptr;
  const int n = i2d_re_X509_tbs(cert, &der);
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(n > 0 ? n : 0));
  OPENSSL_free(der);
  return out;
}

std::string Hex(const std::string& b) {
  static const char* d = "0123456789abcdef";
  std::string s;
  for (unsigned char c : b) {
    s += d[c >> 4];
    s += d[c & 15];
  }
  return s;
}

// DER tag-length-value in hex, short lengths only.
std::string Tlv(const char* tag, const std::string& hex_content) {
  static const char* d = "0123456789abcdef";
  const size_t n = hex_content.size() / 2;
  return std::string(tag) + d[(n >> 4) & 15] + d[n & 15] + hex_content;
}

std::string ExtDer(X509* cert, int idx) {
  const ASN1_OCTET_STRING* os = X509_EXTENSION_get_data(X509_get_ext(cert, idx));
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(os)),
                     static_cast<size_t>(ASN1_STRING_length(os)));
}

std::string ExtOid(X509* cert, int idx) {
  char buf[80];
  OBJ_obj2txt(buf, sizeof buf, X509_EXTENSION_get_object(X509_get_ext(cert, idx)), 1);
  return buf;
}

class TemplateIssueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pw = ReadFixture("pki/password.txt");
    while (!pw.empty() && pw.back() == '\n') pw.pop_back();
    auto key = LoadPrivateKeyPem(ReadFixture("pki/secrets/intermediate_ca_key"), pw);
    ASSERT_TRUE(key.ok()) << key.status().message();
    auto signer = MakeFileSigner(std::move(key).value());
    ASSERT_TRUE(signer.ok());
    issuer_ = std::make_unique<Issuer>(ReadCert("pki/certs/intermediate_ca.crt"),
                                       std::move(signer).value());
  }

  LeafRequest Base(EVP_PKEY* key) {
    LeafRequest r;
    r.public_key = key;
    r.validity.not_before = TimePoint(std::chrono::seconds(1800000000));
    r.validity.not_after = r.validity.not_before + std::chrono::hours(24);
    r.provisioner = {ProvisionerType::kJwk, "admin@example.test", "kid-1"};
    r.serial = "123456789012345678901234567890";
    return r;
  }

  // Renders `text` (the default template when empty) over a request for
  // cn and sans.
  Result<std::shared_ptr<const tmpl::X509CertificateTemplate>> Render(
      const std::string& text, EVP_PKEY* key, const std::string& cn,
      const std::vector<std::string>& sans, const tmpl::X509Name& def = {}) {
    std::shared_ptr<const X509TemplateOptions> opts = DefaultX509TemplateOptions();
    if (!text.empty()) {
      JsonPtr x509(json_pack("{s:s}", "template", text.c_str()));
      auto loaded = LoadX509TemplateOptions(x509.get(), {"options.x509", "p", "."});
      if (!loaded.ok()) return loaded.status();
      opts = loaded.value();
    }
    csr_ = CsrFor(key, cn);
    tmpl::X509TemplateInput in;
    in.common_name = cn;
    in.sans = sans;
    in.csr = csr_.get();
    if (text.empty()) {
      // The default template itself, rendered (LeafProfile would take
      // DefaultLeafFields, which template_profile_test.cc holds equal).
      auto t = RenderX509Template(*opts, in);
      if (!t.ok()) return t.status();
      tmpl::X509CertificateTemplate v = std::move(t).value();
      ApplyDefaultSubject(def, &v.subject);
      return std::make_shared<const tmpl::X509CertificateTemplate>(std::move(v));
    }
    return LeafProfile(*opts, in, def);
  }

  Result<IssuedCertificate> IssueTemplated(const std::string& text, EVP_PKEY* key,
                                           const std::string& cn = "leaf.example.test",
                                           const std::vector<std::string>& sans = {"leaf.example.test"}) {
    auto profile = Render(text, key, cn, sans);
    if (!profile.ok()) return profile.status();
    LeafRequest r = Base(key);
    r.profile = profile.value();
    return issuer_->IssueLeaf(r);
  }

  std::unique_ptr<Issuer> issuer_;
  X509ReqPtr csr_;
};

// The proof that routing every issuance through the default template
// changes nothing: for each key type and each shape of names, the
// to-be-signed bytes of today's path and of the template path are equal.
TEST_F(TemplateIssueTest, DefaultTemplateGivesTodaysProfileByteForByte) {
  const std::vector<std::pair<std::string, std::vector<std::string>>> cases = {
      {"leaf.example.test", {"leaf.example.test"}},
      {"leaf.example.test",
       {"leaf.example.test", "127.0.0.1", "ops@example.test", "spiffe://example.test/leaf",
        "2001:db8::1", "b.example.test"}},
      {"", {"only-san.example.test", "10.0.0.1"}},  // empty subject: SAN critical
      {"Ünïcode name", {"u.example.test"}},          // UTF8String common name
      {"", {}},
  };
  for (const char* kt : {"P-256", "P-384", "Ed25519", "RSA"}) {
    EvpPkeyPtr key = Key(kt);
    ASSERT_TRUE(key);
    for (const auto& [cn, sans] : cases) {
      for (bool prov_ext : {true, false}) {
        SCOPED_TRACE(std::string(kt) + " cn=" + cn + " sans=" + std::to_string(sans.size()) +
                     " provisioner extension=" + (prov_ext ? "yes" : "no"));
        LeafRequest today = Base(key.get());
        today.common_name = cn;
        today.sans = ClassifySans(sans);
        today.add_provisioner_extension = prov_ext;
        X509ReqPtr csr = CsrFor(key.get(), cn);
        today.spki = X509_REQ_get_X509_PUBKEY(csr.get());
        auto a = issuer_->IssueLeaf(today);
        ASSERT_TRUE(a.ok()) << a.status().message();

        auto profile = Render("", key.get(), cn, sans);
        ASSERT_TRUE(profile.ok()) << profile.status().message();
        LeafRequest templated = Base(key.get());
        templated.spki = today.spki;
        templated.add_provisioner_extension = prov_ext;
        templated.profile = profile.value();
        auto b = issuer_->IssueLeaf(templated);
        ASSERT_TRUE(b.ok()) << b.status().message();
        EXPECT_EQ(Hex(Tbs(a->cert.get())), Hex(Tbs(b->cert.get())));
        EXPECT_EQ(X509_verify(b->cert.get(), X509_get0_pubkey(issuer_->certificate())), 1);
      }
    }
  }
}

TEST_F(TemplateIssueTest, CrlAiaPoliciesInGoOrder) {
  EvpPkeyPtr key = Key("P-256");
  auto c = IssueTemplated(R"({"subject": {{ toJson .Subject }}, "sans": {{ toJson .SANs }},
      "keyUsage": ["digitalSignature"], "extKeyUsage": ["serverAuth"],
      "crlDistributionPoints": ["http://crl.example.test/ca.crl"],
      "issuingCertificateURL": "http://ca.example.test/ca.crt",
      "ocspServer": ["http://ocsp.example.test"],
      "policyIdentifiers": ["1.2.3.4", "2.23.140.1.2.1"]})",
                          key.get());
  ASSERT_TRUE(c.ok()) << c.status().message();
  X509* x = c->cert.get();
  std::vector<std::string> oids;
  for (int i = 0; i < X509_get_ext_count(x); ++i) oids.push_back(ExtOid(x, i));
  EXPECT_EQ(oids, (std::vector<std::string>{"2.5.29.15", "2.5.29.37", "2.5.29.14", "2.5.29.35",
                                            "1.3.6.1.5.5.7.1.1", "2.5.29.17", "2.5.29.32",
                                            "2.5.29.31", "1.3.6.1.4.1.37476.9000.64.1"}));
  // Go's bytes: SEQUENCE { DistributionPoint { [0] { [0] { [6] uri } } } }.
  EXPECT_EQ(Hex(ExtDer(x, 7)),
            Tlv("30", Tlv("30", Tlv("a0", Tlv("a0", Tlv("86", Hex("http://crl.example.test/ca.crl")))))));
  // OCSP first, then caIssuers.
  EXPECT_EQ(Hex(ExtDer(x, 4)),
            Tlv("30", Tlv("30", "06082b06010505073001" + Tlv("86", Hex("http://ocsp.example.test"))) +
                          Tlv("30", "06082b06010505073002" + Tlv("86", Hex("http://ca.example.test/ca.crt")))));
  EXPECT_EQ(Hex(ExtDer(x, 6)), Tlv("30", Tlv("30", "06032a0304") + Tlv("30", "060667810c010201")));
}

TEST_F(TemplateIssueTest, CaBasicConstraintsNameConstraintsAndSubjectOrder) {
  EvpPkeyPtr key = Key("P-256");
  auto c = IssueTemplated(R"({"subject": {"commonName": "Sub CA", "organization": ["B", "A"],
      "country": "DE", "organizationalUnit": "Ops"},
      "keyUsage": ["certSign", "crlSign"], "basicConstraints": {"isCA": true, "maxPathLen": 0},
      "nameConstraints": {"critical": true, "permittedDNSDomains": ["example.test"],
                          "permittedIPRanges": ["10.1.2.3/8"], "excludedEmailAddresses": ["x@y.test"]}})",
                          key.get(), "ignored", {});
  ASSERT_TRUE(c.ok()) << c.status().message();
  X509* x = c->cert.get();
  char buf[256];
  X509_NAME_oneline(X509_get_subject_name(x), buf, sizeof buf);
  // C, O (two values in one RDN, sorted as DER sorts a SET), OU, CN.
  EXPECT_STREQ(buf, "/C=DE/O=A+O=B/OU=Ops/CN=Sub CA");
  EXPECT_EQ(X509_NAME_entry_count(X509_get_subject_name(x)), 5);
  EXPECT_EQ(X509_NAME_ENTRY_set(X509_NAME_get_entry(X509_get_subject_name(x), 2)), 1);
  EXPECT_EQ(ExtOid(x, 0), "2.5.29.15");
  EXPECT_EQ(ExtOid(x, 1), "2.5.29.19");
  EXPECT_EQ(Hex(ExtDer(x, 1)), "30060101ff020100");
  EXPECT_EQ(X509_EXTENSION_get_critical(X509_get_ext(x, 1)), 1);
  EXPECT_EQ(ExtOid(x, 4), "2.5.29.30");
  EXPECT_EQ(X509_EXTENSION_get_critical(X509_get_ext(x, 4)), 1);
  // permitted: dNSName, then 10.0.0.0/255.0.0.0 (masked as net.ParseCIDR);
  // excluded: the email.
  EXPECT_EQ(Hex(ExtDer(x, 4)),
            Tlv("30", Tlv("a0", Tlv("30", Tlv("82", Hex("example.test"))) +
                                    Tlv("30", Tlv("87", "0a000000ff000000"))) +
                          Tlv("a1", Tlv("30", Tlv("81", Hex("x@y.test"))))));
  EXPECT_TRUE(X509_check_ca(x));
}

TEST_F(TemplateIssueTest, TemplateExtensionsDisplaceStandardOnesAndCannotForgeTheProvisioner) {
  EvpPkeyPtr key = Key("P-256");
  // keyUsage given as a raw extension (critical, keyAgreement): it replaces
  // the one from "keyUsage" and comes after the provisioner extension.
  auto c = IssueTemplated(R"({"subject": {{ toJson .Subject }}, "keyUsage": ["digitalSignature"],
      "extensions": [{"id": "2.5.29.15", "critical": true, "value": "AwIDCA=="},
                     {"id": "1.2.3.4.5", "value": "BQA="}]})",
                          key.get());
  ASSERT_TRUE(c.ok()) << c.status().message();
  X509* x = c->cert.get();
  ASSERT_EQ(X509_get_ext_count(x), 5);
  EXPECT_EQ(ExtOid(x, 0), "2.5.29.14");
  EXPECT_EQ(ExtOid(x, 2), "1.3.6.1.4.1.37476.9000.64.1");
  EXPECT_EQ(ExtOid(x, 3), "2.5.29.15");
  EXPECT_EQ(Hex(ExtDer(x, 3)), "03020308");
  EXPECT_EQ(ExtOid(x, 4), "1.2.3.4.5");

  auto forged = IssueTemplated(R"({"subject": "x", "extensions": [
      {"id": "1.3.6.1.4.1.37476.9000.64.1", "value": "BQA="}]})",
                               key.get());
  ASSERT_FALSE(forged.ok());
  EXPECT_EQ(forged.status().code(), Code::kInvalidArgument);
  EXPECT_NE(forged.status().message().find("provisioner extension"), std::string::npos);

  auto twice = IssueTemplated(R"({"subject": "x", "extensions": [
      {"id": "1.2.3", "value": "BQA="}, {"id": "1.2.3", "value": "BQA="}]})",
                              key.get());
  ASSERT_FALSE(twice.ok());
  EXPECT_NE(twice.status().message().find("appears twice"), std::string::npos);
}

TEST_F(TemplateIssueTest, CustomSansAndEmptySubject) {
  EvpPkeyPtr key = Key("Ed25519");
  auto c = IssueTemplated(R"({"sans": [{"type": "dns", "value": "a.example.test"},
      {"type": "ip", "value": "192.0.2.1"}, {"type": "uri", "value": "spiffe://t/x"}],
      "dnsNames": ["first.example.test"]})",
                          key.get());
  ASSERT_TRUE(c.ok()) << c.status().message();
  X509* x = c->cert.get();
  EXPECT_EQ(X509_NAME_entry_count(X509_get_subject_name(x)), 0);
  int idx = X509_get_ext_by_NID(x, NID_subject_alt_name, -1);
  ASSERT_GE(idx, 0);
  EXPECT_EQ(X509_EXTENSION_get_critical(X509_get_ext(x, idx)), 1);
  // dnsNames before the typed dns SAN.
  EXPECT_EQ(Hex(ExtDer(x, idx)),
            Tlv("30", Tlv("82", Hex("first.example.test")) + Tlv("82", Hex("a.example.test")) +
                          Tlv("87", "c0000201") + Tlv("86", Hex("spiffe://t/x"))));
}

TEST_F(TemplateIssueTest, RefusesWhatCannotBeEncodedOrSigned) {
  EvpPkeyPtr key = Key("P-256");
  auto alg = IssueTemplated(R"({"subject": "x", "signatureAlgorithm": "SHA256-RSA"})", key.get());
  ASSERT_FALSE(alg.ok());
  EXPECT_EQ(alg.status().code(), Code::kInvalidArgument);
  EXPECT_NE(alg.status().message().find("signatureAlgorithm"), std::string::npos);
  // The fixture intermediate is a P-256 key: its own algorithm is accepted.
  EXPECT_TRUE(IssueTemplated(R"({"subject": "x", "signatureAlgorithm": "ECDSA-SHA256"})", key.get()).ok());

  auto bad_dns = IssueTemplated(R"({"dnsNames": ["bad name!"]})", key.get());
  ASSERT_FALSE(bad_dns.ok());
  EXPECT_EQ(bad_dns.status().code(), Code::kInvalidArgument);
  auto non_ascii_crl = IssueTemplated(R"({"subject": "x", "crlDistributionPoints": ["http://ü"]})", key.get());
  ASSERT_FALSE(non_ascii_crl.ok());
  EXPECT_EQ(non_ascii_crl.status().code(), Code::kInvalidArgument);
}

TEST_F(TemplateIssueTest, DefaultSubjectFillsOnlyWhatIsMissing) {
  EvpPkeyPtr key = Key("P-256");
  tmpl::X509Name def;
  def.country = {"US"};
  def.organization = {"Default Org"};
  def.common_name = "never used";
  auto profile = Render(R"({"subject": {"commonName": "c", "organization": "Mine"}})", key.get(),
                        "c", {}, def);
  ASSERT_TRUE(profile.ok()) << profile.status().message();
  EXPECT_EQ((*profile)->subject.country, std::vector<std::string>{"US"});
  EXPECT_EQ((*profile)->subject.organization, std::vector<std::string>{"Mine"});
  EXPECT_EQ((*profile)->subject.common_name, "c");
}

}  // namespace
}  // namespace stepca
