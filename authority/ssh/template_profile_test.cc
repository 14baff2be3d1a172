#include "authority/ssh/template_profile.h"

#include <gtest/gtest.h>

#include "authority/ossl.h"
#include "shared/base64.h"

namespace stepca {
namespace {

Result<std::shared_ptr<const SshTemplateOptions>> Load(const char* json) {
  JsonPtr j(json_loads(json, 0, nullptr));
  EXPECT_TRUE(j) << json;
  return LoadSshTemplateOptions(j.get(), {"authority.provisioners[0].options.ssh", "jwk", "."});
}

tmpl::SshTemplateInput UserInput() {
  tmpl::SshTemplateInput in;
  in.type = "user";
  in.key_id = "alice@example.test";
  in.principals = {"alice", "alice@example.test"};
  in.extensions = ssh::DefaultUserExtensions();
  in.request_type = "user";
  in.request_principals = {"alice"};
  return in;
}

Result<SshCertificateFields> Render(const char* options_json, tmpl::SshTemplateInput in,
                                    const char* user_json = nullptr) {
  auto o = Load(options_json);
  if (!o.ok()) return o.status();
  JsonPtr user(user_json ? json_loads(user_json, 0, nullptr) : nullptr);
  JsonPtr token(json_pack("{s:s,s:s}", "sub", "alice@example.test", "iss", "jwk"));
  in.user_data = user.get();
  in.token = token.get();
  return RenderSshTemplate(**o, std::move(in));
}

TEST(SshTemplateOptions, AbsentOrEmptyIsTheDefaultTemplate) {
  auto none = LoadSshTemplateOptions(nullptr, {"f", "p", "."});
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE((*none)->custom);
  EXPECT_EQ(*none, DefaultSshTemplateOptions());
  auto empty = Load("{}");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(*empty, DefaultSshTemplateOptions());
  // templateData alone: the default template with that data.
  auto data = Load(R"({"templateData":{"k":"v"}})");
  ASSERT_TRUE(data.ok());
  EXPECT_FALSE((*data)->custom);
  EXPECT_NE((*data)->data, nullptr);
  EXPECT_EQ((*data)->tmpl, DefaultSshTemplateOptions()->tmpl);
}

TEST(SshTemplateOptions, DefaultTemplateGivesUserExtensionsAndNoCriticalOptions) {
  auto user = Render("{}", UserInput());
  ASSERT_TRUE(user.ok()) << user.status().message();
  EXPECT_EQ(user->type, ssh::CertType::kUser);
  EXPECT_EQ(user->key_id, "alice@example.test");
  EXPECT_EQ(user->principals, (std::vector<std::string>{"alice", "alice@example.test"}));
  EXPECT_EQ(user->extensions, ssh::DefaultUserExtensions());
  EXPECT_TRUE(user->critical_options.empty());
  EXPECT_EQ(user->serial, 0u);

  tmpl::SshTemplateInput host;
  host.type = "host";
  host.key_id = "web.example.test";
  host.principals = {"web.example.test"};
  auto h = Render("{}", host);
  ASSERT_TRUE(h.ok()) << h.status().message();
  EXPECT_EQ(h->type, ssh::CertType::kHost);
  EXPECT_TRUE(h->extensions.empty());
  EXPECT_TRUE(h->critical_options.empty());
}

TEST(SshTemplateOptions, ForceCommandAndSourceAddressFromATemplate) {
  auto f = Render(R"({"template": "{\"type\": {{ toJson .Type }}, \"keyId\": {{ toJson .KeyID }}, \"principals\": {{ toJson .Principals }}, \"criticalOptions\": {\"force-command\": {{ toJson .Insecure.User.command }}, \"source-address\": {{ toJson .allowed }}}, \"extensions\": {{ toJson .Extensions }}}",
                      "templateData": {"allowed": "127.0.0.1/32,10.0.0.0/8"}})",
                  UserInput(), R"({"command": "echo hi"})");
  ASSERT_TRUE(f.ok()) << f.status().message();
  EXPECT_EQ(f->critical_options.at("force-command"), "echo hi");
  EXPECT_EQ(f->critical_options.at("source-address"), "127.0.0.1/32,10.0.0.0/8");
  EXPECT_EQ(f->extensions.size(), 5u);
}

TEST(SshTemplateOptions, UserDataOnlyReachesACustomTemplate) {
  // templateData alone keeps the default template; .Insecure.User is not
  // filled (step-ca passes user data to custom templates only).
  auto o = Load(R"({"templateData": {"x": 1}})");
  ASSERT_TRUE(o.ok());
  EXPECT_FALSE((*o)->custom);
  auto r = Render(R"({"template": "{{ if .Insecure.User }}{{ fail \"had user data\" }}{{ end }}{\"type\": \"user\", \"keyId\": \"k\"}"})",
                  UserInput());
  ASSERT_TRUE(r.ok()) << r.status().message();
  auto with = Render(R"({"template": "{{ if .Insecure.User }}{{ fail \"had user data\" }}{{ end }}{\"type\": \"user\", \"keyId\": \"k\"}"})",
                     UserInput(), R"({"team": "blue"})");
  ASSERT_FALSE(with.ok());
  EXPECT_EQ(with.status().message(), "had user data");
}

TEST(SshTemplateOptions, RequestAndTokenAreInTheData) {
  auto r = Render(R"({"template": "{\"type\": {{ toJson .Insecure.CR.Type }}, \"keyId\": {{ toJson .Token.sub }}, \"principals\": {{ toJson .Insecure.CR.Principals }}}"})",
                  UserInput());
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->key_id, "alice@example.test");
  EXPECT_EQ(r->principals, std::vector<std::string>{"alice"});
  EXPECT_TRUE(r->extensions.empty());
}

TEST(SshTemplateOptions, FailIsTheMessageAlone) {
  auto r = Render(R"({"template": "{{ if ne (index .Principals 0) \"admin\" }}{{ fail \"admin principal required\" }}{{ end }}{}"})",
                  UserInput());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "admin principal required");
}

TEST(SshTemplateOptions, ATemplateThatDoesNotParseFailsTheLoad) {
  auto r = Load(R"({"template": "{\"type\": {{ .Type }"})");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_NE(r.status().message().find("authority.provisioners[0].options.ssh.template"), std::string::npos)
      << r.status().message();
  EXPECT_NE(r.status().message().find("provisioner \"jwk\""), std::string::npos);
  EXPECT_NE(r.status().message().find(":1:"), std::string::npos) << r.status().message();
  auto missing = Load(R"({"templateFile": "/nonexistent/ssh.tpl"})");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("/nonexistent/ssh.tpl"), std::string::npos);
  EXPECT_FALSE(Load(R"({"templateData": [1]})").ok());
  EXPECT_FALSE(Load(R"({"template": 7})").ok());
}

TEST(SshTemplateOptions, Base64TemplateIsDecoded) {
  const std::string b64 = Base64Encode(R"({"type": "host", "keyId": "h", "principals": ["h.example.test"]})");
  const std::string json = R"({"template": ")" + b64 + R"("})";
  auto r = Render(json.c_str(), UserInput());
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->type, ssh::CertType::kHost);
  EXPECT_EQ(r->principals, std::vector<std::string>{"h.example.test"});
}

TEST(SshCertificateJson, DecodesStepCasShape) {
  auto c = ParseSshCertificateJson(
      R"({"Type": "HOST", "KEYID": "k", "principals": ["a", "b"], "serial": 42,
          "criticalOptions": {"force-command": "ls"}, "extensions": {"permit-pty": ""},
          "unknown": true} trailing text)");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->type, ssh::CertType::kHost);
  EXPECT_EQ(c->key_id, "k");
  EXPECT_EQ(c->principals, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(c->serial, 42u);
  EXPECT_EQ(c->critical_options.at("force-command"), "ls");
  EXPECT_EQ(c->extensions.count("permit-pty"), 1u);
}

TEST(SshCertificateJson, RefusesWhatSshutilCannotDecode) {
  for (const char* bad : {
           "not json", "[]", R"({"keyId": "k"})", R"({"type": "admin"})",
           R"({"type": "user", "principals": "alice"})", R"({"type": "user", "principals": [1]})",
           R"({"type": "user", "extensions": {"permit-pty": true}})",
           R"({"type": "user", "criticalOptions": ["force-command"]})",
           R"({"type": "user", "serial": -1})", R"({"type": "user", "serial": "7"})",
           R"({"type": "user", "keyId": 5})"}) {
    auto c = ParseSshCertificateJson(bad);
    ASSERT_FALSE(c.ok()) << bad;
    EXPECT_EQ(c.status().code(), Code::kInvalidArgument) << bad;
    EXPECT_EQ(c.status().message().rfind("error unmarshaling certificate", 0), 0u) << c.status().message();
  }
}

TEST(SshTemplateOptions, ExecutionErrorsAndBoundsAreInvalidArgument) {
  auto r = Render(R"({"template": "{{ index .Principals 9 }}"})", UserInput());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message().rfind("error applying certificate template: ", 0), 0u);
  // A template that calls itself without end reaches the engine's bound.
  auto loop = Render(R"({"template": "{{ define \"r\" }}{{ template \"r\" . }}{{ end }}{{ template \"r\" . }}"})",
                     UserInput());
  ASSERT_FALSE(loop.ok());
  EXPECT_EQ(loop.status().code(), Code::kInvalidArgument);
  auto not_json = Render(R"({"template": "{ {{ .KeyID }} }"})", UserInput());
  ASSERT_FALSE(not_json.ok());
  EXPECT_NE(not_json.status().message().find("error unmarshaling certificate"), std::string::npos);
}

}  // namespace
}  // namespace stepca
