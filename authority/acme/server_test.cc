// ACME end to end inside the library: Authority::Handle with an LMDB store
// in a temp dir, requests signed as clients sign them.
#include "authority/acme/server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <ctime>
#include <thread>

#include "authority/acme/jws.h"
#include "authority/api/router.h"
#include "authority/authority.h"
#include "authority/jose/jwk.h"
#include "authority/metrics.h"
#include "authority/state/acme_certificates.h"
#include "authority/state/acme_orders.h"
#include "authority/state/certificate_records.h"
#include "authority/state/revocations.h"
#include "authority/testing/fixture_pki.h"
#include "shared/base64.h"

namespace stepca {
namespace acme {
namespace {

using testing::FixturePki;
using testing::MakeKey;

constexpr const char* kHost = "127.0.0.1:9643";
const std::string kBase = "https://127.0.0.1:9643/acme/acme";

std::string Header(const HttpResponse& r, const std::string& name) {
  for (auto& h : r.headers)
    if (strcasecmp(h.first.c_str(), name.c_str()) == 0) return h.second;
  return "";
}

int HeaderCount(const HttpResponse& r, const std::string& name) {
  int n = 0;
  for (auto& h : r.headers) n += strcasecmp(h.first.c_str(), name.c_str()) == 0;
  return n;
}

JsonPtr Body(const HttpResponse& r) {
  json_error_t e;
  return JsonPtr(json_loadb(r.body.data(), r.body.size(), 0, &e));
}

std::string Str(const HttpResponse& r, const char* member) {
  JsonPtr b = Body(r);
  const json_t* v = json_object_get(b.get(), member);
  return json_is_string(v) ? json_string_value(v) : "";
}

std::string ProblemType(const HttpResponse& r) {
  std::string t = Str(r, "type");
  const std::string p = "urn:ietf:params:acme:error:";
  return t.rfind(p, 0) == 0 ? t.substr(p.size()) : t;
}

std::string JsonText(const json_t* j) {
  char* s = json_dumps(j, JSON_COMPACT);
  std::string o = s;
  free(s);
  return o;
}

std::string Path(const std::string& url) {
  return url.substr(std::string("https://").size() + std::string(kHost).size());
}

// The Authority's store, with writes refused (kUnavailable) where fail says.
class FaultyStore final : public Store {
 public:
  using Predicate = std::function<bool(std::string_view key, std::string_view value)>;
  FaultyStore(Store& inner, Predicate fail) : inner_(inner), fail_(std::move(fail)) {}
  Status OpenInProcess() override { return Status::Ok(); }
  void CloseInProcess() override {}
  Status PutIfAbsent(std::string_view k, std::string_view v, std::chrono::seconds t) override {
    return fail_(k, v) ? Down() : inner_.PutIfAbsent(k, v, t);
  }
  Status PutIfAllAbsent(const std::vector<StoreEntry>& entries, size_t* taken) override {
    for (const auto& e : entries)
      if (fail_(e.key, e.value)) return Down();
    return inner_.PutIfAllAbsent(entries, taken);
  }
  Status Put(std::string_view k, std::string_view v, std::chrono::seconds t) override {
    return fail_(k, v) ? Down() : inner_.Put(k, v, t);
  }
  Result<std::optional<std::string>> Get(std::string_view k) override { return inner_.Get(k); }
  Result<std::optional<std::string>> Take(std::string_view k) override { return inner_.Take(k); }
  Status CompareAndSwap(std::string_view k, const std::optional<std::string>& e, std::string_view d,
                        std::chrono::seconds t) override {
    return fail_(k, d) ? Down() : inner_.CompareAndSwap(k, e, d, t);
  }
  Status Delete(std::string_view k) override { return inner_.Delete(k); }
  std::string Kind() const override { return "faulty"; }
  Result<std::string> ServerIdentity() override { return inner_.ServerIdentity(); }
  std::atomic<int> refused{0};

 private:
  Status Down() {
    refused++;
    return Unavailable("store unavailable: test");
  }
  Store& inner_;
  Predicate fail_;
};

bool HasPrefix(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

class AcmeTest : public ::testing::Test {
 protected:
  void SetUp() override { Load(); }

  void Load(const AuthorityOptions* extra = nullptr) {
    authority_.reset();
    AuthorityOptions o{pki_.ca_json(), pki_.password_file(), pki_.store_uri(), "test"};
    if (extra != nullptr) {
      o.acme = extra->acme;
    }
    auto a = Authority::Load(o);
    ASSERT_TRUE(a.ok()) << a.status().LogText();
    authority_ = std::move(a).value();
    ASSERT_TRUE(authority_->InitProcess().ok());
    authority_->acme().SetValidatorForTesting([this](const ValidationTask& t) {
      validations_++;
      if (validation_delay_ms_) std::this_thread::sleep_for(std::chrono::milliseconds(validation_delay_ms_));
      return validator_ok_ ? Problem::Ok() : Unauthorized("test validator says no");
    });
    authority_->acme().SetRetryDelayForTesting(std::chrono::milliseconds(0));
  }

  void TearDown() override {
    if (authority_) authority_->ExitProcess();
  }

  HttpResponse Raw(const std::string& method, const std::string& path, const std::string& body = "",
                   const std::string& ct = "application/jose+json", const std::string& host = kHost) {
    HttpRequest r;
    r.method = method;
    r.path = path;
    r.host = host;
    r.scheme = "https";
    r.content_type = ct;
    r.body = body;
    return HandleHttp(*authority_, r);
  }

  std::string Nonce() { return Header(Raw("HEAD", "/acme/acme/new-nonce"), "Replay-Nonce"); }

  struct Client {
    EvpPkeyPtr key;
    std::string kid;
  };

  Client NewClient(const std::string& type = "P-256") {
    Client c{MakeKey(type), ""};
    return c;
  }

  JsonPtr JwkOf(EVP_PKEY* key) { return std::move(JwkToJson(key, false, "", "").value()); }

  // Signs payload for url. use_jwk: the key in the header instead of kid.
  std::string Sign(const Client& c, const std::string& url, const std::string& payload, bool use_jwk,
                   const std::string& nonce, json_t* extra = nullptr) {
    JsonPtr h(json_object());
    if (use_jwk) json_object_set_new(h.get(), "jwk", JwkOf(c.key.get()).release());
    else json_object_set_new(h.get(), "kid", json_string(c.kid.c_str()));
    json_object_set_new(h.get(), "nonce", json_string(nonce.c_str()));
    json_object_set_new(h.get(), "url", json_string(url.c_str()));
    if (extra != nullptr) json_object_update(h.get(), extra);
    return SignFlatJws(h.get(), payload, c.key.get()).value();
  }

  HttpResponse Post(const Client& c, const std::string& url, const std::string& payload,
                    bool use_jwk = false) {
    return Raw("POST", Path(url), Sign(c, url, payload, use_jwk, Nonce()));
  }

  Client Register(const std::string& type = "P-256") {
    Client c = NewClient(type);
    auto r = Post(c, kBase + "/new-account", R"({"termsOfServiceAgreed":true,"contact":["mailto:a@example.test"]})", true);
    EXPECT_EQ(r.status, 201) << r.body;
    c.kid = Header(r, "Location");
    return c;
  }

  HttpResponse NewOrder(const Client& c, const std::string& ids_json) {
    return Post(c, kBase + "/new-order", R"({"identifiers":)" + ids_json + "}");
  }

  std::vector<std::string> Authzs(const HttpResponse& order) {
    std::vector<std::string> out;
    JsonPtr b = Body(order);
    size_t i;
    json_t* v;
    json_array_foreach(json_object_get(b.get(), "authorizations"), i, v) out.push_back(json_string_value(v));
    return out;
  }

  std::string ChallengeUrl(const Client& c, const std::string& authz, const std::string& type) {
    auto r = Post(c, authz, "");
    JsonPtr b = Body(r);
    size_t i;
    json_t* v;
    json_array_foreach(json_object_get(b.get(), "challenges"), i, v) {
      if (type == json_string_value(json_object_get(v, "type")))
        return json_string_value(json_object_get(v, "url"));
    }
    return "";
  }

  // Polls (bounded) until the authz leaves pending.
  std::string WaitAuthz(const Client& c, const std::string& authz) {
    for (int i = 0; i < 500; ++i) {
      std::string s = Str(Post(c, authz, ""), "status");
      if (s != "pending") return s;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return "timeout";
  }

  // An order for names, validated: returns the order URL.
  std::string ReadyOrder(const Client& c, const std::string& ids_json) {
    auto o = NewOrder(c, ids_json);
    EXPECT_EQ(o.status, 201) << o.body;
    for (auto& az : Authzs(o)) {
      auto ch = Post(c, ChallengeUrl(c, az, "http-01"), "{}");
      EXPECT_EQ(ch.status, 200) << ch.body;
      EXPECT_EQ(WaitAuthz(c, az), "valid");
    }
    return Header(o, "Location");
  }

  static std::string CsrB64(const std::string& cn, const std::vector<std::string>& dns,
                            const std::string& keytype = "P-256") {
    std::string pem = testing::MakeCsrPem(cn, dns, keytype);
    BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    X509ReqPtr req(PEM_read_bio_X509_REQ(bio.get(), nullptr, nullptr, nullptr));
    unsigned char* der = nullptr;
    int n = i2d_X509_REQ(req.get(), &der);
    std::string out = Base64UrlEncode(std::string(reinterpret_cast<char*>(der), n));
    OPENSSL_free(der);
    return out;
  }

  HttpResponse Finalize(const Client& c, const std::string& order_url, const std::string& csr) {
    return Post(c, order_url + "/finalize", R"({"csr":")" + csr + R"("})");
  }

  FixturePki pki_;
  std::unique_ptr<Authority> authority_;
  std::atomic<int> validations_{0};
  std::atomic<bool> validator_ok_{true};
  int validation_delay_ms_ = 0;
};

// ---------------------------------------------------------------- directory, nonces

TEST_F(AcmeTest, DirectoryListsResources) {
  auto r = Raw("GET", "/acme/acme/directory");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "application/json");
  EXPECT_EQ(Str(r, "newNonce"), kBase + "/new-nonce");
  EXPECT_EQ(Str(r, "newAccount"), kBase + "/new-account");
  EXPECT_EQ(Str(r, "newOrder"), kBase + "/new-order");
  EXPECT_EQ(Str(r, "revokeCert"), kBase + "/revoke-cert");
  EXPECT_EQ(Str(r, "keyChange"), kBase + "/key-change");
  JsonPtr b = Body(r);
  EXPECT_TRUE(json_is_object(json_object_get(b.get(), "meta")));
  EXPECT_FALSE(Header(r, "Replay-Nonce").empty());
  EXPECT_EQ(Header(r, "Cache-Control"), "no-store");
  EXPECT_EQ(Header(r, "Link"), "<" + kBase + "/directory>;rel=\"index\"");
  // The same routes under /2.0/acme.
  auto r2 = Raw("GET", "/2.0/acme/acme/directory");
  EXPECT_EQ(Str(r2, "newNonce"), "https://127.0.0.1:9643/2.0/acme/acme/new-nonce");
}

TEST_F(AcmeTest, UnknownProvisionerIs404LikeStepCa) {
  auto r = Raw("GET", "/acme/nope/directory");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, "{\"type\":\"notFound\",\"detail\":\"resource not found\",\"message\":\"provisioner nope not found\"}\n");
  // A provisioner that is not ACME is not an ACME endpoint.
  EXPECT_EQ(Raw("GET", "/acme/fixture@example.test/directory").status, 404);
}

TEST_F(AcmeTest, HostOutsideDnsNamesIsNotEchoed) {
  auto r = Raw("GET", "/acme/acme/directory", "", "", "evil.example:443");
  EXPECT_EQ(Str(r, "newNonce"), "https://localhost/acme/acme/new-nonce");
  r = Raw("GET", "/acme/acme/directory", "", "", "LOCALHOST:8443");
  EXPECT_EQ(Str(r, "newNonce"), "https://LOCALHOST:8443/acme/acme/new-nonce");
  r = Raw("GET", "/acme/acme/directory", "", "", "localhost:x");
  EXPECT_EQ(Str(r, "newNonce"), "https://localhost/acme/acme/new-nonce");
}

TEST_F(AcmeTest, ConfiguredBaseUrlWins) {
  AuthorityOptions o;
  o.acme.base_url = "https://ca.example.test:8443/";
  Load(&o);
  auto r = Raw("GET", "/acme/acme/directory");
  EXPECT_EQ(Str(r, "newNonce"), "https://ca.example.test:8443/acme/acme/new-nonce");
}

TEST_F(AcmeTest, NewNonceHeadAndGet) {
  auto h = Raw("HEAD", "/acme/acme/new-nonce");
  EXPECT_EQ(h.status, 200);
  auto g = Raw("GET", "/acme/acme/new-nonce");
  EXPECT_EQ(g.status, 204);
  EXPECT_EQ(Header(g, "Replay-Nonce").size(), 43u);
  EXPECT_NE(Header(g, "Replay-Nonce"), Header(h, "Replay-Nonce"));
  EXPECT_EQ(Raw("POST", "/acme/acme/new-nonce").status, 405);
}

// ---------------------------------------------------------------- JWS rules

TEST_F(AcmeTest, NonceRedeemsExactlyOnce) {
  Client c = NewClient();
  const std::string n = Nonce();
  const std::string url = kBase + "/new-account";
  auto ok = Raw("POST", Path(url), Sign(c, url, "{}", true, n));
  EXPECT_EQ(ok.status, 201) << ok.body;
  auto replay = Raw("POST", Path(url), Sign(c, url, "{}", true, n));
  EXPECT_EQ(replay.status, 400);
  EXPECT_EQ(ProblemType(replay), "badNonce");
  EXPECT_EQ(replay.content_type, "application/problem+json");
  EXPECT_EQ(Header(replay, "Replay-Nonce").size(), 43u);  // a fresh one to retry with
}

TEST_F(AcmeTest, MissingOrForeignNonceIsBadNonce) {
  Client c = NewClient();
  const std::string url = kBase + "/new-account";
  EXPECT_EQ(ProblemType(Raw("POST", Path(url), Sign(c, url, "{}", true, ""))), "badNonce");
  EXPECT_EQ(ProblemType(Raw("POST", Path(url), Sign(c, url, "{}", true, "bm90LWEtbm9uY2U"))), "badNonce");
  JsonPtr h(json_pack("{s:o,s:s}", "jwk", JwkOf(c.key.get()).release(), "url", url.c_str()));
  auto r = Raw("POST", Path(url), SignFlatJws(h.get(), "{}", c.key.get()).value());
  EXPECT_EQ(ProblemType(r), "badNonce");
}

TEST_F(AcmeTest, ForgedSignatureDoesNotBurnTheNonce) {
  Client c = NewClient();
  Client other = NewClient();
  const std::string n = Nonce();
  const std::string url = kBase + "/new-account";
  // Header names c's key, signature by another key.
  JsonPtr h(json_pack("{s:s,s:o,s:s,s:s}", "alg", "ES256", "jwk", JwkOf(c.key.get()).release(),
                      "nonce", n.c_str(), "url", url.c_str()));
  auto forged = Raw("POST", Path(url), SignFlatJws(h.get(), "{}", other.key.get()).value());
  EXPECT_EQ(forged.status, 400);
  EXPECT_EQ(ProblemType(forged), "malformed");
  EXPECT_EQ(Raw("POST", Path(url), Sign(c, url, "{}", true, n)).status, 201);
}

TEST_F(AcmeTest, AlgorithmRules) {
  Client c = NewClient();
  const std::string url = kBase + "/new-account";
  for (const char* alg : {"none", "HS256", "ES384", "RS256", "ES256K"}) {
    JsonPtr extra(json_pack("{s:s}", "alg", alg));
    // Hand-build: protected header with the alg, signature by the P-256 key.
    JsonPtr h(json_pack("{s:s,s:o,s:s,s:s}", "alg", alg, "jwk", JwkOf(c.key.get()).release(),
                        "nonce", Nonce().c_str(), "url", url.c_str()));
    std::string prot = Base64UrlEncode(JsonText(h.get()));
    std::string pay = Base64UrlEncode("{}");
    auto r = Raw("POST", Path(url), FlatJwsText(prot, pay, std::string(64, 'x')));
    EXPECT_EQ(ProblemType(r), "badSignatureAlgorithm") << alg;
  }
}

TEST_F(AcmeTest, EveryAcmeKeyTypeRegisters) {
  for (const char* t : {"P-256", "P-384", "P-521", "RSA-2048", "ED25519"}) {
    Client c = NewClient(t);
    auto r = Post(c, kBase + "/new-account", "{}", true);
    EXPECT_EQ(r.status, 201) << t << " " << r.body;
  }
  // RSA-PSS with an RSA key.
  Client c = NewClient("RSA-2048");
  JsonPtr extra(json_pack("{s:s}", "alg", "PS256"));
  const std::string url = kBase + "/new-account";
  EXPECT_EQ(Raw("POST", Path(url), Sign(c, url, "{}", true, Nonce(), extra.get())).status, 201);
}

TEST_F(AcmeTest, KeyHeaderRules) {
  Client c = Register();
  const std::string acct_url = kBase + "/new-account";
  // Both jwk and kid.
  JsonPtr both(json_pack("{s:s}", "kid", c.kid.c_str()));
  auto r = Raw("POST", Path(acct_url), Sign(c, acct_url, "{}", true, Nonce(), both.get()));
  EXPECT_EQ(ProblemType(r), "malformed");
  // Neither.
  JsonPtr h(json_pack("{s:s,s:s}", "nonce", Nonce().c_str(), "url", acct_url.c_str()));
  r = Raw("POST", Path(acct_url), SignFlatJws(h.get(), "{}", c.key.get()).value());
  EXPECT_EQ(ProblemType(r), "malformed");
  // kid where jwk is required, jwk where kid is required.
  r = Raw("POST", Path(acct_url), Sign(c, acct_url, "{}", false, Nonce()));
  EXPECT_EQ(ProblemType(r), "malformed");
  const std::string order_url = kBase + "/new-order";
  r = Raw("POST", Path(order_url), Sign(c, order_url, R"({"identifiers":[{"type":"dns","value":"a.test"}]})", true, Nonce()));
  EXPECT_EQ(ProblemType(r), "malformed");
}

TEST_F(AcmeTest, UrlMustMatchTheRequest) {
  Client c = NewClient();
  auto r = Raw("POST", "/acme/acme/new-account", Sign(c, kBase + "/new-order", "{}", true, Nonce()));
  EXPECT_EQ(ProblemType(r), "unauthorized");
  r = Raw("POST", "/acme/acme/new-account",
          Sign(c, "https://evil.test/acme/acme/new-account", "{}", true, Nonce()));
  EXPECT_EQ(ProblemType(r), "unauthorized");
}

TEST_F(AcmeTest, UnknownKidIsAccountDoesNotExist) {
  Client c = NewClient();
  c.kid = kBase + "/account/doesnotexist";
  EXPECT_EQ(ProblemType(NewOrder(c, R"([{"type":"dns","value":"a.test"}])")), "accountDoesNotExist");
  c.kid = "https://other.test/acme/acme/account/x";
  EXPECT_EQ(ProblemType(NewOrder(c, R"([{"type":"dns","value":"a.test"}])")), "accountDoesNotExist");
}

TEST_F(AcmeTest, KidSignedByAnotherKeyIsRejected) {
  Client a = Register();
  Client b = NewClient();
  b.kid = a.kid;  // b claims a's account
  auto r = NewOrder(b, R"([{"type":"dns","value":"a.test"}])");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(ProblemType(r), "malformed");
}

TEST_F(AcmeTest, StructureRules) {
  Client c = NewClient();
  const std::string url = kBase + "/new-account";
  std::string good = Sign(c, url, "{}", true, Nonce());
  // Unprotected header.
  JsonPtr j(json_loads(good.c_str(), 0, nullptr));
  json_object_set_new(j.get(), "header", json_pack("{s:s}", "kid", "x"));
  EXPECT_EQ(ProblemType(Raw("POST", Path(url), JsonText(j.get()))), "malformed");
  // General serialization.
  EXPECT_EQ(ProblemType(Raw("POST", Path(url), R"({"payload":"e30","signatures":[]})")), "malformed");
  // Not base64url.
  json_object_del(j.get(), "header");
  json_object_set_new(j.get(), "payload", json_string("e30="));
  EXPECT_EQ(ProblemType(Raw("POST", Path(url), JsonText(j.get()))), "malformed");
  // Not JSON; wrong content type.
  EXPECT_EQ(ProblemType(Raw("POST", Path(url), "nope")), "malformed");
  auto r = Raw("POST", Path(url), Sign(c, url, "{}", true, Nonce()), "application/json");
  EXPECT_EQ(r.status, 415);
  // GET on a POST resource.
  EXPECT_EQ(Raw("GET", Path(url)).status, 405);
}

// fuzz_http finding: a POST without Content-Type reaches the check with an
// empty view whose data() is null (what the module passes for an absent
// header); it must be refused as 415 without touching that pointer.
TEST_F(AcmeTest, PostWithoutContentTypeIs415) {
  for (std::string_view ct : {std::string_view(), std::string_view("application/jose+jso"),
                              std::string_view("application/jose+json-x")}) {
    HttpRequest r;
    r.method = "POST";
    r.path = "/acme/acme/new-account";
    r.host = kHost;
    r.scheme = "https";
    r.content_type = ct;
    r.body = "{}";
    auto resp = HandleHttp(*authority_, r);
    EXPECT_EQ(resp.status, 415) << ct;
    EXPECT_EQ(ProblemType(resp), "malformed");
  }
  // Case does not matter, parameters do not either.
  auto ok = Raw("POST", "/acme/acme/new-account", "nope", "Application/JOSE+JSON; charset=utf-8");
  EXPECT_EQ(ok.status, 400);
}

// Every refusal leaves one log line with the request id, as /sign does.
TEST_F(AcmeTest, EveryClientErrorIsLoggedWithTheRequestId) {
  HttpRequest r;
  r.method = "POST";
  r.path = "/acme/acme/new-account";
  r.host = kHost;
  r.scheme = "https";
  r.content_type = "application/jose+json";
  r.body = "nope";
  r.request_id = "req-4xx-1";
  auto bad = HandleHttp(*authority_, r);
  ASSERT_EQ(bad.status, 400);
  EXPECT_NE(bad.log_level, LogLevel::kNone);
  EXPECT_NE(bad.log_message.find("request-id=req-4xx-1"), std::string::npos) << bad.log_message;
  EXPECT_NE(bad.log_message.find("malformed"), std::string::npos) << bad.log_message;
  // 404 and 405 too.
  r.path = "/acme/acme/nowhere";
  auto nf = HandleHttp(*authority_, r);
  ASSERT_EQ(nf.status, 404);
  EXPECT_NE(nf.log_message.find("request-id=req-4xx-1"), std::string::npos) << nf.log_message;
  r.method = "GET";
  r.path = "/acme/acme/new-order";
  auto na = HandleHttp(*authority_, r);
  ASSERT_EQ(na.status, 405);
  EXPECT_NE(na.log_message.find("request-id=req-4xx-1"), std::string::npos) << na.log_message;
  // A success of a read-only resource stays quiet.
  r.path = "/acme/acme/directory";
  auto dir = HandleHttp(*authority_, r);
  ASSERT_EQ(dir.status, 200);
  EXPECT_EQ(dir.log_message, "");
}

// ---------------------------------------------------------------- accounts

TEST_F(AcmeTest, AccountLifecycle) {
  Client c = NewClient();
  auto r = Post(c, kBase + "/new-account", R"({"onlyReturnExisting":true})", true);
  EXPECT_EQ(ProblemType(r), "accountDoesNotExist");
  r = Post(c, kBase + "/new-account", R"({"contact":["mailto:ops@example.test"]})", true);
  ASSERT_EQ(r.status, 201);
  c.kid = Header(r, "Location");
  EXPECT_EQ(c.kid.rfind(kBase + "/account/", 0), 0u);
  EXPECT_EQ(Str(r, "status"), "valid");
  // Same key again: 200, same account.
  r = Post(c, kBase + "/new-account", "{}", true);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(Header(r, "Location"), c.kid);
  r = Post(c, kBase + "/new-account", R"({"onlyReturnExisting":true})", true);
  EXPECT_EQ(r.status, 200);
  // Bad contacts.
  Client d = NewClient();
  EXPECT_EQ(ProblemType(Post(d, kBase + "/new-account", R"({"contact":["tel:+1"]})", true)), "unsupportedContact");
  EXPECT_EQ(ProblemType(Post(d, kBase + "/new-account", R"({"contact":["mailto:no"]})", true)), "invalidContact");
  // Read and update.
  r = Post(c, c.kid, "");
  EXPECT_EQ(r.status, 200);
  r = Post(c, c.kid, R"({"contact":["mailto:new@example.test"]})");
  EXPECT_EQ(r.status, 200);
  JsonPtr b = Body(r);
  EXPECT_STREQ(json_string_value(json_array_get(json_object_get(b.get(), "contact"), 0)), "mailto:new@example.test");
  EXPECT_EQ(ProblemType(Post(c, c.kid, R"({"status":"revoked"})")), "malformed");
  // Another account's URL.
  Client e = Register();
  EXPECT_EQ(ProblemType(Post(e, c.kid, "")), "unauthorized");
  // Deactivate: then nothing works for this account.
  r = Post(c, c.kid, R"({"status":"deactivated"})");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(Str(r, "status"), "deactivated");
  EXPECT_EQ(ProblemType(NewOrder(c, R"([{"type":"dns","value":"a.test"}])")), "unauthorized");
  EXPECT_EQ(ProblemType(Post(c, kBase + "/new-account", "{}", true)), "unauthorized");
}

TEST_F(AcmeTest, KeyChange) {
  Client c = Register();
  Client fresh = NewClient("P-384");
  const std::string url = kBase + "/key-change";
  JsonPtr inner_payload(json_pack("{s:s,s:o}", "account", c.kid.c_str(), "oldKey", JwkOf(c.key.get()).release()));
  JsonPtr ih(json_pack("{s:o,s:s}", "jwk", JwkOf(fresh.key.get()).release(), "url", url.c_str()));
  std::string inner = SignFlatJws(ih.get(), JsonText(inner_payload.get()), fresh.key.get()).value();
  auto r = Post(c, url, inner);
  ASSERT_EQ(r.status, 200) << r.body;
  // The old key no longer signs for the account (a P-256 signature for a
  // P-384 account key: the algorithm no longer fits); the new one does.
  EXPECT_EQ(ProblemType(NewOrder(c, R"([{"type":"dns","value":"a.test"}])")), "badSignatureAlgorithm");
  fresh.kid = c.kid;
  EXPECT_EQ(NewOrder(fresh, R"([{"type":"dns","value":"a.test"}])").status, 201);
  // new-account with the new key finds the same account.
  EXPECT_EQ(Header(Post(fresh, kBase + "/new-account", "{}", true), "Location"), c.kid);
  // A key already used by another account: 409.
  Client other = Register();
  JsonPtr p2(json_pack("{s:s,s:o}", "account", fresh.kid.c_str(), "oldKey", JwkOf(fresh.key.get()).release()));
  JsonPtr h2(json_pack("{s:o,s:s}", "jwk", JwkOf(other.key.get()).release(), "url", url.c_str()));
  r = Post(fresh, url, SignFlatJws(h2.get(), JsonText(p2.get()), other.key.get()).value());
  EXPECT_EQ(r.status, 409);
  // Inner url mismatch, wrong oldKey.
  Client k3 = NewClient();
  JsonPtr h3(json_pack("{s:o,s:s}", "jwk", JwkOf(k3.key.get()).release(), "url", (kBase + "/x").c_str()));
  r = Post(fresh, url, SignFlatJws(h3.get(), JsonText(p2.get()), k3.key.get()).value());
  EXPECT_EQ(ProblemType(r), "malformed");
  JsonPtr p4(json_pack("{s:s,s:o}", "account", fresh.kid.c_str(), "oldKey", JwkOf(k3.key.get()).release()));
  JsonPtr h4(json_pack("{s:o,s:s}", "jwk", JwkOf(k3.key.get()).release(), "url", url.c_str()));
  r = Post(fresh, url, SignFlatJws(h4.get(), JsonText(p4.get()), k3.key.get()).value());
  EXPECT_EQ(ProblemType(r), "unauthorized");
}

TEST_F(AcmeTest, ExternalAccountBinding) {
  const std::string hmac = "0123456789abcdef0123456789abcdef";
  pki_.EditCaJson([&](json_t* root) {
    json_t* p = json_array_get(json_object_get(json_object_get(root, "authority"), "provisioners"), 1);
    json_object_set_new(p, "requireEAB", json_true());
    json_object_set_new(p, "nginxStepca", json_pack("{s:{s:s}}", "eabKeys", "kid-1",
                                                     Base64UrlEncode(hmac).c_str()));
  });
  Load();
  JsonPtr d = Body(Raw("GET", "/acme/acme/directory"));
  EXPECT_TRUE(json_is_true(json_object_get(json_object_get(d.get(), "meta"), "externalAccountRequired")));
  const std::string url = kBase + "/new-account";
  auto eab = [&](const Client& c, const std::string& kid, const std::string& key, const std::string& u) {
    JsonPtr h(json_pack("{s:s,s:s,s:s}", "alg", "HS256", "kid", kid.c_str(), "url", u.c_str()));
    std::string prot = Base64UrlEncode(JsonText(h.get()));
    std::string pay = Base64UrlEncode(JsonText(JwkOf(c.key.get()).get()));
    std::string sig = HmacSign("HS256", key, prot + "." + pay);
    return "{\"externalAccountBinding\":" + FlatJwsText(prot, pay, sig) + "}";
  };
  Client c = NewClient();
  EXPECT_EQ(ProblemType(Post(c, url, "{}", true)), "externalAccountRequired");
  EXPECT_EQ(ProblemType(Post(c, url, eab(c, "kid-1", "wrong-key-wrong-key-wrong-key!!", url), true)), "unauthorized");
  EXPECT_EQ(ProblemType(Post(c, url, eab(c, "kid-2", hmac, url), true)), "unauthorized");
  EXPECT_EQ(ProblemType(Post(c, url, eab(c, "kid-1", hmac, kBase + "/other"), true)), "unauthorized");
  Client other = NewClient();
  EXPECT_EQ(ProblemType(Post(c, url, eab(other, "kid-1", hmac, url), true)), "unauthorized");
  EXPECT_EQ(Post(c, url, eab(c, "kid-1", hmac, url), true).status, 201);
  // Bound once.
  Client d2 = NewClient();
  EXPECT_EQ(ProblemType(Post(d2, url, eab(d2, "kid-1", hmac, url), true)), "unauthorized");
}

// ---------------------------------------------------------------- orders

TEST_F(AcmeTest, IdentifierRules) {
  Client c = Register();
  EXPECT_EQ(ProblemType(NewOrder(c, R"([])")), "malformed");
  EXPECT_EQ(ProblemType(NewOrder(c, R"([{"type":"dns","value":"bad_name!"}])")), "rejectedIdentifier");
  EXPECT_EQ(ProblemType(NewOrder(c, R"([{"type":"dns","value":"127.0.0.1"}])")), "rejectedIdentifier");
  EXPECT_EQ(ProblemType(NewOrder(c, R"([{"type":"ip","value":"300.1.1.1"}])")), "rejectedIdentifier");
  EXPECT_EQ(ProblemType(NewOrder(c, R"([{"type":"email","value":"a@b.test"}])")), "unsupportedIdentifier");
  EXPECT_EQ(ProblemType(Post(c, kBase + "/new-order", R"({"identifiers":[{"type":"dns","value":"a.test"}],"notBefore":"yesterday"})")), "malformed");
  auto r = NewOrder(c, R"([{"type":"dns","value":"A.Test"},{"type":"ip","value":"2001:db8:0::1"},{"type":"dns","value":"*.w.test"}])");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(Str(r, "status"), "pending");
  JsonPtr b = Body(r);
  json_t* ids = json_object_get(b.get(), "identifiers");
  EXPECT_STREQ(json_string_value(json_object_get(json_array_get(ids, 0), "value")), "a.test");
  EXPECT_STREQ(json_string_value(json_object_get(json_array_get(ids, 1), "value")), "2001:db8::1");
  auto azs = Authzs(r);
  ASSERT_EQ(azs.size(), 3u);
  // Wildcards: dns-01 only, identifier without "*.".
  auto w = Post(c, azs[2], "");
  JsonPtr wb = Body(w);
  EXPECT_TRUE(json_is_true(json_object_get(wb.get(), "wildcard")));
  EXPECT_STREQ(json_string_value(json_object_get(json_object_get(wb.get(), "identifier"), "value")), "w.test");
  EXPECT_EQ(json_array_size(json_object_get(wb.get(), "challenges")), 1u);
  // IP: http-01 and tls-alpn-01.
  JsonPtr ib = Body(Post(c, azs[1], ""));
  EXPECT_EQ(json_array_size(json_object_get(ib.get(), "challenges")), 2u);
}

// step 0.19 sends Go's zero time for a lifetime it was not asked for.
TEST_F(AcmeTest, GoZeroTimeMeansNotSet) {
  Client c = Register();
  const std::string ids = R"({"identifiers":[{"type":"dns","value":"zero.test"}],)";
  const std::string zero = "0001-01-01T00:00:00Z";
  auto both = Post(c, kBase + "/new-order",
                   ids + R"("notBefore":")" + zero + R"(","notAfter":")" + zero + R"("})");
  ASSERT_EQ(both.status, 201) << both.body;
  JsonPtr bb = Body(both);
  EXPECT_EQ(json_object_get(bb.get(), "notBefore"), nullptr);
  EXPECT_EQ(json_object_get(bb.get(), "notAfter"), nullptr);

  // `--not-after 2h`: a real notAfter beside a zero notBefore; the leaf gets it
  const TimePoint want = std::chrono::time_point_cast<std::chrono::seconds>(
      Clock::now() + std::chrono::hours(2));
  const std::string not_after = FormatRfc3339(want);
  auto o = Post(c, kBase + "/new-order",
                ids + R"("notBefore":")" + zero + R"(","notAfter":")" + not_after + R"("})");
  ASSERT_EQ(o.status, 201) << o.body;
  EXPECT_EQ(Str(o, "notAfter"), not_after);
  JsonPtr ob = Body(o);
  EXPECT_EQ(json_object_get(ob.get(), "notBefore"), nullptr);
  for (auto& az : Authzs(o)) {
    ASSERT_EQ(Post(c, ChallengeUrl(c, az, "http-01"), "{}").status, 200);
    ASSERT_EQ(WaitAuthz(c, az), "valid");
  }
  auto fin = Finalize(c, Header(o, "Location"), CsrB64("zero.test", {"zero.test"}));
  ASSERT_EQ(fin.status, 200) << fin.body;
  auto cert = Post(c, Str(fin, "certificate"), "");
  BioPtr bio(BIO_new_mem_buf(cert.body.data(), static_cast<int>(cert.body.size())));
  X509Ptr leaf(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  ASSERT_TRUE(leaf);
  struct tm tm {};
  ASSERT_EQ(ASN1_TIME_to_tm(X509_get0_notAfter(leaf.get()), &tm), 1);
  EXPECT_EQ(timegm(&tm), std::chrono::duration_cast<std::chrono::seconds>(
                             want.time_since_epoch()).count());

  // Only the exact zero value means "not set": another year-1 time is not one
  EXPECT_EQ(ProblemType(Post(c, kBase + "/new-order",
                             ids + R"("notBefore":"0001-01-01T00:00:01Z"})")), "malformed");
}

// step-ca's forceCN: a CSR without a common name gets the first DNS name
// of the sorted, lower-cased list (step-ca canonicalizes the CSR's names
// before it applies forceCN); without forceCN the subject stays empty, and
// a CN the CSR gives is kept.
TEST_F(AcmeTest, ForceCnFillsAnEmptyCommonName) {
  auto issue = [&](const std::string& cn) {
    Client c = Register();
    auto o = NewOrder(c, R"([{"type":"dns","value":"b.force.test"},{"type":"dns","value":"a.force.test"}])");
    EXPECT_EQ(o.status, 201) << o.body;
    for (auto& az : Authzs(o)) {
      EXPECT_EQ(Post(c, ChallengeUrl(c, az, "http-01"), "{}").status, 200);
      EXPECT_EQ(WaitAuthz(c, az), "valid");
    }
    auto fin = Finalize(c, Header(o, "Location"), CsrB64(cn, {"b.force.test", "a.force.test"}));
    EXPECT_EQ(fin.status, 200) << fin.body;
    auto cert = Post(c, Str(fin, "certificate"), "");
    BioPtr bio(BIO_new_mem_buf(cert.body.data(), static_cast<int>(cert.body.size())));
    X509Ptr leaf(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    EXPECT_TRUE(leaf);
    char buf[256] = {0};
    if (leaf)
      X509_NAME_get_text_by_NID(X509_get_subject_name(leaf.get()), NID_commonName, buf, sizeof buf);
    return std::string(buf);
  };
  EXPECT_EQ(issue(""), "");
  pki_.EditCaJson([&](json_t* root) {
    json_t* p = json_array_get(json_object_get(json_object_get(root, "authority"), "provisioners"), 1);
    json_object_set_new(p, "forceCN", json_true());
  });
  Load();
  EXPECT_EQ(issue(""), "a.force.test");
  EXPECT_EQ(issue("b.force.test"), "b.force.test");
}

// A lifetime the provisioner does not allow is refused at new-order, with
// the limit in the problem, and no order is made.
TEST_F(AcmeTest, NewOrderLifetimeBeyondTheProvisionerIsRefused) {
  Client c = Register();
  const std::string ids = R"({"identifiers":[{"type":"dns","value":"long.test"}],)";
  const std::string far = FormatRfc3339(Clock::now() + std::chrono::hours(1000));
  auto o = Post(c, kBase + "/new-order", ids + R"("notAfter":")" + far + R"("})");
  EXPECT_EQ(o.status, 400) << o.body;
  EXPECT_EQ(ProblemType(o), "malformed");
  const std::string detail = Str(o, "detail");
  EXPECT_NE(detail.find("authorized maximum certificate duration of 24h"), std::string::npos) << detail;
  EXPECT_EQ(Header(o, "Location"), "");
  // A notAfter in the past, and a too short one, are refused too.
  const std::string past = FormatRfc3339(Clock::now() - std::chrono::hours(1));
  EXPECT_EQ(Post(c, kBase + "/new-order", ids + R"("notAfter":")" + past + R"("})").status, 400);
  const std::string soon = FormatRfc3339(Clock::now() + std::chrono::seconds(30));
  auto s = Post(c, kBase + "/new-order", ids + R"("notAfter":")" + soon + R"("})");
  EXPECT_EQ(s.status, 400);
  EXPECT_NE(Str(s, "detail").find("minimum"), std::string::npos) << s.body;
  // Within the limit (with a notBefore ahead) it is an order.
  const std::string nb = FormatRfc3339(Clock::now() + std::chrono::hours(1));
  const std::string na = FormatRfc3339(Clock::now() + std::chrono::hours(20));
  EXPECT_EQ(Post(c, kBase + "/new-order",
                 ids + R"("notBefore":")" + nb + R"(","notAfter":")" + na + R"("})").status, 201);
}

TEST_F(AcmeTest, FullFlowIssuesAndDownloads) {
  Client c = Register();
  auto o = NewOrder(c, R"([{"type":"dns","value":"www.example.test"},{"type":"ip","value":"192.0.2.7"}])");
  ASSERT_EQ(o.status, 201);
  const std::string order_url = Header(o, "Location");
  // Not ready: finalize is refused with 403 orderNotReady.
  auto early = Finalize(c, order_url, CsrB64("www.example.test", {"www.example.test"}));
  EXPECT_EQ(early.status, 403);
  EXPECT_EQ(ProblemType(early), "orderNotReady");
  for (auto& az : Authzs(o)) {
    const std::string ch = ChallengeUrl(c, az, "http-01");
    auto r = Post(c, ch, "{}");
    EXPECT_EQ(r.status, 200);
    EXPECT_TRUE(Str(r, "status") == "processing" || Str(r, "status") == "valid");
    EXPECT_EQ(HeaderCount(r, "Link"), 2);  // up + index
    EXPECT_EQ(WaitAuthz(c, az), "valid");
    auto again = Post(c, ch, "");
    EXPECT_EQ(Str(again, "status"), "valid");
    EXPECT_FALSE(Str(again, "validated").empty());
  }
  EXPECT_EQ(Str(Post(c, order_url, ""), "status"), "ready");
  // The CSR must carry exactly the order's names.
  EXPECT_EQ(ProblemType(Finalize(c, order_url, CsrB64("www.example.test", {"www.example.test"}))), "badCSR");
  EXPECT_EQ(ProblemType(Finalize(c, order_url, CsrB64("", {"www.example.test", "other.test"}))), "badCSR");
  EXPECT_EQ(ProblemType(Finalize(c, order_url, CsrB64("", {"www.example.test"}, "RSA-1024"))), "badCSR");
  EXPECT_EQ(ProblemType(Finalize(c, order_url, "!!!")), "badCSR");
  // A CSR with both names (IP SAN added by hand).
  EvpPkeyPtr key = MakeKey("P-256");
  X509ReqPtr req(X509_REQ_new());
  X509_REQ_set_pubkey(req.get(), key.get());
  STACK_OF(X509_EXTENSION)* exts = sk_X509_EXTENSION_new_null();
  sk_X509_EXTENSION_push(exts, X509V3_EXT_conf_nid(nullptr, nullptr, NID_subject_alt_name,
                                                   "DNS:www.example.test,IP:192.0.2.7"));
  X509_REQ_add_extensions(req.get(), exts);
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  X509_REQ_sign(req.get(), key.get(), EVP_sha256());
  unsigned char* der = nullptr;
  int n = i2d_X509_REQ(req.get(), &der);
  std::string csr = Base64UrlEncode(std::string(reinterpret_cast<char*>(der), n));
  OPENSSL_free(der);
  auto fin = Finalize(c, order_url, csr);
  ASSERT_EQ(fin.status, 200) << fin.body;
  EXPECT_EQ(Str(fin, "status"), "valid");
  const std::string cert_url = Str(fin, "certificate");
  ASSERT_FALSE(cert_url.empty());
  // Finalizing again: not ready.
  EXPECT_EQ(ProblemType(Finalize(c, order_url, csr)), "orderNotReady");
  auto cert = Post(c, cert_url, "");
  ASSERT_EQ(cert.status, 200);
  EXPECT_EQ(cert.content_type, "application/pem-certificate-chain");
  EXPECT_EQ(cert.body.find("-----BEGIN CERTIFICATE-----"), 0u);
  BioPtr bio(BIO_new_mem_buf(cert.body.data(), static_cast<int>(cert.body.size())));
  X509Ptr leaf(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  ASSERT_TRUE(leaf);
  EXPECT_EQ(X509_check_host(leaf.get(), "www.example.test", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_ip_asc(leaf.get(), "192.0.2.7", 0), 1);
  // Recorded like /sign records.
  auto rec = CertificateRecords(authority_->store()).Find(SerialDecimal(leaf.get()));
  ASSERT_TRUE(rec.ok());
  ASSERT_TRUE(rec->has_value());
  EXPECT_EQ((*rec)->state, CertificateState::kIssued);
  // Another account sees neither the order nor the certificate.
  Client other = Register();
  EXPECT_EQ(ProblemType(Post(other, order_url, "")), "unauthorized");
  EXPECT_EQ(ProblemType(Post(other, cert_url, "")), "unauthorized");
  // POST-as-GET means an empty payload.
  EXPECT_EQ(ProblemType(Post(c, cert_url, "{}")), "malformed");
}

TEST_F(AcmeTest, FailedValidationInvalidatesTheOrder) {
  validator_ok_ = false;
  Client c = Register();
  auto o = NewOrder(c, R"([{"type":"dns","value":"fail.test"}])");
  const std::string az = Authzs(o)[0];
  const std::string ch = ChallengeUrl(c, az, "http-01");
  Post(c, ch, "{}");
  EXPECT_EQ(WaitAuthz(c, az), "invalid");
  EXPECT_EQ(validations_.load(), 3);  // bounded attempts
  auto chr = Post(c, ch, "");
  EXPECT_EQ(Str(chr, "status"), "invalid");
  JsonPtr b = Body(chr);
  EXPECT_STREQ(json_string_value(json_object_get(json_object_get(b.get(), "error"), "type")),
               "urn:ietf:params:acme:error:unauthorized");
  EXPECT_EQ(Str(Post(c, Header(o, "Location"), ""), "status"), "invalid");
  // An invalid challenge is not started again.
  Post(c, ch, "{}");
  EXPECT_EQ(validations_.load(), 3);
}

TEST_F(AcmeTest, ConcurrentChallengePostsValidateOnce) {
  validation_delay_ms_ = 100;
  Client c = Register();
  auto o = NewOrder(c, R"([{"type":"dns","value":"race.test"}])");
  const std::string az = Authzs(o)[0];
  const std::string http = ChallengeUrl(c, az, "http-01");
  const std::string dns = ChallengeUrl(c, az, "dns-01");
  std::vector<std::thread> ts;
  std::atomic<int> ok{0};
  for (int i = 0; i < 8; ++i)
    ts.emplace_back([&, i] {
      auto r = Post(c, i % 2 ? http : dns, "{}");
      if (r.status == 200) ok++;
    });
  for (auto& t : ts) t.join();
  EXPECT_EQ(ok.load(), 8);
  EXPECT_EQ(WaitAuthz(c, az), "valid");
  EXPECT_EQ(validations_.load(), 1);
}

TEST_F(AcmeTest, TwentyConcurrentOrdersOnOneAccount) {
  Client c = Register();
  std::vector<std::thread> ts;
  std::atomic<int> created{0};
  for (int i = 0; i < 20; ++i)
    ts.emplace_back([&, i] {
      auto r = NewOrder(c, "[{\"type\":\"dns\",\"value\":\"n" + std::to_string(i) + ".test\"}]");
      if (r.status == 201) created++;
    });
  for (auto& t : ts) t.join();
  EXPECT_EQ(created.load(), 20);
  auto list = Post(c, c.kid + "/orders", "");
  ASSERT_EQ(list.status, 200) << list.body;
  JsonPtr b = Body(list);
  EXPECT_EQ(json_array_size(json_object_get(b.get(), "orders")), 20u);
  EXPECT_EQ(ProblemType(Post(c, c.kid + "/orders", "{}")), "malformed");
}

TEST_F(AcmeTest, AuthzDeactivation) {
  Client c = Register();
  auto o = NewOrder(c, R"([{"type":"dns","value":"d.test"}])");
  const std::string az = Authzs(o)[0];
  EXPECT_EQ(ProblemType(Post(c, az, R"({"status":"valid"})")), "malformed");
  auto r = Post(c, az, R"({"status":"deactivated"})");
  EXPECT_EQ(Str(r, "status"), "deactivated");
  EXPECT_EQ(Str(Post(c, Header(o, "Location"), ""), "status"), "invalid");
}

// ---------------------------------------------------------------- finalize races and failures

// Concurrent finalizes of one ready order: one compare-and-set from ready
// to processing wins; exactly one certificate is issued and the others are
// told the order is not ready.
TEST_F(AcmeTest, ConcurrentFinalizesIssueOneCertificate) {
  Client c = Register();
  const std::string order_url = ReadyOrder(c, R"([{"type":"dns","value":"fin.test"}])");
  const std::string csr = CsrB64("", {"fin.test"});
  const uint64_t issued_before = authority_->metrics().certificates_issued();
  std::vector<std::string> nonces;
  for (int i = 0; i < 6; ++i) nonces.push_back(Nonce());
  std::vector<HttpResponse> answers(nonces.size());
  std::vector<std::thread> ts;
  const std::string url = order_url + "/finalize";
  for (size_t i = 0; i < nonces.size(); ++i)
    ts.emplace_back([&, i] {
      answers[i] = Raw("POST", Path(url), Sign(c, url, R"({"csr":")" + csr + R"("})", false, nonces[i]));
    });
  for (auto& t : ts) t.join();
  int ok = 0, not_ready = 0;
  std::string cert_url;
  for (auto& a : answers) {
    if (a.status == 200) {
      ok++;
      cert_url = Str(a, "certificate");
    } else if (a.status == 403 && ProblemType(a) == "orderNotReady") {
      not_ready++;
    }
  }
  EXPECT_EQ(ok, 1);
  EXPECT_EQ(not_ready, 5);
  EXPECT_EQ(authority_->metrics().certificates_issued() - issued_before, 1u);
  auto o = Post(c, order_url, "");
  EXPECT_EQ(Str(o, "status"), "valid");
  EXPECT_EQ(Str(o, "certificate"), cert_url);
  EXPECT_EQ(Post(c, cert_url, "").status, 200);
}

// The ACME certificate record cannot be written: the order is not valid,
// has no certificate, and is ready again (a retry then succeeds).
TEST_F(AcmeTest, StoreFailureAtFinalizeLeavesTheOrderWithoutCertificate) {
  Client c = Register();
  const std::string order_url = ReadyOrder(c, R"([{"type":"dns","value":"down.test"}])");
  const std::string cert_prefix = AcmeCertificates::Key("");
  FaultyStore faulty(authority_->store(),
                     [&](std::string_view k, std::string_view) { return HasPrefix(k, cert_prefix); });
  authority_->acme().SetStoreForTesting(&faulty);
  auto fin = Finalize(c, order_url, CsrB64("", {"down.test"}));
  authority_->acme().SetStoreForTesting(nullptr);
  EXPECT_EQ(fin.status, 503) << fin.body;
  EXPECT_EQ(ProblemType(fin), "serverInternal");
  EXPECT_GE(faulty.refused.load(), 1);
  auto o = Post(c, order_url, "");
  EXPECT_EQ(Str(o, "status"), "ready");
  EXPECT_EQ(Str(o, "certificate"), "");
  auto again = Finalize(c, order_url, CsrB64("", {"down.test"}));
  EXPECT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(Str(again, "status"), "valid");
}

// The last step (processing -> valid) cannot be written: the order goes
// back to ready, never valid without its certificate.
TEST_F(AcmeTest, StoreFailureAtTheValidTransitionLeavesTheOrderReady) {
  Client c = Register();
  const std::string order_url = ReadyOrder(c, R"([{"type":"dns","value":"late.test"}])");
  const std::string order_prefix = AcmeOrders::Key("");
  FaultyStore faulty(authority_->store(), [&](std::string_view k, std::string_view v) {
    return HasPrefix(k, order_prefix) && v.find(R"("status":"valid")") != std::string_view::npos;
  });
  authority_->acme().SetStoreForTesting(&faulty);
  auto fin = Finalize(c, order_url, CsrB64("", {"late.test"}));
  authority_->acme().SetStoreForTesting(nullptr);
  EXPECT_EQ(fin.status, 503) << fin.body;
  EXPECT_EQ(faulty.refused.load(), 1);
  auto o = Post(c, order_url, "");
  EXPECT_EQ(Str(o, "status"), "ready");
  EXPECT_EQ(Str(o, "certificate"), "");
}

// A finalize that died after claiming the order (processing, never
// completed) is taken over once the claim is stale.
TEST_F(AcmeTest, StaleProcessingOrderIsTakenOver) {
  Client c = Register();
  const std::string order_url = ReadyOrder(c, R"([{"type":"dns","value":"stale.test"}])");
  const std::string id = order_url.substr(order_url.rfind('/') + 1);
  AcmeOrders orders(authority_->store());
  auto stored = orders.Load(id);
  ASSERT_TRUE(stored.ok() && stored->has_value());
  Order next = (*stored)->record;
  next.status = "processing";
  next.processing_since = FormatRfc3339(Clock::now() - kProcessingTimeout - std::chrono::seconds(5));
  ASSERT_TRUE(orders.Replace(**stored, next).ok());
  EXPECT_EQ(Str(Post(c, order_url, ""), "status"), "ready");
  auto fin = Finalize(c, order_url, CsrB64("", {"stale.test"}));
  EXPECT_EQ(fin.status, 200) << fin.body;
  // A live claim is respected.
  const std::string other = ReadyOrder(c, R"([{"type":"dns","value":"live.test"}])");
  const std::string other_id = other.substr(other.rfind('/') + 1);
  stored = orders.Load(other_id);
  ASSERT_TRUE(stored.ok() && stored->has_value());
  next = (*stored)->record;
  next.status = "processing";
  next.processing_since = FormatRfc3339(Clock::now());
  ASSERT_TRUE(orders.Replace(**stored, next).ok());
  auto refused = Finalize(c, other, CsrB64("", {"live.test"}));
  EXPECT_EQ(ProblemType(refused), "orderNotReady");
  EXPECT_EQ(Str(Post(c, other, ""), "status"), "processing");
}

// ---------------------------------------------------------------- revoke

TEST_F(AcmeTest, RevokeByAccountAndByCertificateKey) {
  Client c = Register();
  // Two certificates; the second with a key we keep for revoke-by-key.
  const std::string o1 = ReadyOrder(c, R"([{"type":"dns","value":"r1.test"}])");
  auto f1 = Finalize(c, o1, CsrB64("", {"r1.test"}));
  ASSERT_EQ(f1.status, 200) << f1.body;
  auto pem1 = Post(c, Str(f1, "certificate"), "").body;

  auto der_b64 = [](const std::string& pem) {
    BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    X509Ptr x(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    unsigned char* der = nullptr;
    int n = i2d_X509(x.get(), &der);
    std::string out = Base64UrlEncode(std::string(reinterpret_cast<char*>(der), n));
    OPENSSL_free(der);
    return std::make_pair(out, SerialDecimal(x.get()));
  };
  auto [cert1, serial1] = der_b64(pem1);
  const std::string url = kBase + "/revoke-cert";
  EXPECT_EQ(ProblemType(Post(c, url, "{\"certificate\":\"" + cert1 + "\",\"reason\":7}")), "badRevocationReason");
  Client stranger = Register();
  EXPECT_EQ(ProblemType(Post(stranger, url, "{\"certificate\":\"" + cert1 + "\"}")), "unauthorized");
  auto r = Post(c, url, "{\"certificate\":\"" + cert1 + "\",\"reason\":1}");
  EXPECT_EQ(r.status, 200) << r.body;
  auto rec = Revocations(authority_->store()).Find(serial1);
  ASSERT_TRUE(rec.ok());
  ASSERT_TRUE(rec->has_value());
  EXPECT_TRUE((*rec)->acme);
  EXPECT_EQ((*rec)->reason_code, 1);
  EXPECT_EQ(ProblemType(Post(c, url, "{\"certificate\":\"" + cert1 + "\"}")), "alreadyRevoked");

  // By the certificate's key (jwk), with no account.
  Client certkey = NewClient();
  const std::string o2 = ReadyOrder(c, R"([{"type":"dns","value":"r2.test"}])");
  X509ReqPtr req(X509_REQ_new());
  X509_REQ_set_pubkey(req.get(), certkey.key.get());
  STACK_OF(X509_EXTENSION)* exts = sk_X509_EXTENSION_new_null();
  sk_X509_EXTENSION_push(exts, X509V3_EXT_conf_nid(nullptr, nullptr, NID_subject_alt_name, "DNS:r2.test"));
  X509_REQ_add_extensions(req.get(), exts);
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  X509_REQ_sign(req.get(), certkey.key.get(), EVP_sha256());
  unsigned char* der = nullptr;
  int n = i2d_X509_REQ(req.get(), &der);
  std::string csr = Base64UrlEncode(std::string(reinterpret_cast<char*>(der), n));
  OPENSSL_free(der);
  auto f2 = Finalize(c, o2, csr);
  ASSERT_EQ(f2.status, 200) << f2.body;
  auto [cert2, serial2] = der_b64(Post(c, Str(f2, "certificate"), "").body);
  Client wrong = NewClient();
  EXPECT_EQ(ProblemType(Post(wrong, url, "{\"certificate\":\"" + cert2 + "\"}", true)), "unauthorized");
  EXPECT_EQ(Post(certkey, url, "{\"certificate\":\"" + cert2 + "\"}", true).status, 200);
  // A certificate we did not issue.
  EXPECT_EQ(ProblemType(Post(c, url, R"({"certificate":"AAAA"})")), "malformed");
}

}  // namespace
}  // namespace acme
}  // namespace stepca
