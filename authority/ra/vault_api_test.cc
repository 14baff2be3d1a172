#include "authority/ra/vault_api.h"

#include <gtest/gtest.h>

namespace stepca {
namespace {

VaultResponse Answer(long status, const std::string& text) {
  VaultResponse r;
  r.status = status;
  r.text = text;
  r.body.reset(json_loads(text.c_str(), 0, nullptr));
  return r;
}

TEST(VaultApi, ErrorsAreJoinedOnOneLine) {
  EXPECT_EQ(VaultErrors(Answer(400, R"({"errors":["invalid secret id"]})")), "invalid secret id");
  EXPECT_EQ(VaultErrors(Answer(500, R"({"errors":["1 error occurred:\n\t* internal error\n\n","b"]})")),
            "1 error occurred: * internal error; b");
  EXPECT_EQ(VaultErrors(Answer(502, "<html>bad\ngateway</html>")), "HTTP 502: <html>bad gateway</html>");
  EXPECT_EQ(VaultErrors(Answer(404, R"({"errors":[]})")), "HTTP 404: {\"errors\":[]}");
}

// Vault refusing the request is the client's refusal; anything else is
// the RA's problem and never a 500.
TEST(VaultApi, FailuresMapToTheClientsRefusalOrUnavailability) {
  Status bad = FromVault(Answer(400, R"({"errors":["role requires keys of type rsa"]})"), "sign", "http://v");
  EXPECT_EQ(bad.code(), Code::kInvalidArgument);
  EXPECT_EQ(bad.message(), "Vault refused to sign: role requires keys of type rsa");
  Status denied = FromVault(Answer(403, R"({"errors":["permission denied"]})"), "sign", "http://v");
  EXPECT_EQ(denied.code(), Code::kUnavailable);
  EXPECT_EQ(denied.message(), "Vault did not accept the registration authority's credentials");
  EXPECT_NE(denied.detail().find("permission denied"), std::string::npos);
  Status missing = FromVault(Answer(404, R"({"errors":[]})"), "sign", "http://v");
  EXPECT_EQ(missing.code(), Code::kUnavailable);
  EXPECT_NE(missing.detail().find("pkiMountPath"), std::string::npos);
  for (long s : {429L, 500L, 502L, 503L}) {
    Status st = FromVault(Answer(s, R"({"errors":["Vault is sealed"]})"), "sign", "http://v");
    EXPECT_EQ(st.code(), Code::kUnavailable) << s;
    EXPECT_EQ(st.message(), "Vault could not sign (HTTP " + std::to_string(s) + ")");
    EXPECT_NE(st.detail().find("Vault is sealed"), std::string::npos);
  }
}

TEST(VaultApi, AnUnreachableVaultIsUnavailable) {
  RaConfig c;
  c.type = CaServiceType::kVaultCas;
  c.certificate_authority = "http://127.0.0.1:1";  // nothing listens on port 1
  VaultApi api(c, false);
  auto r = api.Call("pki/ca/pem", nullptr, "");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kUnavailable);
  EXPECT_EQ(r.status().message(), "Vault did not answer");
}

}  // namespace
}  // namespace stepca
