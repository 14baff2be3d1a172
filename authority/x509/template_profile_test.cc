#include "authority/x509/template_profile.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "shared/base64.h"

namespace stepca {
namespace {

std::string TempDir() {
  char tmpl[] = "/tmp/stepca-tpl-XXXXXX";
  const char* d = mkdtemp(tmpl);
  return d ? d : "/tmp";
}

void Write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

Result<std::shared_ptr<const X509TemplateOptions>> Load(const std::string& json,
                                                        const std::string& dir = ".") {
  JsonPtr j(json_loads(json.c_str(), 0, nullptr));
  EXPECT_TRUE(j) << json;
  return LoadX509TemplateOptions(j.get(), {"authority.provisioners[0].options.x509", "jwk", dir});
}

X509ReqPtr Csr() {
  EvpPkeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  X509ReqPtr req(X509_REQ_new());
  X509_REQ_set_pubkey(req.get(), key.get());
  X509_REQ_sign(req.get(), key.get(), EVP_sha256());
  return req;
}

Result<tmpl::X509CertificateTemplate> RenderText(const std::string& text,
                                                 const char* user_json = nullptr,
                                                 const char* data_json = nullptr) {
  JsonPtr x509(json_pack("{s:s}", "template", text.c_str()));
  if (data_json) json_object_set_new(x509.get(), "templateData", json_loads(data_json, 0, nullptr));
  auto opts = LoadX509TemplateOptions(x509.get(), {"f", "p", "."});
  if (!opts.ok()) return opts.status();
  X509ReqPtr csr = Csr();
  JsonPtr user(user_json ? json_loads(user_json, 0, nullptr) : nullptr);
  JsonPtr token(json_pack("{s:s,s:s}", "sub", "leaf.example.test", "iss", "jwk"));
  tmpl::X509TemplateInput in;
  in.common_name = "leaf.example.test";
  in.sans = {"leaf.example.test", "10.0.0.1"};
  in.csr = csr.get();
  in.token = token.get();
  in.user_data = user.get();
  return RenderX509Template(**opts, in);
}

TEST(X509TemplateOptions, AbsentIsTheDefaultTemplate) {
  auto o = LoadX509TemplateOptions(nullptr, {"f", "p", "."});
  ASSERT_TRUE(o.ok());
  EXPECT_FALSE((*o)->custom);
  EXPECT_EQ(o.value(), DefaultX509TemplateOptions());
  ASSERT_NE(DefaultX509TemplateOptions()->tmpl, nullptr);
  // templateData alone keeps the default template.
  auto d = Load(R"({"templateData": {"a": 1}})");
  ASSERT_TRUE(d.ok());
  EXPECT_FALSE((*d)->custom);
  EXPECT_NE((*d)->data, nullptr);
}

TEST(X509TemplateOptions, ParseErrorNamesProvisionerFileLineAndColumn) {
  const std::string dir = TempDir();
  Write(dir + "/leaf.tpl", "{\n  \"subject\": {{ toJson .Subject }},\n  \"x\": {{ if }}\n}\n");
  auto o = Load(R"({"templateFile": "leaf.tpl"})", dir);
  ASSERT_FALSE(o.ok());
  EXPECT_EQ(o.status().code(), Code::kInvalidArgument);
  const std::string m = o.status().message();
  EXPECT_NE(m.find("authority.provisioners[0].options.x509.templateFile"), std::string::npos) << m;
  EXPECT_NE(m.find("provisioner \"jwk\""), std::string::npos) << m;
  EXPECT_NE(m.find(dir + "/leaf.tpl:3:"), std::string::npos) << m;

  auto inline_bad = Load(R"({"template": "{ {{ if }} }"})");
  ASSERT_FALSE(inline_bad.ok());
  EXPECT_NE(inline_bad.status().message().find("options.x509.template:1:"), std::string::npos)
      << inline_bad.status().message();
  auto unknown_fn = Load(R"({"template": "{ {{ nosuchfunc 1 }} }"})");
  ASSERT_FALSE(unknown_fn.ok());
  EXPECT_NE(unknown_fn.status().message().find("nosuchfunc"), std::string::npos);
}

TEST(X509TemplateOptions, UnreadableFileAndBadFieldsFailTheLoad) {
  auto missing = Load(R"({"templateFile": "/nonexistent/leaf.tpl"})");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("cannot read /nonexistent/leaf.tpl"), std::string::npos);
  EXPECT_FALSE(Load(R"({"templateData": [1]})").ok());
  EXPECT_FALSE(Load(R"({"template": 7})").ok());
  EXPECT_FALSE(Load(R"({"templateFile": true})").ok());
  auto not_b64 = Load(R"({"template": "not base64 and not json"})");
  ASSERT_FALSE(not_b64.ok());
  EXPECT_NE(not_b64.status().message().find("base64"), std::string::npos);
}

TEST(X509TemplateOptions, Base64TemplateAndStepPathResolution) {
  const std::string b64 = Base64Encode(R"({"subject": {"commonName": "from-b64"}})");
  auto o = Load(R"({"template": ")" + b64 + "\"}");
  ASSERT_TRUE(o.ok()) << o.status().message();
  EXPECT_TRUE((*o)->custom);

  // step's layout: ca.json in STEPPATH/config, templates in STEPPATH/templates.
  const std::string step = TempDir();
  mkdir((step + "/config").c_str(), 0700);
  mkdir((step + "/templates").c_str(), 0700);
  Write(step + "/templates/leaf.tpl", "{}");
  EXPECT_EQ(ResolveTemplatePath("templates/leaf.tpl", step + "/config"), step + "/templates/leaf.tpl");
  EXPECT_EQ(ResolveTemplatePath("/abs/x.tpl", step + "/config"), "/abs/x.tpl");
  // Beside ca.json wins when it exists there.
  Write(step + "/config/leaf.tpl", "{}");
  EXPECT_EQ(ResolveTemplatePath("leaf.tpl", step + "/config"), step + "/config/leaf.tpl");
  EXPECT_TRUE(Load(R"({"templateFile": "templates/leaf.tpl"})", step + "/config").ok());
}

TEST(RenderX509Template, DataReachesTheTemplate) {
  auto c = RenderText(
      R"({"subject": {"commonName": {{ toJson .Token.sub }}, "organization": {{ toJson .org }},
          "organizationalUnit": {{ toJson .Insecure.User.team }}},
          "sans": {{ toJson .SANs }}})",
      R"({"team": "blue"})", R"({"org": "Example Inc"})");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->subject.common_name, "leaf.example.test");
  EXPECT_EQ(c->subject.organization, std::vector<std::string>{"Example Inc"});
  EXPECT_EQ(c->subject.organizational_unit, std::vector<std::string>{"blue"});
  ASSERT_EQ(c->sans.size(), 2u);
  EXPECT_EQ(c->sans[1].type, "ip");
}

TEST(RenderX509Template, UserDataOnlyForCustomTemplates) {
  X509ReqPtr csr = Csr();
  JsonPtr user(json_pack("{s:s}", "team", "blue"));
  tmpl::X509TemplateInput in;
  in.common_name = "x";
  in.csr = csr.get();
  in.user_data = user.get();
  auto c = RenderX509Template(*DefaultX509TemplateOptions(), in);
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->key_usage, unsigned{tmpl::kKuDigitalSignature});
  EXPECT_EQ(c->ext_key_usage, (std::vector<std::string>{"serverauth", "clientauth"}));
}

// DefaultLeafFields stands in for rendering the default template: the same
// fields for every key type and shape of names.
TEST(DefaultLeafFields, EqualsTheRenderedDefaultTemplate) {
  auto same = [](const tmpl::X509CertificateTemplate& a, const tmpl::X509CertificateTemplate& b) {
    if (a.subject.common_name != b.subject.common_name || a.key_usage != b.key_usage ||
        a.ext_key_usage != b.ext_key_usage || a.sans.size() != b.sans.size())
      return false;
    for (size_t i = 0; i < a.sans.size(); ++i)
      if (a.sans[i].type != b.sans[i].type || a.sans[i].value != b.sans[i].value) return false;
    return a.dns_names.empty() && b.dns_names.empty() && !a.basic_constraints &&
           !b.basic_constraints && a.extensions.empty() && b.extensions.empty() &&
           b.subject.organization.empty() && b.subject.country.empty();
  };
  for (const char* kt : {"EC", "RSA", "ED25519"}) {
    EvpPkeyPtr key(std::string(kt) == "EC"    ? EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")
                   : std::string(kt) == "RSA" ? EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048})
                                              : EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
    X509ReqPtr csr(X509_REQ_new());
    X509_REQ_set_pubkey(csr.get(), key.get());
    for (const auto& sans : std::vector<std::vector<std::string>>{
             {}, {"a.example.test"}, {"2001:db8::1", "a@b.test", "x.test", "spiffe://t/a", "10.1.1.1"},
             {"\"quoted\".test", "ünï.test"}}) {
      for (const std::string cn : {"", "a.example.test", "CN with \"quotes\" and \\ and ü"}) {
        tmpl::X509TemplateInput in;
        in.common_name = cn;
        in.sans = sans;
        in.csr = csr.get();
        auto rendered = RenderX509Template(*DefaultX509TemplateOptions(), in);
        ASSERT_TRUE(rendered.ok()) << rendered.status().message();
        EXPECT_TRUE(same(DefaultLeafFields(in), rendered.value())) << kt << " cn=" << cn;
      }
    }
  }
}

TEST(RenderX509Template, FailIsTheClientsMessage) {
  auto c = RenderText(R"({{ if not (hasSuffix ".internal" .Subject.CommonName) }}{{ fail "only .internal names" }}{{ end }}{})");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(c.status().message(), "only .internal names");
}

TEST(RenderX509Template, BadOutputAndLimitsAreClearErrors) {
  auto not_json = RenderText("{ this is not json }");
  ASSERT_FALSE(not_json.ok());
  EXPECT_EQ(not_json.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(not_json.status().message().rfind("error applying certificate template: error unmarshaling certificate", 0), 0u)
      << not_json.status().message();

  auto bad_der = RenderText(R"({"extensions": [{"id": "1.2.3", "value": "AAAA"}]})");
  ASSERT_FALSE(bad_der.ok());
  EXPECT_NE(bad_der.status().message().find("DER"), std::string::npos) << bad_der.status().message();

  auto exec = RenderText(R"({ {{ index .Token "nope" "deeper" }} })");
  ASSERT_FALSE(exec.ok());
  EXPECT_EQ(exec.status().code(), Code::kInvalidArgument);

  // A loop the step limit stops: nested ranges over a million steps.
  auto loop = RenderText(
      R"({{ $l := list 1 2 3 4 5 6 7 8 9 10 }}{{ range $l }}{{ range $l }}{{ range $l }}{{ range $l }}{{ range $l }}{{ range $l }}x{{ end }}{{ end }}{{ end }}{{ end }}{{ end }}{{ end }}{})");
  ASSERT_FALSE(loop.ok());
  EXPECT_EQ(loop.status().code(), Code::kInvalidArgument);
  EXPECT_NE(loop.status().message().find("error applying certificate template"), std::string::npos);
}

// crl.idpURL and nginxStepca.ocsp.url reach the default leaf profile only;
// a provisioner's own template says what it wants.
TEST(LeafProfile, RevocationUrlsInTheDefaultProfileOnly) {
  X509ReqPtr csr = Csr();
  tmpl::X509TemplateInput in;
  in.common_name = "leaf.example.test";
  in.sans = {"leaf.example.test"};
  in.csr = csr.get();
  DefaultLeafRevocation urls;
  urls.crl_distribution_points = {"http://ca.example.test/1.0/crl"};
  urls.ocsp_servers = {"http://ca.example.test/ocsp"};
  auto def = LeafProfile(*DefaultX509TemplateOptions(), in, tmpl::X509Name{}, urls);
  ASSERT_TRUE(def.ok()) << def.status().message();
  EXPECT_EQ((*def)->crl_distribution_points, urls.crl_distribution_points);
  EXPECT_EQ((*def)->ocsp_server, urls.ocsp_servers);
  auto none = LeafProfile(*DefaultX509TemplateOptions(), in, tmpl::X509Name{});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE((*none)->crl_distribution_points.empty());
  EXPECT_TRUE((*none)->ocsp_server.empty());
  auto custom = Load(R"({"template": "{\"subject\": {\"commonName\": \"x\"}}"})");
  ASSERT_TRUE(custom.ok()) << custom.status().message();
  auto own = LeafProfile(**custom, in, tmpl::X509Name{}, urls);
  ASSERT_TRUE(own.ok()) << own.status().message();
  EXPECT_TRUE((*own)->crl_distribution_points.empty());
  EXPECT_TRUE((*own)->ocsp_server.empty());
}

TEST(DefaultSubject, ParsedFromAuthorityTemplate) {
  JsonPtr j(json_loads(R"({"country": "US", "organization": "Org", "commonName": "cn"})", 0, nullptr));
  auto n = ParseDefaultSubject(j.get(), "authority.template");
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(n->country, std::vector<std::string>{"US"});
  EXPECT_EQ(n->common_name, "cn");
  JsonPtr bad(json_loads(R"({"country": ["US"]})", 0, nullptr));
  auto b = ParseDefaultSubject(bad.get(), "authority.template");
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("authority.template.country"), std::string::npos);
}

}  // namespace
}  // namespace stepca
