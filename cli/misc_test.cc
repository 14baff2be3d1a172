// Tests of the CLI's small pieces: flags, JSON text, keys and CSRs, the
// sign request and response.
#include <gtest/gtest.h>

#include "authority/signer/file_signer.h"
#include "authority/x509/csr.h"
#include "cli/args.h"
#include "cli/crypto.h"
#include "cli/go_json.h"
#include "cli/http.h"
#include "cli/sign_flow.h"
#include "cli/testing_util.h"

namespace stepca {
namespace cli {
namespace {

using testing::FixtureFile;

JsonPtr ParseJson(const std::string& text) {
  json_error_t err;
  return JsonPtr(json_loadb(text.data(), text.size(), 0, &err));
}

TEST(CliArgs, FlagsValuesAndPositionals) {
  auto a = Args::Parse({"sub", "--san", "a", "--san=b", "--offline", "crt", "--ca-url",
                        "https://x", "--", "--not-a-flag"},
                       {{"san"}, {"offline", false}, {"ca-url"}});
  ASSERT_TRUE(a.ok()) << a.status().message();
  EXPECT_EQ(a->GetAll("san"), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(a->Has("offline"));
  EXPECT_EQ(a->Get("ca-url"), "https://x");
  EXPECT_EQ(a->Get("missing", "def"), "def");
  EXPECT_EQ(a->positional(), (std::vector<std::string>{"sub", "crt", "--not-a-flag"}));
}

TEST(CliArgs, RejectsUnknownFlagsAndMissingValues) {
  EXPECT_FALSE(Args::Parse({"--nope"}, {{"san"}}).ok());
  EXPECT_FALSE(Args::Parse({"--san"}, {{"san"}}).ok());
  EXPECT_FALSE(Args::Parse({"--offline=maybe"}, {{"offline", false}}).ok());
  auto off = Args::Parse({"--offline=false"}, {{"offline", false}});
  ASSERT_TRUE(off.ok());
  EXPECT_FALSE(off->Has("offline"));
}

TEST(CliGoJson, MatchesGoEncoding) {
  JsonPtr v = ParseJson(R"({"b":1.2,"a":[],"c":{},"d":"<&>\u2028\u0001\"\\/","e":null,"f":[1,true,false,1.3,100.0,0.000001]})");
  ASSERT_TRUE(v);
  EXPECT_EQ(GoJson(v.get()),
            R"({"b":1.2,"a":[],"c":{},"d":"\u003c\u0026\u003e\u2028\u0001\"\\/","e":null,"f":[1,true,false,1.3,100,0.000001]})");
  EXPECT_EQ(GoJson(v.get(), "\t"),
            "{\n\t\"b\": 1.2,\n\t\"a\": [],\n\t\"c\": {},\n\t\"d\": "
            "\"\\u003c\\u0026\\u003e\\u2028\\u0001\\\"\\\\/\",\n\t\"e\": null,\n\t\"f\": [\n"
            "\t\t1,\n\t\ttrue,\n\t\tfalse,\n\t\t1.3,\n\t\t100,\n\t\t0.000001\n\t]\n}");
}

TEST(CliCrypto, KeysAndPemAsStepWritesThem) {
  struct Case {
    const char* kty;
    const char* crv;
    const char* plain_header;
  } cases[] = {{"EC", "P-256", "-----BEGIN EC PRIVATE KEY-----"},
               {"EC", "P-384", "-----BEGIN EC PRIVATE KEY-----"},
               {"OKP", "Ed25519", "-----BEGIN PRIVATE KEY-----"},
               {"RSA", "", "-----BEGIN RSA PRIVATE KEY-----"}};
  for (const Case& c : cases) {
    auto key = GenerateKey(c.kty, c.crv, std::string(c.kty) == "RSA" ? 2048 : 0);
    ASSERT_TRUE(key.ok()) << c.kty;
    auto pem = PrivateKeyToPem(key->get(), "");
    ASSERT_TRUE(pem.ok());
    EXPECT_EQ(pem->rfind(c.plain_header, 0), 0u) << *pem;
    auto enc = PrivateKeyToPem(key->get(), "pw");
    ASSERT_TRUE(enc.ok());
    EXPECT_NE(enc->find("ENCRYPTED"), std::string::npos);
    auto back = LoadPrivateKeyPem(enc.value(), "pw");
    ASSERT_TRUE(back.ok()) << c.kty << ": " << back.status().message();
    EXPECT_EQ(EVP_PKEY_eq(back->get(), key->get()), 1);
  }
  EXPECT_FALSE(GenerateKey("EC", "P-192").ok());
  EXPECT_FALSE(GenerateKey("RSA", "", 1024).ok());
  EXPECT_FALSE(GenerateKey("oct", "").ok());
}

TEST(CliCrypto, LegacyPemIvIsLowerCaseHexLikeGo) {
  auto key = GenerateKey("EC", "P-256");
  auto pem = PrivateKeyToPem(key->get(), "pw");
  ASSERT_TRUE(pem.ok());
  size_t pos = pem->find("DEK-Info: AES-256-CBC,");
  ASSERT_NE(pos, std::string::npos);
  std::string iv = pem->substr(pos + 22, 32);
  EXPECT_EQ(iv.find_first_not_of("0123456789abcdef"), std::string::npos) << iv;
}

TEST(CliCrypto, CsrCarriesSubjectAndClassifiedSans) {
  auto key = GenerateKey("EC", "P-256");
  auto req = MakeCsr(key->get(), "svc.example.test",
                     {"svc.example.test", "10.1.2.3", "ops@example.test",
                      "spiffe://example.test/svc", "::1"});
  ASSERT_TRUE(req.ok()) << req.status().message();
  std::string pem = CsrToPem(req->get());
  auto csr = ParseCsrPem(pem);
  ASSERT_TRUE(csr.ok()) << csr.status().message();
  EXPECT_EQ(csr->common_name, "svc.example.test");
  EXPECT_EQ(csr->sans.dns, (std::vector<std::string>{"svc.example.test"}));
  EXPECT_EQ(csr->sans.ips, (std::vector<std::string>{"10.1.2.3", "::1"}));
  EXPECT_EQ(csr->sans.emails, (std::vector<std::string>{"ops@example.test"}));
  EXPECT_EQ(csr->sans.uris, (std::vector<std::string>{"spiffe://example.test/svc"}));
  EXPECT_TRUE(CheckCsrAgainstToken(csr.value(), "svc.example.test",
                                   {"svc.example.test", "10.1.2.3", "ops@example.test",
                                    "spiffe://example.test/svc", "::1"})
                  .ok());
  // Ed25519 CSRs are signed without a digest.
  auto ed = GenerateKey("OKP", "");
  auto ed_req = MakeCsr(ed->get(), "ed.example.test", {"ed.example.test"});
  ASSERT_TRUE(ed_req.ok());
  EXPECT_TRUE(ParseCsrPem(CsrToPem(ed_req->get())).ok());
}

TEST(CliSignFlow, RequestBody) {
  JsonPtr b = ParseJson(BuildSignBody("CSR", "TOKEN", "", ""));
  EXPECT_EQ(json_object_size(b.get()), 2u);
  EXPECT_STREQ(json_string_value(json_object_get(b.get(), "csr")), "CSR");
  EXPECT_STREQ(json_string_value(json_object_get(b.get(), "ott")), "TOKEN");
  JsonPtr b2 = ParseJson(BuildSignBody("CSR", "TOKEN", "1m", "5m"));
  EXPECT_STREQ(json_string_value(json_object_get(b2.get(), "notBefore")), "1m");
  EXPECT_STREQ(json_string_value(json_object_get(b2.get(), "notAfter")), "5m");
}

std::string ResponseBody(const std::string& raw) {
  size_t pos = raw.find("\r\n\r\n");
  return pos == std::string::npos ? "" : raw.substr(pos + 4);
}

TEST(CliSignFlow, ChainFromTheFixtureSignResponse) {
  JsonPtr resp = ParseJson(ResponseBody(FixtureFile("wire/sign-ok.response")));
  ASSERT_TRUE(resp);
  auto chain = ChainFromSignResponse(resp.get());
  ASSERT_TRUE(chain.ok());
  auto certs = ParseCertificatesPem(chain.value());
  ASSERT_TRUE(certs.ok());
  ASSERT_EQ(certs->size(), 2u);
  auto inter = ParseCertificatesPem(FixtureFile("pki/certs/intermediate_ca.crt"));
  EXPECT_EQ(X509_cmp(certs.value()[1].get(), inter.value()[0].get()), 0);
  // Without certChain: crt + ca.
  json_object_del(resp.get(), "certChain");
  auto chain2 = ChainFromSignResponse(resp.get());
  ASSERT_TRUE(chain2.ok());
  EXPECT_EQ(chain2.value(), chain.value());
  json_object_del(resp.get(), "crt");
  EXPECT_FALSE(ChainFromSignResponse(resp.get()).ok());
}

TEST(CliSignFlow, CaErrorsAsStepPrintsThem) {
  HttpResponse r;
  r.status = 401;
  r.body = ResponseBody(FixtureFile("wire/sign-replay.response"));
  Status st = CaError(r);
  EXPECT_EQ(st.code(), Code::kUnauthenticated);
  EXPECT_NE(st.message().find("The request lacked necessary authorization"), std::string::npos)
      << st.message();
  EXPECT_NE(st.message().find("401"), std::string::npos);
  r.status = 404;
  r.body = "404 page not found\n";
  EXPECT_EQ(CaError(r).message(), "404 page not found (status 404)");
  EXPECT_FALSE(JsonBody(r).ok());
}

TEST(CliHttp, RefusesPlainHttpAndNeedsARoot) {
  EXPECT_EQ(HttpGet("http://127.0.0.1:1/x", "/nonexistent").status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(HttpGet("https://127.0.0.1:1/x", "").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(NormalizeCaUrl("https://ca:9000//"), "https://ca:9000");
  EXPECT_EQ(EscapePathSegment("a b/c"), "a%20b%2Fc");
}

}  // namespace
}  // namespace cli
}  // namespace stepca
