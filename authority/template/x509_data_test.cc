// The data an X.509 template sees, and step-ca's default leaf template
// rendered over it and decoded: the certificate today's leaf profile issues.
#include "authority/template/x509_data.h"

#include <gtest/gtest.h>
#include <openssl/x509v3.h>

#include "authority/ossl.h"
#include "authority/template/template.h"
#include "authority/template/x509_certificate.h"
#include "authority/testing/fixture_pki.h"
#include "authority/x509/csr.h"

namespace stepca {
namespace tmpl {
namespace {

// x509util.DefaultLeafTemplate (step-ca 0.19).
constexpr const char* kDefaultLeaf = R"({
	"subject": {{ toJson .Subject }},
	"sans": {{ toJson .SANs }},
{{- if typeIs "*rsa.PublicKey" .Insecure.CR.PublicKey }}
	"keyUsage": ["keyEncipherment", "digitalSignature"],
{{- else }}
	"keyUsage": ["digitalSignature"],
{{- end }}
	"extKeyUsage": ["serverAuth", "clientAuth"]
})";

struct Fixture {
  Csr csr;
  JsonPtr token, provisioner_data, user_data;
  X509TemplateInput in;
};

void Make(Fixture* f, const std::string& keytype, std::vector<std::string> sans) {
  f->csr = ParseCsrPem(testing::MakeCsrPem("a.example.com", {"a.example.com", "b.example.com"},
                                           keytype))
               .value();
  f->token.reset(json_loads(R"({"sub": "a.example.com", "iss": "ops", "sans": ["a.example.com"]})",
                            0, nullptr));
  f->in.common_name = "a.example.com";
  f->in.sans = std::move(sans);
  f->in.token = f->token.get();
  f->in.csr = f->csr.req.get();
}

std::string Render(const std::string& text, const Value& data) {
  auto p = Template::Parse("template", text);
  if (!p.ok()) return "PARSE: " + p.error.message;
  auto r = p.tmpl->Execute(data);
  if (!r.ok()) return "EXEC: " + r.error.message;
  return r.output;
}

// X5C: .AuthorizationCrt is the certificate that signed the token.
TEST(X509TemplateData, AuthorizationCertificate) {
  Fixture f;
  Make(&f, "P-256", {"a.example.com"});
  EvpPkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  X509Ptr cert(X509_new());
  X509_set_version(cert.get(), X509_VERSION_3);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 4242);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("client"), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600);
  X509_set_pubkey(cert.get(), key.get());
  X509_EXTENSION* san = X509V3_EXT_conf_nid(nullptr, nullptr, NID_subject_alt_name,
                                            "DNS:c.example.com,IP:10.0.0.9,email:c@example.com");
  X509_add_ext(cert.get(), san, -1);
  X509_EXTENSION_free(san);
  X509_sign(cert.get(), key.get(), EVP_sha256());
  f.in.authorization_crt = cert.get();
  const Value d = X509TemplateData(f.in);
  EXPECT_EQ(Render("{{ .AuthorizationCrt.Subject.CommonName }}", d), "client");
  EXPECT_EQ(Render("{{ toJson .AuthorizationCrt.DNSNames }}", d), R"(["c.example.com"])");
  EXPECT_EQ(Render("{{ index .AuthorizationCrt.IPAddresses 0 }}", d), "10.0.0.9");
  EXPECT_EQ(Render("{{ index .AuthorizationCrt.EmailAddresses 0 }}", d), "c@example.com");
  EXPECT_EQ(Render("{{ .AuthorizationCrt.SerialNumber }}", d), "4242");
  EXPECT_EQ(Render("{{ typeOf .AuthorizationCrt }}", d), "*x509.Certificate");
  // Without one (JWK), there is no such field.
  f.in.authorization_crt = nullptr;
  EXPECT_EQ(Render("{{ .AuthorizationCrt }}", X509TemplateData(f.in)), "<no value>");
}

TEST(X509TemplateData, SubjectAndSansAsStepCaPassesThem) {
  Fixture f;
  Make(&f, "P-256", {"spiffe://example.com/x", "m@example.com", "10.0.0.1", "a.example.com"});
  const Value d = X509TemplateData(f.in);
  EXPECT_EQ(Render("{{ toJson .Subject }}", d), R"({"commonName":"a.example.com"})");
  EXPECT_EQ(Render("{{ .Subject.CommonName }}", d), "a.example.com");
  // CreateSANs: DNS names, then IPs, emails, URIs.
  EXPECT_EQ(Render("{{ toJson .SANs }}", d),
            R"([{"type":"dns","value":"a.example.com"},{"type":"ip","value":"10.0.0.1"},)"
            R"({"type":"email","value":"m@example.com"},)"
            R"({"type":"uri","value":"spiffe://example.com/x"}])");
  EXPECT_EQ(Render("{{ range .SANs }}{{ .Type }}={{ .Value }} {{ end }}", d),
            "dns=a.example.com ip=10.0.0.1 email=m@example.com uri=spiffe://example.com/x ");
  EXPECT_EQ(Render("{{ .Token.iss }} {{ index .Token.sans 0 }}", d), "ops a.example.com");
  // A field that is not there is no value; a field of the wrong kind is an error.
  EXPECT_EQ(Render("{{ .Subject.Nope }}", d), "<no value>");
  EXPECT_EQ(Render("{{ .Subject.CommonName.X }}", d).rfind("EXEC: ", 0), 0u);
}

TEST(X509TemplateData, CertificateRequestFields) {
  Fixture f;
  Make(&f, "P-256", {"a.example.com"});
  const Value d = X509TemplateData(f.in);
  EXPECT_EQ(Render("{{ .Insecure.CR.Subject.CommonName }}", d), "a.example.com");
  EXPECT_EQ(Render("{{ toJson .Insecure.CR.Subject }}", d), R"({"commonName":"a.example.com"})");
  EXPECT_EQ(Render("{{ .Insecure.CR.DNSNames }}", d), "[a.example.com b.example.com]");
  EXPECT_EQ(Render("{{ toJson .Insecure.CR.EmailAddresses }}", d), "null");
  EXPECT_EQ(Render("{{ typeOf .Insecure.CR.PublicKey }}", d), "*ecdsa.PublicKey");
  EXPECT_EQ(Render("{{ range .Insecure.CR.Extensions }}{{ .ID }} {{ .Critical }}{{ end }}", d),
            "2.5.29.17 false");
  // The json tags, and the key left out (`json:"-"`).
  const std::string j = Render("{{ toJson .Insecure.CR }}", d);
  EXPECT_EQ(j.rfind(R"({"version":0,"subject":{"commonName":"a.example.com"},)"
                    R"("dnsNames":["a.example.com","b.example.com"],"emailAddresses":null,)",
                    0),
            0u)
      << j;
  EXPECT_EQ(j.find("PublicKey"), std::string::npos) << j;
}

TEST(X509TemplateData, ProvisionerDataAndUserData) {
  Fixture f;
  Make(&f, "P-256", {"a.example.com"});
  f.provisioner_data.reset(json_loads(R"({"crl": "http://crl.example.com/ca.crl", "n": 2})", 0,
                                      nullptr));
  f.user_data.reset(json_loads(R"({"role": "web"})", 0, nullptr));
  f.in.provisioner_data = f.provisioner_data.get();
  f.in.user_data = f.user_data.get();
  const Value d = X509TemplateData(f.in);
  EXPECT_EQ(Render("{{ .crl }} {{ .n }} {{ .Insecure.User.role }}", d),
            "http://crl.example.com/ca.crl 2 web");
  // Request data that is not an object is an empty object, as in step-ca.
  JsonPtr list(json_loads("[1]", 0, nullptr));
  f.in.user_data = list.get();
  EXPECT_EQ(Render("{{ toJson .Insecure.User }}", X509TemplateData(f.in)), "{}");
  // Without request data there is no .Insecure.User.
  f.in.user_data = nullptr;
  EXPECT_EQ(Render("{{ .Insecure.User }}", X509TemplateData(f.in)), "<no value>");
}

// The default template gives what the leaf profile issues without one:
// the token's subject and SANs, digitalSignature (and keyEncipherment for
// RSA), serverAuth and clientAuth.
TEST(X509TemplateData, DefaultLeafTemplateGivesTheLeafProfile) {
  for (const char* keytype : {"P-256", "RSA-2048", "ED25519"}) {
    SCOPED_TRACE(keytype);
    Fixture f;
    Make(&f, keytype, {"a.example.com", "10.0.0.1"});
    const std::string out = Render(kDefaultLeaf, X509TemplateData(f.in));
    auto c = ParseX509CertificateJson(out);
    ASSERT_TRUE(c.ok()) << c.status().message() << "\n" << out;
    EXPECT_EQ(c->subject.common_name, "a.example.com");
    ASSERT_EQ(c->sans.size(), 2u);
    EXPECT_EQ(c->sans[0].type, "dns");
    EXPECT_EQ(c->sans[1].type, "ip");
    EXPECT_EQ(c->sans[1].value, "10.0.0.1");
    const bool rsa = std::string(keytype).rfind("RSA", 0) == 0;
    EXPECT_EQ(c->key_usage, rsa ? (kKuDigitalSignature | kKuKeyEncipherment) : kKuDigitalSignature);
    EXPECT_EQ(c->ext_key_usage, (std::vector<std::string>{"serverauth", "clientauth"}));
    EXPECT_FALSE(c->basic_constraints.has_value());
    EXPECT_TRUE(c->extensions.empty());
  }
}

TEST(X509TemplateData, IntermediateTemplateFromTheProductionGuide) {
  Fixture f;
  Make(&f, "P-256", {"a.example.com"});
  const std::string text =
      R"({ "subject": {{ toJson .Subject }}, "keyUsage": ["certSign", "crlSign"], )"
      R"("basicConstraints": { "isCA": true, "maxPathLen": 0 }, )"
      R"("crlDistributionPoints": ["http://crl.example.com/crl/ca.crl"] })";
  auto c = ParseX509CertificateJson(Render(text, X509TemplateData(f.in)));
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->key_usage, kKuCertSign | kKuCrlSign);
  ASSERT_TRUE(c->basic_constraints.has_value());
  EXPECT_TRUE(c->basic_constraints->is_ca);
  EXPECT_EQ(c->crl_distribution_points, std::vector<std::string>{"http://crl.example.com/crl/ca.crl"});
}

TEST(X509TemplateData, ATemplateThatRendersBadJsonIsRefused) {
  Fixture f;
  Make(&f, "P-256", {"a.example.com"});
  // A missing comma after a conditional: a common template mistake.
  const std::string out =
      Render("{\"subject\": {{ toJson .Subject }} \"sans\": {{ toJson .SANs }}}", X509TemplateData(f.in));
  auto c = ParseX509CertificateJson(out);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message().rfind("error unmarshaling certificate: ", 0), 0u);
}

}  // namespace
}  // namespace tmpl
}  // namespace stepca
