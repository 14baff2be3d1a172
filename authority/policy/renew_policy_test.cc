// Renew, rekey, revoke and the X5C provisioner: each rule with the input it
// rejects and one it accepts.
#include <gtest/gtest.h>
#include <openssl/pem.h>

#include "authority/api/http.h"
#include "authority/api/router.h"
#include "authority/authority.h"
#include "authority/signer/file_signer.h"
#include "authority/state/certificate_records.h"
#include "authority/state/revocations.h"
#include "authority/testing/fixture_pki.h"
#include "authority/provisioner/x5c_provisioner.h"
#include "authority/x509/chain.h"

namespace stepca {
namespace {

using testing::FixturePki;
using testing::MakeKey;
using testing::MintToken;
using testing::StepTokenClaims;

constexpr const char* kRenewAud = "https://127.0.0.1:9643/1.0/renew";
constexpr const char* kRevokeAud = "https://127.0.0.1:9643/1.0/revoke";

std::string Der(X509* c) {
  unsigned char* p = nullptr;
  int n = i2d_X509(c, &p);
  std::string s(reinterpret_cast<char*>(p), n);
  OPENSSL_free(p);
  return s;
}

std::string CsrFor(EVP_PKEY* key, const std::string& cn) {
  X509ReqPtr req(X509_REQ_new());
  X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req.get()), "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_REQ_set_pubkey(req.get(), key);
  STACK_OF(X509_EXTENSION)* exts = sk_X509_EXTENSION_new_null();
  sk_X509_EXTENSION_push(exts, X509V3_EXT_conf_nid(nullptr, nullptr, NID_subject_alt_name,
                                                   ("DNS:" + cn).c_str()));
  X509_REQ_add_extensions(req.get(), exts);
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  X509_REQ_sign(req.get(), key, EVP_sha256());
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509_REQ(bio.get(), req.get());
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, n);
}

std::vector<std::string> ExtensionOrder(X509* c) {
  std::vector<std::string> out;
  for (int i = 0; i < X509_get_ext_count(c); ++i)
  {
    char buf[80];
    OBJ_obj2txt(buf, sizeof buf, X509_EXTENSION_get_object(X509_get_ext(c, i)), 0);
    out.push_back(buf);
  }
  return out;
}

class RenewTest : public ::testing::Test {
 protected:
  void SetUp() override { Reload(); }

  void Reload() {
    authority_.reset();
    auto a = Authority::Load({pki_.ca_json(), pki_.password_file(), pki_.store_uri(), "test"});
    ASSERT_TRUE(a.ok()) << a.status().LogText();
    authority_ = std::move(a).value();
    ASSERT_TRUE(authority_->InitProcess().ok());
    prov_key_ = pki_.ProvisionerKey();
  }

  // A certificate from /sign, with its key.
  struct Leaf {
    X509Ptr cert;
    EvpPkeyPtr key;
    std::string serial;
  };
  Leaf Issue(const std::string& cn = "svc.example.test") {
    Leaf l;
    l.key = MakeKey("P-256");
    SignRequest r;
    r.csr_pem = CsrFor(l.key.get(), cn);
    auto c = StepTokenClaims(cn);
    r.ott = MintToken(prov_key_.get(), c.get());
    auto res = authority_->policy().Sign(r, Clock::now());
    EXPECT_TRUE(res.ok()) << res.status().LogText();
    l.cert = std::move(res->leaf.cert);
    l.serial = res->leaf.serial;
    return l;
  }

  // A leaf signed directly with the intermediate key.
  Leaf Craft(const std::string& cn, TimePoint nb, TimePoint na, bool client_auth = true,
             bool digital_signature = true, const std::string& prov_name = "fixture@example.test") {
    auto cfg = LoadCaConfig({pki_.ca_json(), pki_.password_file()});
    EXPECT_TRUE(cfg.ok());
    auto signer = MakeFileSigner(std::move(cfg->key));
    X509* ca = cfg->intermediates[0].get();
    Leaf l;
    l.key = MakeKey("P-256");
    X509Ptr c(X509_new());
    X509_set_version(c.get(), 2);
    ASN1_INTEGER_set_uint64(X509_get_serialNumber(c.get()), 0x1234567890ULL + (Clock::now().time_since_epoch().count() & 0xffffff));
    X509_set_issuer_name(c.get(), X509_get_subject_name(ca));
    X509_NAME_add_entry_by_txt(X509_get_subject_name(c.get()), "CN", MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
    ASN1_TIME_set(X509_getm_notBefore(c.get()),
                  std::chrono::duration_cast<std::chrono::seconds>(nb.time_since_epoch()).count());
    ASN1_TIME_set(X509_getm_notAfter(c.get()),
                  std::chrono::duration_cast<std::chrono::seconds>(na.time_since_epoch()).count());
    X509_set_pubkey(c.get(), l.key.get());
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, ca, c.get(), nullptr, nullptr, 0);
    auto add = [&](int nid, const char* v) {
      X509_EXTENSION* e = X509V3_EXT_conf_nid(nullptr, &ctx, nid, v);
      X509_add_ext(c.get(), e, -1);
      X509_EXTENSION_free(e);
    };
    add(NID_key_usage, digital_signature ? "critical,digitalSignature" : "critical,keyEncipherment");
    add(NID_ext_key_usage, client_auth ? "serverAuth,clientAuth" : "serverAuth");
    add(NID_subject_key_identifier, "hash");
    add(NID_authority_key_identifier, "keyid");
    add(NID_subject_alt_name, ("DNS:" + cn).c_str());
    if (!prov_name.empty()) {
      ProvisionerInfo info;
      info.name = prov_name;
      info.credential_id = testing::kProvisionerKid;
      std::string v = EncodeProvisionerExtension(info);
      ASN1_OBJECT* oid = OBJ_txt2obj("1.3.6.1.4.1.37476.9000.64.1", 1);
      ASN1_OCTET_STRING* os = ASN1_OCTET_STRING_new();
      ASN1_OCTET_STRING_set(os, reinterpret_cast<const unsigned char*>(v.data()), v.size());
      X509_EXTENSION* e = X509_EXTENSION_create_by_OBJ(nullptr, oid, 0, os);
      X509_add_ext(c.get(), e, -1);
      X509_EXTENSION_free(e);
      ASN1_OCTET_STRING_free(os);
      ASN1_OBJECT_free(oid);
    }
    EXPECT_TRUE(signer.value()->SignCertificate(c.get()).ok());
    l.serial = SerialDecimal(c.get());
    l.cert = std::move(c);
    return l;
  }

  // step's x5cInsecure renew token for l, signed by key (default l's).
  std::string RenewToken(const Leaf& l, TimePoint now, EVP_PKEY* key = nullptr,
                         const std::string& sub = "", const std::string& aud = kRenewAud,
                         const std::string& iss = "step-ca-client/1.0", bool with_chain = true) {
    JsonPtr x5c(json_array());
    json_array_append_new(x5c.get(), json_string(Base64Encode(Der(l.cert.get())).c_str()));
    if (with_chain)
      json_array_append_new(
          x5c.get(),
          json_string(Base64Encode(Der(authority_->config().intermediates[0].get())).c_str()));
    JsonPtr header(json_pack("{s:s,s:s,s:O}", "alg", "ES256", "typ", "JWT", "x5cInsecure", x5c.get()));
    const int64_t t = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
    JsonPtr c(json_pack("{s:s,s:I,s:I,s:s,s:I,s:s}", "aud", aud.c_str(), "exp", (json_int_t)(t + 300),
                        "iat", (json_int_t)t, "iss", iss.c_str(), "nbf", (json_int_t)t, "sub",
                        (sub.empty() ? CommonName(l.cert.get()) : sub).c_str()));
    return SignCompactJws(header.get(), c.get(), key ? key : l.key.get()).value();
  }

  Result<SignResult> RenewPeer(const Leaf& l, TimePoint now = Clock::now()) {
    RenewRequest r;
    const std::string der = Der(l.cert.get());
    r.peer_cert_der = der;
    return authority_->policy().Renew(r, now);
  }

  Result<SignResult> RenewBearer(const std::string& token, TimePoint now = Clock::now()) {
    RenewRequest r;
    const std::string auth = "Bearer " + token;
    r.authorization = auth;
    return authority_->policy().Renew(r, now);
  }

  Result<std::string> RevokeToken(const std::string& serial, const std::string& sub,
                                  int64_t code = 4) {
    RevokeRequest r;
    r.serial = serial;
    auto c = StepTokenClaims(sub, kRevokeAud);
    r.ott = MintToken(prov_key_.get(), c.get());
    r.reason_code = code;
    r.passive = true;
    return authority_->policy().Revoke(r, Clock::now());
  }

  Result<std::string> RevokeMtls(const Leaf& l, const std::string& serial) {
    RevokeRequest r;
    r.serial = serial;
    r.passive = true;
    const std::string der = Der(l.cert.get());
    r.peer_cert_der = der;
    return authority_->policy().Revoke(r, Clock::now());
  }

  void SetProvisionerClaim(const char* name, bool value) {
    pki_.EditCaJson([&](json_t* root) {
      json_t* p = json_array_get(json_object_get(json_object_get(root, "authority"), "provisioners"), 0);
      json_t* claims = json_object_get(p, "claims");
      if (!claims) {
        claims = json_object();
        json_object_set_new(p, "claims", claims);
      }
      json_object_set_new(claims, name, json_boolean(value));
    });
    authority_->ExitProcess();
    Reload();
  }

  FixturePki pki_;
  std::unique_ptr<Authority> authority_;
  EvpPkeyPtr prov_key_;
};

// ---------------------------------------------------------------- renew

TEST_F(RenewTest, RenewKeepsSubjectSansKeyAndLifetime) {
  Leaf old = Issue();
  auto res = RenewPeer(old);
  ASSERT_TRUE(res.ok()) << res.status().LogText();
  X509* n = res->leaf.cert.get();
  EXPECT_NE(res->leaf.serial, old.serial);
  EXPECT_EQ(X509_NAME_cmp(X509_get_subject_name(n), X509_get_subject_name(old.cert.get())), 0);
  EXPECT_EQ(EVP_PKEY_eq(X509_get0_pubkey(n), old.key.get()), 1);
  // step-ca's order: AKI first, then the old extensions as they were.
  EXPECT_EQ(ExtensionOrder(n),
            (std::vector<std::string>{"X509v3 Authority Key Identifier", "X509v3 Key Usage",
                                      "X509v3 Extended Key Usage", "X509v3 Subject Key Identifier",
                                      "X509v3 Subject Alternative Name",
                                      "1.3.6.1.4.1.37476.9000.64.1"}));
  for (int i = 1; i < X509_get_ext_count(n); ++i) {
    ASN1_OCTET_STRING* a = X509_EXTENSION_get_data(X509_get_ext(n, i));
    int j = X509_get_ext_by_OBJ(old.cert.get(), X509_EXTENSION_get_object(X509_get_ext(n, i)), -1);
    ASSERT_GE(j, 0);
    EXPECT_EQ(ASN1_OCTET_STRING_cmp(a, X509_EXTENSION_get_data(X509_get_ext(old.cert.get(), j))), 0);
  }
  // Lifetime: now - 1m .. now + (old lifetime - 1m).
  int d1, s1, d2, s2;
  ASN1_TIME_diff(&d1, &s1, X509_get0_notBefore(old.cert.get()), X509_get0_notAfter(old.cert.get()));
  ASN1_TIME_diff(&d2, &s2, X509_get0_notBefore(n), X509_get0_notAfter(n));
  EXPECT_NEAR(d1 * 86400 + s1, d2 * 86400 + s2, 1);
  auto rec = CertificateRecords(authority_->store()).Find(res->leaf.serial);
  ASSERT_TRUE(rec.ok() && rec->has_value());
  EXPECT_EQ(rec->value().renewed_from, old.serial);
  EXPECT_EQ(rec->value().state, CertificateState::kIssued);
  EXPECT_EQ(rec->value().der, res->leaf.der);
  EXPECT_EQ(res->provisioner, "fixture@example.test");
}

TEST_F(RenewTest, RekeyTakesTheCsrKeyAndANewSki) {
  Leaf old = Issue();
  EvpPkeyPtr nk = MakeKey("P-256");
  RenewRequest r;
  const std::string der = Der(old.cert.get());
  r.peer_cert_der = der;
  r.rekey = true;
  r.csr_pem = CsrFor(nk.get(), "ignored.example.test");
  auto res = authority_->policy().Renew(r, Clock::now());
  ASSERT_TRUE(res.ok()) << res.status().LogText();
  X509* n = res->leaf.cert.get();
  EXPECT_EQ(EVP_PKEY_eq(X509_get0_pubkey(n), nk.get()), 1);
  EXPECT_EQ(CommonName(n), "svc.example.test");
  EXPECT_EQ(ExtensionOrder(n),
            (std::vector<std::string>{"X509v3 Subject Key Identifier", "X509v3 Authority Key Identifier",
                                      "X509v3 Key Usage", "X509v3 Extended Key Usage",
                                      "X509v3 Subject Alternative Name",
                                      "1.3.6.1.4.1.37476.9000.64.1"}));
  EXPECT_NE(ASN1_OCTET_STRING_cmp(X509_get0_subject_key_id(n),
                                  X509_get0_subject_key_id(old.cert.get())), 0);
}

TEST_F(RenewTest, RekeyRefusesABadCsr) {
  Leaf old = Issue();
  RenewRequest r;
  const std::string der = Der(old.cert.get());
  r.peer_cert_der = der;
  r.rekey = true;
  EXPECT_EQ(authority_->policy().Renew(r, Clock::now()).status().message(), "missing csr");
  r.csr_pem = "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n";
  EXPECT_EQ(authority_->policy().Renew(r, Clock::now()).status().message(), "invalid csr");
}

TEST_F(RenewTest, NoCertificateIsABadRequest) {
  RenewRequest r;
  auto res = authority_->policy().Renew(r, Clock::now());
  EXPECT_EQ(res.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(res.status().message(), "missing client certificate");
  // An Authorization that is not a bearer token counts as nothing.
  r.authorization = "Basic Zm9vOmJhcg==";
  EXPECT_EQ(authority_->policy().Renew(r, Clock::now()).status().message(), "missing client certificate");
  // Rekey takes no token.
  Leaf l = Issue();
  const std::string tok = "Bearer " + RenewToken(l, Clock::now());
  r.authorization = tok;
  r.rekey = true;
  r.csr_pem = CsrFor(l.key.get(), "x");
  EXPECT_EQ(authority_->policy().Renew(r, Clock::now()).status().message(), "missing client certificate");
}

TEST_F(RenewTest, PeerMustChainToTheRoots) {
  // Self-signed, same subject.
  Leaf l = Issue();
  X509Ptr self(X509_dup(l.cert.get()));
  X509_set_issuer_name(self.get(), X509_get_subject_name(self.get()));
  X509_sign(self.get(), l.key.get(), EVP_sha256());
  RenewRequest r;
  const std::string der = Der(self.get());
  r.peer_cert_der = der;
  auto res = authority_->policy().Renew(r, Clock::now());
  EXPECT_EQ(res.status().code(), Code::kUnauthenticated);
  r.peer_cert_der = "garbage";
  EXPECT_EQ(authority_->policy().Renew(r, Clock::now()).status().code(), Code::kUnauthenticated);
}

TEST_F(RenewTest, PeerNeedsClientAuth) {
  const TimePoint now = Clock::now();
  Leaf l = Craft("svc.example.test", now - std::chrono::minutes(1), now + std::chrono::hours(1),
                 /*client_auth=*/false);
  EXPECT_EQ(RenewPeer(l).status().code(), Code::kUnauthenticated);
  Leaf ok = Craft("svc.example.test", now - std::chrono::minutes(1), now + std::chrono::hours(1));
  EXPECT_TRUE(RenewPeer(ok).ok()) << RenewPeer(ok).status().LogText();
}

TEST_F(RenewTest, ExpiredPeerIsRefusedEvenWhenExpiryIsAllowed) {
  SetProvisionerClaim("allowRenewalAfterExpiry", true);
  Leaf l = Issue();
  auto res = RenewPeer(l, CertNotAfter(l.cert.get()) + std::chrono::hours(1));
  EXPECT_EQ(res.status().code(), Code::kUnauthenticated);
}

TEST_F(RenewTest, RevokedCertificateCannotRenewOrRekey) {
  Leaf l = Issue();
  ASSERT_TRUE(RevokeToken(l.serial, l.serial).ok());
  auto res = RenewPeer(l);
  EXPECT_EQ(res.status().code(), Code::kUnauthenticated);
  EXPECT_NE(res.status().LogText().find("certificate has been revoked"), std::string::npos);
  RenewRequest r;
  const std::string der = Der(l.cert.get());
  r.peer_cert_der = der;
  r.rekey = true;
  r.csr_pem = CsrFor(MakeKey("P-256").get(), "x");
  EXPECT_EQ(authority_->policy().Renew(r, Clock::now()).status().code(), Code::kUnauthenticated);
  EXPECT_EQ(RenewBearer(RenewToken(l, Clock::now())).status().code(), Code::kUnauthenticated);
}

TEST_F(RenewTest, DisableRenewalIsHonoured) {
  SetProvisionerClaim("disableRenewal", true);
  Leaf l = Issue();
  auto res = RenewPeer(l);
  EXPECT_EQ(res.status().code(), Code::kUnauthenticated);
  EXPECT_NE(res.status().LogText().find("renew is disabled"), std::string::npos);
}

TEST_F(RenewTest, UnknownProvisionerInTheExtensionIsRefused) {
  const TimePoint now = Clock::now();
  Leaf l = Craft("svc.example.test", now - std::chrono::minutes(1), now + std::chrono::hours(1),
                 true, true, "gone@example.test");
  EXPECT_EQ(RenewPeer(l).status().code(), Code::kUnauthenticated);
  // Without the extension and without a record: step-ca's noop provisioner.
  Leaf bare = Craft("svc.example.test", now - std::chrono::minutes(1), now + std::chrono::hours(1),
                    true, true, "");
  EXPECT_TRUE(RenewPeer(bare).ok());
}

TEST_F(RenewTest, LifetimeIsClampedToTheIssuer) {
  const TimePoint now = Clock::now();
  const TimePoint ca_end = CertNotAfter(authority_->config().intermediates[0].get());
  Leaf l = Craft("svc.example.test", now - (ca_end - now) , ca_end - std::chrono::hours(1));
  auto res = RenewPeer(l);
  ASSERT_TRUE(res.ok()) << res.status().LogText();
  EXPECT_LE(CertNotAfter(res->leaf.cert.get()), ca_end);
}

// ---------------------------------------------------------------- renew token

TEST_F(RenewTest, RenewTokenRenewsOnce) {
  Leaf l = Issue();
  const std::string tok = RenewToken(l, Clock::now());
  auto res = RenewBearer(tok);
  ASSERT_TRUE(res.ok()) << res.status().LogText();
  EXPECT_EQ(EVP_PKEY_eq(X509_get0_pubkey(res->leaf.cert.get()), l.key.get()), 1);
  auto again = RenewBearer(tok);
  EXPECT_EQ(again.status().code(), Code::kUnauthenticated);
  EXPECT_NE(again.status().LogText().find("token already used"), std::string::npos);
}

TEST_F(RenewTest, RenewTokenWithTheLeafAloneVerifies) {
  Leaf l = Issue();
  auto res = RenewBearer(RenewToken(l, Clock::now(), nullptr, "", kRenewAud,
                                    "step-ca-client/1.0", /*with_chain=*/false));
  EXPECT_TRUE(res.ok()) << res.status().LogText();
}

TEST_F(RenewTest, RenewTokenIssuerMayBeTheProvisionerName) {
  Leaf l = Issue();
  EXPECT_TRUE(RenewBearer(RenewToken(l, Clock::now(), nullptr, "", kRenewAud,
                                     "fixture@example.test")).ok());
  Leaf m = Issue();
  EXPECT_EQ(RenewBearer(RenewToken(m, Clock::now(), nullptr, "", kRenewAud, "someone"))
                .status().code(),
            Code::kUnauthenticated);
}

TEST_F(RenewTest, RenewTokenRejections) {
  Leaf l = Issue();
  const TimePoint now = Clock::now();
  EvpPkeyPtr other = MakeKey("P-256");
  // Signed by another key.
  EXPECT_EQ(RenewBearer(RenewToken(l, now, other.get())).status().code(), Code::kUnauthenticated);
  // sub is not the CN.
  EXPECT_EQ(RenewBearer(RenewToken(l, now, nullptr, "other.example.test")).status().code(),
            Code::kUnauthenticated);
  // Audience of another method, or another host.
  EXPECT_EQ(RenewBearer(RenewToken(l, now, nullptr, "", "https://127.0.0.1:9643/1.0/sign"))
                .status().code(),
            Code::kUnauthenticated);
  EXPECT_EQ(RenewBearer(RenewToken(l, now, nullptr, "", "https://evil.test/1.0/renew"))
                .status().code(),
            Code::kUnauthenticated);
  // Expired token.
  EXPECT_EQ(RenewBearer(RenewToken(l, now - std::chrono::minutes(10))).status().code(),
            Code::kUnauthenticated);
  // Not a JWS; an empty or missing x5cInsecure; alg none.
  EXPECT_EQ(RenewBearer("not.a.token").status().code(), Code::kUnauthenticated);
  JsonPtr claims(json_pack("{s:s}", "sub", "svc.example.test"));
  JsonPtr empty(json_pack("{s:s,s:[]}", "alg", "ES256", "x5cInsecure"));
  EXPECT_EQ(RenewBearer(SignCompactJws(empty.get(), claims.get(), l.key.get()).value())
                .status().code(),
            Code::kUnauthenticated);
  JsonPtr junk(json_pack("{s:s,s:[s]}", "alg", "ES256", "x5cInsecure", "!!!"));
  EXPECT_EQ(RenewBearer(SignCompactJws(junk.get(), claims.get(), l.key.get()).value())
                .status().code(),
            Code::kUnauthenticated);
  std::string tok = RenewToken(l, now);
  std::string head = tok.substr(0, tok.find('.'));
  auto hj = Base64UrlDecode(head);
  std::string none = hj->replace(hj->find("ES256"), 5, "none");
  std::string forged = Base64UrlEncode(none) + tok.substr(tok.find('.'), tok.rfind('.') - tok.find('.')) + ".";
  EXPECT_EQ(RenewBearer(forged).status().code(), Code::kUnauthenticated);
  // A certificate from another CA.
  X509Ptr self(X509_dup(l.cert.get()));
  X509_set_issuer_name(self.get(), X509_get_subject_name(self.get()));
  X509_sign(self.get(), l.key.get(), EVP_sha256());
  Leaf fake{std::move(self), EvpPkeyPtr(), ""};
  EXPECT_EQ(RenewBearer(RenewToken(fake, now, l.key.get(), "", kRenewAud, "step-ca-client/1.0",
                                   false)).status().code(),
            Code::kUnauthenticated);
  // None of these spent the real token.
  EXPECT_TRUE(RenewBearer(tok).ok());
}

TEST_F(RenewTest, RenewTokenNeedsClientAuthAndDigitalSignature) {
  const TimePoint now = Clock::now();
  Leaf no_ku = Craft("svc.example.test", now - std::chrono::minutes(1), now + std::chrono::hours(1),
                     true, false);
  EXPECT_EQ(RenewBearer(RenewToken(no_ku, now)).status().code(), Code::kUnauthenticated);
  Leaf no_eku = Craft("svc.example.test", now - std::chrono::minutes(1), now + std::chrono::hours(1),
                      false, true);
  EXPECT_EQ(RenewBearer(RenewToken(no_eku, now)).status().code(), Code::kUnauthenticated);
}

TEST_F(RenewTest, ExpiredCertificateRenewsByTokenOnlyWhenAllowed) {
  Leaf l = Issue();
  const TimePoint later = CertNotAfter(l.cert.get()) + std::chrono::hours(2);
  auto refused = RenewBearer(RenewToken(l, later), later);
  EXPECT_EQ(refused.status().code(), Code::kUnauthenticated);
  EXPECT_NE(refused.status().LogText().find("certificate expired on"), std::string::npos);

  SetProvisionerClaim("allowRenewalAfterExpiry", true);
  auto ok = RenewBearer(RenewToken(l, later), later);
  ASSERT_TRUE(ok.ok()) << ok.status().LogText();
  EXPECT_GT(CertNotAfter(ok->leaf.cert.get()), later);
}

TEST_F(RenewTest, ExpiredCraftedCertificate) {
  const TimePoint now = Clock::now();
  // (The fixture intermediate is young: stay inside its validity.)
  Leaf l = Craft("old.example.test", now - std::chrono::minutes(20), now - std::chrono::minutes(10));
  EXPECT_EQ(RenewBearer(RenewToken(l, now)).status().code(), Code::kUnauthenticated);
  SetProvisionerClaim("allowRenewalAfterExpiry", true);
  auto ok = RenewBearer(RenewToken(l, now));
  ASSERT_TRUE(ok.ok()) << ok.status().LogText();
  int d, s;
  ASN1_TIME_diff(&d, &s, X509_get0_notBefore(ok->leaf.cert.get()), X509_get0_notAfter(ok->leaf.cert.get()));
  EXPECT_EQ(d * 86400 + s, 10 * 60);  // the old lifetime
}

// ---------------------------------------------------------------- revoke

TEST_F(RenewTest, RevokeByTokenThenTwice) {
  Leaf l = Issue();
  auto res = RevokeToken(l.serial, l.serial, 1);
  ASSERT_TRUE(res.ok()) << res.status().LogText();
  auto rec = Revocations(authority_->store()).Find(l.serial);
  ASSERT_TRUE(rec.ok() && rec->has_value());
  EXPECT_EQ(rec->value().reason_code, 1);
  EXPECT_FALSE(rec->value().mtls);
  auto twice = RevokeToken(l.serial, l.serial);
  EXPECT_EQ(twice.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(twice.status().message(),
            "certificate with serial number '" + l.serial + "' is already revoked");
}

TEST_F(RenewTest, RevokeTokenSubjectMustBeTheSerial) {
  Leaf l = Issue();
  auto res = RevokeToken(l.serial, "12345");
  EXPECT_EQ(res.status().code(), Code::kPermissionDenied);
}

TEST_F(RenewTest, RevokeTokenRejections) {
  Leaf l = Issue();
  RevokeRequest r;
  r.serial = l.serial;
  r.passive = true;
  // A sign token is not a revoke token.
  auto c = StepTokenClaims(l.serial);
  r.ott = MintToken(prov_key_.get(), c.get());
  EXPECT_EQ(authority_->policy().Revoke(r, Clock::now()).status().code(), Code::kUnauthenticated);
  // Signed by another key.
  auto c2 = StepTokenClaims(l.serial, kRevokeAud);
  EvpPkeyPtr other = MakeKey("P-256");
  r.ott = MintToken(other.get(), c2.get());
  EXPECT_EQ(authority_->policy().Revoke(r, Clock::now()).status().code(), Code::kUnauthenticated);
  r.ott = "garbage";
  EXPECT_EQ(authority_->policy().Revoke(r, Clock::now()).status().code(), Code::kUnauthenticated);
  // A replayed revoke token.
  Leaf m = Issue();
  auto c3 = StepTokenClaims(m.serial, kRevokeAud);
  r.serial = m.serial;
  r.ott = MintToken(prov_key_.get(), c3.get());
  ASSERT_TRUE(authority_->policy().Revoke(r, Clock::now()).ok());
  ASSERT_TRUE(authority_->store().Delete(Revocations::Key(m.serial)).ok());
  EXPECT_EQ(authority_->policy().Revoke(r, Clock::now()).status().code(), Code::kUnauthenticated);
}

// A revoke token for a serial this CA never issued: 404, no revocation
// record, and the token is not spent.
TEST_F(RenewTest, RevokeTokenForAnUnknownSerialIsNotFound) {
  Store& store = authority_->store();
  const std::string unknown = "123456789012345678901234567890";
  auto res = RevokeToken(unknown, unknown, 1);
  EXPECT_EQ(res.status().code(), Code::kNotFound);
  EXPECT_NE(res.status().message().find("was not issued by this CA"), std::string::npos);
  EXPECT_FALSE(store.Get(Revocations::Key(unknown)).value().has_value());
  // A record whose signing failed is not an issued certificate either.
  CertificateRecord failed;
  failed.serial = unknown;
  auto reserved = CertificateRecords(store).Reserve(failed);
  ASSERT_TRUE(reserved.ok()) << reserved.status().LogText();
  ASSERT_TRUE(CertificateRecords(store).Fail(*reserved, "test").ok());
  EXPECT_EQ(RevokeToken(unknown, unknown).status().code(), Code::kNotFound);
  EXPECT_FALSE(store.Get(Revocations::Key(unknown)).value().has_value());

  // The 404 spends nothing: the same token revokes once the record is back.
  Leaf l = Issue();
  const std::string key = CertificateRecords::Key(l.serial);
  const std::string record = store.Get(key).value().value();
  ASSERT_TRUE(store.Delete(key).ok());
  RevokeRequest r;
  r.serial = l.serial;
  r.passive = true;
  auto c = StepTokenClaims(l.serial, kRevokeAud);
  r.ott = MintToken(prov_key_.get(), c.get());
  EXPECT_EQ(authority_->policy().Revoke(r, Clock::now()).status().code(), Code::kNotFound);
  EXPECT_FALSE(store.Get(Revocations::Key(l.serial)).value().has_value());
  ASSERT_TRUE(store.Put(key, record, std::chrono::seconds(0)).ok());
  auto ok = authority_->policy().Revoke(r, Clock::now());
  EXPECT_TRUE(ok.ok()) << ok.status().LogText();
  EXPECT_TRUE(store.Get(Revocations::Key(l.serial)).value().has_value());
}

TEST_F(RenewTest, RevokeBodyRules) {
  RevokeRequest r;
  r.passive = true;
  r.peer_cert_der = "x";
  EXPECT_EQ(authority_->policy().Revoke(r, Clock::now()).status().message(), "missing serial");
  r.serial = "12ab";
  EXPECT_EQ(authority_->policy().Revoke(r, Clock::now()).status().code(), Code::kInvalidArgument);
  r.serial = "-5";
  EXPECT_EQ(authority_->policy().Revoke(r, Clock::now()).status().code(), Code::kInvalidArgument);
  r.serial = "0x";
  EXPECT_EQ(authority_->policy().Revoke(r, Clock::now()).status().code(), Code::kInvalidArgument);
  r.serial = "1";
  r.reason_code = 11;
  EXPECT_EQ(authority_->policy().Revoke(r, Clock::now()).status().message(), "reasonCode out of bounds");
  r.reason_code = -1;
  EXPECT_EQ(authority_->policy().Revoke(r, Clock::now()).status().message(), "reasonCode out of bounds");
  r.reason_code = 10;
  r.passive = false;
  EXPECT_EQ(authority_->policy().Revoke(r, Clock::now()).status().code(), Code::kUnimplemented);
  r.passive = true;
  r.peer_cert_der = {};
  EXPECT_EQ(authority_->policy().Revoke(r, Clock::now()).status().message(),
            "missing ott or client certificate");
}

TEST_F(RenewTest, RevokeOverMtlsOwnSerialOnly) {
  Leaf mine = Issue("a.example.test");
  Leaf theirs = Issue("b.example.test");
  auto refused = RevokeMtls(mine, theirs.serial);
  EXPECT_EQ(refused.status().code(), Code::kPermissionDenied);
  // Hex form of my own serial.
  BignumPtr bn(ASN1_INTEGER_to_BN(X509_get0_serialNumber(mine.cert.get()), nullptr));
  char* hex = BN_bn2hex(bn.get());
  const std::string h = std::string("0x") + hex;
  OPENSSL_free(hex);
  auto ok = RevokeMtls(mine, h);
  ASSERT_TRUE(ok.ok()) << ok.status().LogText();
  EXPECT_EQ(ok.value(), mine.serial);
  auto rec = Revocations(authority_->store()).Find(mine.serial);
  ASSERT_TRUE(rec.ok() && rec->has_value());
  EXPECT_TRUE(rec->value().mtls);
  EXPECT_EQ(RevokeMtls(mine, mine.serial).status().code(), Code::kInvalidArgument);
  EXPECT_TRUE(RenewPeer(theirs).ok());
}

// ---------------------------------------------------------------- HTTP shapes

std::string WireBody(const std::string& name) {
  std::string s = testing::ReadFile(testing::FixturesDir() + "/wire/" + name + ".response");
  return s.substr(s.find("\r\n\r\n") + 4);
}

TEST_F(RenewTest, WireBodiesMatchStepCa) {
  HttpRequest r;
  r.method = "POST";
  r.path = "/1.0/renew";
  HttpResponse a = HandleHttp(*authority_, r);
  EXPECT_EQ(a.status, 400);
  EXPECT_EQ(a.body, WireBody("renew-no-cert"));
  std::string rekey_req = testing::ReadFile(testing::FixturesDir() + "/wire/rekey-no-cert.request");
  r.path = "/1.0/rekey";
  r.body = std::string_view(rekey_req).substr(rekey_req.find("\r\n\r\n") + 4);
  HttpResponse b = HandleHttp(*authority_, r);
  EXPECT_EQ(b.status, 400);
  EXPECT_EQ(b.body, WireBody("rekey-no-cert"));
  std::string revoke_req =
      testing::ReadFile(testing::FixturesDir() + "/wire/revoke-no-cert-no-ott.request");
  r.path = "/1.0/revoke";
  r.body = std::string_view(revoke_req).substr(revoke_req.find("\r\n\r\n") + 4);
  HttpResponse c = HandleHttp(*authority_, r);
  EXPECT_EQ(c.status, 400);
  EXPECT_EQ(c.body, WireBody("revoke-no-cert-no-ott"));
}

TEST_F(RenewTest, HttpShapes) {
  Leaf l = Issue();
  const std::string der = Der(l.cert.get());
  HttpRequest r;
  r.method = "POST";
  r.path = "/re-sign";
  r.peer_cert_der = der;
  HttpResponse a = HandleHttp(*authority_, r);
  EXPECT_EQ(a.status, 201);
  JsonPtr j(json_loads(a.body.c_str(), 0, nullptr));
  ASSERT_TRUE(j);
  EXPECT_TRUE(json_is_string(json_object_get(j.get(), "crt")));
  EXPECT_TRUE(json_is_string(json_object_get(j.get(), "ca")));
  EXPECT_EQ(json_array_size(json_object_get(j.get(), "certChain")), 2u);
  EXPECT_TRUE(json_is_object(json_object_get(j.get(), "tlsOptions")));

  r.path = "/revoke";
  const std::string active = "{\"serial\":\"" + l.serial + "\",\"reasonCode\":1,\"passive\":false}";
  r.body = active;
  EXPECT_EQ(HandleHttp(*authority_, r).status, 501);
  const std::string wrong_type = "{\"serial\":\"" + l.serial + "\",\"reasonCode\":\"1\",\"passive\":true}";
  r.body = wrong_type;
  EXPECT_EQ(HandleHttp(*authority_, r).status, 400);
  std::string ok_body = "{\"serial\":\"" + l.serial + "\",\"reasonCode\":1,\"passive\":true}";
  r.body = ok_body;
  HttpResponse ok = HandleHttp(*authority_, r);
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(ok.body, "{\"status\":\"ok\"}\n");
  HttpResponse twice = HandleHttp(*authority_, r);
  EXPECT_EQ(twice.status, 400);
  EXPECT_EQ(twice.body, "{\"status\":400,\"message\":\"The request could not be completed: "
                        "certificate with serial number '" + l.serial + "' is already revoked.\"}\n");
  r.path = "/renew";
  r.body = "";
  HttpResponse after = HandleHttp(*authority_, r);
  EXPECT_EQ(after.status, 401);
  EXPECT_EQ(after.body, WireBody("renew-after-revoke"));
  r.method = "GET";
  EXPECT_EQ(HandleHttp(*authority_, r).status, 405);
}

// ---------------------------------------------------------------- X5C

class X5cTest : public RenewTest {
 protected:
  std::string X5cToken(const Leaf& l, const std::string& sub, const std::string& iss = "x5c",
                       const std::string& aud = "https://127.0.0.1:9643/1.0/sign#x5c/x5c",
                       EVP_PKEY* key = nullptr) {
    JsonPtr x5c(json_array());
    json_array_append_new(x5c.get(), json_string(Base64Encode(Der(l.cert.get())).c_str()));
    json_array_append_new(
        x5c.get(), json_string(Base64Encode(Der(authority_->config().intermediates[0].get())).c_str()));
    JsonPtr header(json_pack("{s:s,s:s,s:O}", "alg", "ES256", "typ", "JWT", "x5c", x5c.get()));
    auto c = StepTokenClaims(sub, aud);
    json_object_set_new(c.get(), "iss", json_string(iss.c_str()));
    return SignCompactJws(header.get(), c.get(), key ? key : l.key.get()).value();
  }

  Result<SignResult> SignX5c(const std::string& ott, const std::string& cn,
                             const std::string& not_after = "") {
    SignRequest r;
    EvpPkeyPtr k = MakeKey("P-256");
    r.csr_pem = CsrFor(k.get(), cn);
    r.ott = ott;
    r.not_after = *ParseTimeDuration(not_after);
    return authority_->policy().Sign(r, Clock::now());
  }
};

TEST_F(X5cTest, SignsWithinTheCredentialWindowOnce) {
  Leaf cred = Issue("svc.example.test");
  const std::string ott = X5cToken(cred, "x5c-client.example.test");
  auto res = SignX5c(ott, "x5c-client.example.test");
  ASSERT_TRUE(res.ok()) << res.status().LogText();
  EXPECT_EQ(res->provisioner, "x5c");
  EXPECT_LE(CertNotAfter(res->leaf.cert.get()), CertNotAfter(cred.cert.get()));
  auto again = SignX5c(ott, "x5c-client.example.test");
  EXPECT_EQ(again.status().code(), Code::kUnauthenticated);
}

TEST_F(X5cTest, Rejections) {
  Leaf cred = Issue("svc.example.test");
  EvpPkeyPtr other = MakeKey("P-256");
  const std::string sub = "x5c-client.example.test";
  EXPECT_EQ(SignX5c(X5cToken(cred, sub, "someone"), sub).status().code(), Code::kUnauthenticated);
  EXPECT_EQ(SignX5c(X5cToken(cred, sub, "x5c", "https://127.0.0.1:9643/1.0/sign"), sub).status().code(),
            Code::kUnauthenticated);
  EXPECT_EQ(SignX5c(X5cToken(cred, sub, "x5c", "https://127.0.0.1:9643/1.0/sign#x5c/other"), sub)
                .status().code(),
            Code::kUnauthenticated);
  EXPECT_EQ(SignX5c(X5cToken(cred, sub, "x5c", "https://127.0.0.1:9643/1.0/sign#x5c/x5c", other.get()), sub)
                .status().code(),
            Code::kUnauthenticated);
  EXPECT_EQ(SignX5c(X5cToken(cred, ""), sub).status().code(), Code::kUnauthenticated);
  // CSR names must match the token.
  EXPECT_EQ(SignX5c(X5cToken(cred, sub), "other.example.test").status().code(),
            Code::kPermissionDenied);
  // A requested notAfter past the credential.
  EXPECT_EQ(SignX5c(X5cToken(cred, sub), sub, "48h").status().code(), Code::kPermissionDenied);
  const TimePoint now = Clock::now();
  Leaf no_ku = Craft("svc.example.test", now - std::chrono::minutes(1), now + std::chrono::hours(1),
                     true, false);
  EXPECT_EQ(SignX5c(X5cToken(no_ku, sub), sub).status().code(), Code::kUnauthenticated);
  Leaf no_eku = Craft("svc.example.test", now - std::chrono::minutes(1), now + std::chrono::hours(1),
                      false, true);
  EXPECT_EQ(SignX5c(X5cToken(no_eku, sub), sub).status().code(), Code::kUnauthenticated);
  Leaf expired = Craft("svc.example.test", now - std::chrono::minutes(20), now - std::chrono::minutes(10));
  EXPECT_EQ(SignX5c(X5cToken(expired, sub), sub).status().code(), Code::kUnauthenticated);
}

TEST_F(X5cTest, RevokeByX5cToken) {
  Leaf cred = Issue("svc.example.test");
  Leaf victim = Issue("v.example.test");
  RevokeRequest r;
  r.serial = victim.serial;
  r.passive = true;
  r.ott = X5cToken(cred, victim.serial, "x5c", "https://127.0.0.1:9643/1.0/revoke#x5c/x5c");
  auto res = authority_->policy().Revoke(r, Clock::now());
  EXPECT_TRUE(res.ok()) << res.status().LogText();
}

TEST(X5cParse, RootsAreRequiredAndMustBePem) {
  Claims claims;
  JsonPtr missing(json_pack("{s:s,s:s}", "type", "X5C", "name", "x"));
  EXPECT_FALSE(ParseX5cProvisioner(missing.get(), "p[1]", "x", claims, JsonPtr(json_object())).ok());
  JsonPtr notb64(json_pack("{s:s,s:s,s:s}", "type", "X5C", "name", "x", "roots", "!!"));
  auto r = ParseX5cProvisioner(notb64.get(), "p[1]", "x", claims, JsonPtr(json_object()));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("p[1].roots"), std::string::npos);
  JsonPtr nopem(json_pack("{s:s,s:s,s:s}", "type", "X5C", "name", "x", "roots",
                          Base64Encode("hello").c_str()));
  EXPECT_FALSE(ParseX5cProvisioner(nopem.get(), "p[1]", "x", claims, JsonPtr(json_object())).ok());
}

}  // namespace
}  // namespace stepca
