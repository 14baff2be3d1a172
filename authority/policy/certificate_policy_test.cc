// The policy part built from parts in memory: no ca.json, no key file, no
// database, no real clock. Sign, renew and revoke end to end through it.
#include "authority/policy/certificate_policy.h"

#include <gtest/gtest.h>

#include "authority/ca/local_ca.h"
#include "authority/jose/jwk.h"
#include "authority/provisioner/jwk_provisioner.h"
#include "authority/signer/file_signer.h"
#include "authority/state/certificate_records.h"
#include "authority/store/memory_store.h"
#include "authority/testing/fake_time_source.h"
#include "authority/testing/fixture_pki.h"
#include "authority/x509/chain.h"
#include "authority/x509/template_profile.h"

namespace stepca {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

constexpr char kHost[] = "ca.example.test";
constexpr char kProvisioner[] = "ops@example.test";
constexpr char kKid[] = "policy-test-kid";

time_t Unix(TimePoint t) {
  return std::chrono::duration_cast<seconds>(t.time_since_epoch()).count();
}

EvpPkeyPtr P256() { return EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")); }

// A self-signed CA valid around start: root and issuer at once.
X509Ptr CaCertificate(EVP_PKEY* key, TimePoint start) {
  X509Ptr cert(X509_new());
  X509_set_version(cert.get(), X509_VERSION_3);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  ASN1_TIME_set(X509_getm_notBefore(cert.get()), Unix(start - hours(1)));
  ASN1_TIME_set(X509_getm_notAfter(cert.get()), Unix(start + hours(24 * 365)));
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("Policy Test CA"), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  X509_set_pubkey(cert.get(), key);
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  X509ExtPtr bc(X509V3_EXT_conf_nid(nullptr, &ctx, NID_basic_constraints, "critical,CA:TRUE"));
  X509_add_ext(cert.get(), bc.get(), -1);
  X509ExtPtr ku(X509V3_EXT_conf_nid(nullptr, &ctx, NID_key_usage, "critical,keyCertSign"));
  X509_add_ext(cert.get(), ku.get(), -1);
  X509_sign(cert.get(), key, EVP_sha256());
  return cert;
}

class CertificatePolicyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    EvpPkeyPtr ca_key = P256();
    roots_.push_back(CaCertificate(ca_key.get(), start_));
    std::vector<X509Ptr> chain;
    chain.emplace_back(X509_dup(roots_[0].get()));
    intermediates_.emplace_back(X509_dup(roots_[0].get()));
    auto signer = MakeFileSigner(std::move(ca_key));
    ASSERT_TRUE(signer.ok());
    auto ca = MakeLocalCa(std::move(chain), std::move(signer).value());
    ASSERT_TRUE(ca.ok()) << ca.status().message();
    ca_ = std::move(ca).value();

    token_key_ = P256();
    EVP_PKEY_up_ref(token_key_.get());
    EvpPkeyPtr verify_key(token_key_.get());
    auto jwk = std::make_unique<JwkProvisioner>(kProvisioner, Claims{}, JsonPtr(json_object()),
                                                std::move(verify_key), kKid, "");
    ASSERT_TRUE(provisioners_.Add(std::move(jwk), "authority.provisioners[0]").ok());

    PolicySettings settings;
    settings.dns_names = {kHost};
    settings.backdate = minutes(1);
    settings.anchors.roots = &roots_;
    settings.anchors.federated_roots = &federated_;
    settings.anchors.intermediates = &intermediates_;
    policy_ = std::make_unique<CertificatePolicy>(std::move(settings), provisioners_, *store_,
                                                  *ca_, time_);
  }

  // A token as `step ca token` makes it, at the fake time.
  std::string Token(const std::string& subject, const std::string& path) {
    const int64_t now = Unix(time_.Now());
    JsonPtr c = testing::StepTokenClaims(subject, std::string("https://") + kHost + path);
    json_object_set_new(c.get(), "iss", json_string(kProvisioner));
    json_object_set_new(c.get(), "iat", json_integer(now));
    json_object_set_new(c.get(), "nbf", json_integer(now));
    json_object_set_new(c.get(), "exp", json_integer(now + 300));
    return testing::MintToken(token_key_.get(), c.get(), kKid);
  }

  Result<SignResult> SignFor(const std::string& name) {
    SignRequest req;
    req.csr_pem = testing::MakeCsrPem(name, {name});
    req.ott = Token(name, "/1.0/sign");
    return policy_->Sign(req);
  }

  const TimePoint start_ = ParseRfc3339("2031-05-01T12:00:00Z").value();
  testing::FakeTimeSource time_{start_};
  std::vector<X509Ptr> roots_, federated_, intermediates_;
  std::unique_ptr<CertificateAuthorityService> ca_;
  EvpPkeyPtr token_key_;
  ProvisionerCollection provisioners_;
  std::unique_ptr<Store> store_ = MakeMemoryStore([this] { return time_.Now(); });
  std::unique_ptr<CertificatePolicy> policy_;
};

TEST_F(CertificatePolicyTest, SignsWithAToken_RecordsIt_AndRefusesItsReplay) {
  SignRequest req;
  req.csr_pem = testing::MakeCsrPem("a.example.test", {"a.example.test"});
  req.ott = Token("a.example.test", "/1.0/sign");
  auto signed_ = policy_->Sign(req);
  ASSERT_TRUE(signed_.ok()) << signed_.status().LogText();
  EXPECT_EQ(signed_->provisioner, kProvisioner);
  X509* leaf = signed_->leaf.cert.get();
  EXPECT_EQ(X509_verify(leaf, X509_get0_pubkey(roots_[0].get())), 1);
  // The fake clock's instant, minus the backdate, and the default 24h.
  EXPECT_EQ(CertNotBefore(leaf), start_ - minutes(1));
  EXPECT_EQ(CertNotAfter(leaf), start_ + hours(24));
  auto record = CertificateRecords(*store_).Find(signed_->leaf.serial);
  ASSERT_TRUE(record.ok() && record->has_value());
  EXPECT_EQ(record->value().state, CertificateState::kIssued);
  EXPECT_EQ(record->value().der, signed_->leaf.der);
  EXPECT_EQ(record->value().names, std::vector<std::string>{"a.example.test"});

  auto replay = policy_->Sign(req);
  EXPECT_EQ(replay.status().code(), Code::kUnauthenticated);
  EXPECT_EQ(replay.status().message(), "authority.authorizeToken: token already used");
}

TEST_F(CertificatePolicyTest, RefusesATokenForAnotherAudienceOrAnExpiredOne) {
  SignRequest req;
  req.csr_pem = testing::MakeCsrPem("b.example.test", {"b.example.test"});
  req.ott = Token("b.example.test", "/1.0/revoke");
  EXPECT_EQ(policy_->Sign(req).status().code(), Code::kUnauthenticated);
  req.ott = Token("b.example.test", "/1.0/sign");
  time_.Advance(minutes(10));  // past exp + leeway, without sleeping
  EXPECT_EQ(policy_->Sign(req).status().code(), Code::kUnauthenticated);
}

TEST_F(CertificatePolicyTest, RenewsByClientCertificateWithinItsLifetime) {
  auto first = SignFor("r.example.test");
  ASSERT_TRUE(first.ok()) << first.status().LogText();
  time_.Advance(hours(12));
  RenewRequest rr;
  rr.peer_cert_der = first->leaf.der;
  auto renewed = policy_->Renew(rr);
  ASSERT_TRUE(renewed.ok()) << renewed.status().LogText();
  EXPECT_NE(renewed->leaf.serial, first->leaf.serial);
  EXPECT_EQ(CertNotBefore(renewed->leaf.cert.get()), start_ + hours(12) - minutes(1));
  EXPECT_EQ(CommonName(renewed->leaf.cert.get()), "r.example.test");

  // Past its notAfter the client certificate no longer proves anything.
  time_.Advance(hours(13));
  EXPECT_EQ(policy_->Renew(rr).status().code(), Code::kUnauthenticated);
}

TEST_F(CertificatePolicyTest, RevokesByToken_ThenRefusesToRenewOrRevokeAgain) {
  auto issued = SignFor("v.example.test");
  ASSERT_TRUE(issued.ok()) << issued.status().LogText();
  const std::string serial = issued->leaf.serial;
  RevokeRequest rv;
  rv.serial = serial;
  rv.passive = true;
  rv.reason = "key compromise";
  rv.reason_code = 1;
  rv.ott = Token(serial, "/1.0/revoke");
  auto revoked = policy_->Revoke(rv);
  ASSERT_TRUE(revoked.ok()) << revoked.status().LogText();
  EXPECT_EQ(revoked.value(), serial);
  auto again = policy_->Revoke(rv);
  EXPECT_EQ(again.status().code(), Code::kInvalidArgument);

  RenewRequest rr;
  rr.peer_cert_der = issued->leaf.der;
  auto renewed = policy_->Renew(rr);
  EXPECT_EQ(renewed.status().message(), "authority.authorizeRenew: certificate has been revoked");
}

TEST_F(CertificatePolicyTest, RevokeTokenMustNameTheSerial) {
  auto issued = SignFor("w.example.test");
  ASSERT_TRUE(issued.ok());
  RevokeRequest rv;
  rv.serial = issued->leaf.serial;
  rv.passive = true;
  rv.ott = Token("12345", "/1.0/revoke");
  EXPECT_EQ(policy_->Revoke(rv).status().code(), Code::kPermissionDenied);
}

}  // namespace
}  // namespace stepca

namespace stepca {
namespace {

// A provisioner's certificate template decides the leaf; its `fail` is the
// client's 400 and, like every request check, spends no token.
TEST_F(CertificatePolicyTest, TemplatedProvisionerShapesTheLeafAndFailSpendsNoToken) {
  EVP_PKEY_up_ref(token_key_.get());
  auto jwk = std::make_unique<JwkProvisioner>("tpl", Claims{}, JsonPtr(json_object()),
                                              EvpPkeyPtr(token_key_.get()), "tpl-kid", "");
  JsonPtr x509(json_pack("{s:s}", "template",
                         "{{ if hasPrefix \"no.\" .Subject.CommonName }}{{ fail \"refused\" }}{{ end }}"
                         "{\"subject\": {\"commonName\": {{ toJson .Subject.CommonName }}, "
                         "\"organization\": \"Tpl\"}, \"dnsNames\": [\"extra.example.test\"], "
                         "\"crlDistributionPoints\": \"http://crl.example.test/c.crl\"}"));
  auto opts = LoadX509TemplateOptions(x509.get(), {"options.x509", "tpl", "."});
  ASSERT_TRUE(opts.ok()) << opts.status().message();
  jwk->set_x509_template(opts.value());
  ASSERT_TRUE(provisioners_.Add(std::move(jwk), "authority.provisioners[1]").ok());
  auto token = [&](const std::string& subject) {
    const int64_t now = Unix(time_.Now());
    JsonPtr c = testing::StepTokenClaims(subject, std::string("https://") + kHost + "/1.0/sign");
    json_object_set_new(c.get(), "iss", json_string("tpl"));
    json_object_set_new(c.get(), "iat", json_integer(now));
    json_object_set_new(c.get(), "nbf", json_integer(now));
    json_object_set_new(c.get(), "exp", json_integer(now + 300));
    return testing::MintToken(token_key_.get(), c.get(), "tpl-kid");
  };

  SignRequest refused;
  refused.csr_pem = testing::MakeCsrPem("no.example.test", {"no.example.test"});
  refused.ott = token("no.example.test");
  auto r = policy_->Sign(refused);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "refused");
  // The same token again: refused by the template again, not as a replay.
  EXPECT_EQ(policy_->Sign(refused).status().message(), "refused");

  SignRequest ok;
  ok.csr_pem = testing::MakeCsrPem("t.example.test", {"t.example.test"});
  ok.ott = token("t.example.test");
  auto s = policy_->Sign(ok);
  ASSERT_TRUE(s.ok()) << s.status().LogText();
  X509* leaf = s->leaf.cert.get();
  char o[64] = "";
  X509_NAME_get_text_by_NID(X509_get_subject_name(leaf), NID_organizationName, o, sizeof o);
  EXPECT_STREQ(o, "Tpl");
  EXPECT_GE(X509_get_ext_by_NID(leaf, NID_crl_distribution_points, -1), 0);
  // The lifetime is still the claims' (templates do not set it).
  EXPECT_EQ(CertNotAfter(leaf), start_ + hours(24));
  // The record names what the certificate says.
  auto record = CertificateRecords(*store_).Find(s->leaf.serial);
  ASSERT_TRUE(record.ok() && record->has_value());
  EXPECT_EQ(record->value().names,
            (std::vector<std::string>{"t.example.test", "extra.example.test"}));
}

// A CA service that draws its own serial, as an upstream CA does (RA
// mode): it signs through the local CA with a serial of its own choosing,
// or fails as an unreachable upstream would.
class UpstreamLikeCa : public CertificateAuthorityService {
 public:
  explicit UpstreamLikeCa(const CertificateAuthorityService& inner) : inner_(inner) {}
  Status InitProcess() override { return Status::Ok(); }
  Result<IssuedCertificate> Issue(const CertificateRequest& request) const override {
    ++issue_calls;
    if (!request.leaf.serial.empty()) return Internal("a serial was imposed on the upstream");
    if (down) return Unavailable("the upstream CA did not answer");
    CertificateRequest own = request;
    own.leaf.serial = "4242" + std::to_string(issue_calls);
    return inner_.Issue(own);
  }
  Result<IssuedCertificate> Reissue(const ReissueCertificateRequest&) const override {
    return Unimplemented("no renew upstream");
  }
  Status Revoke(const RevokeCertificateRequest& request) const override {
    if (down) return Unavailable("the upstream CA did not answer");
    revoked.push_back(request.serial);
    return Status::Ok();
  }
  bool ChoosesSerial() const override { return true; }
  const std::vector<std::string>& ChainPems() const override { return inner_.ChainPems(); }
  X509* IssuingCertificate() const override { return inner_.IssuingCertificate(); }
  const Signer* RevocationSigner() const override { return nullptr; }
  TimePoint IssuerNotAfter() const override { return inner_.IssuerNotAfter(); }

  bool down = false;
  mutable int issue_calls = 0;
  mutable std::vector<std::string> revoked;

 private:
  const CertificateAuthorityService& inner_;
};

class UpstreamPolicyTest : public CertificatePolicyTest {
 protected:
  void SetUp() override {
    CertificatePolicyTest::SetUp();
    upstream_ = std::make_unique<UpstreamLikeCa>(*ca_);
    PolicySettings settings;
    settings.dns_names = {kHost};
    settings.backdate = minutes(1);
    settings.anchors.roots = &roots_;
    settings.anchors.federated_roots = &federated_;
    settings.anchors.intermediates = &intermediates_;
    policy_ = std::make_unique<CertificatePolicy>(std::move(settings), provisioners_, *store_,
                                                  *upstream_, time_);
  }
  std::unique_ptr<UpstreamLikeCa> upstream_;
};

// No serial can be reserved before an upstream signs: the record is
// written once, issued, under the serial the certificate carries.
TEST_F(UpstreamPolicyTest, RecordsTheUpstreamsSerialAfterSigning) {
  auto issued = SignFor("up.example.test");
  ASSERT_TRUE(issued.ok()) << issued.status().LogText();
  EXPECT_EQ(issued->leaf.serial, "42421");
  auto rec = CertificateRecords(*store_).Find("42421");
  ASSERT_TRUE(rec.ok());
  ASSERT_TRUE(rec->has_value());
  EXPECT_EQ((*rec)->state, CertificateState::kIssued);
  EXPECT_EQ((*rec)->der, issued->leaf.der);
  ASSERT_TRUE((*rec)->provisioner.has_value());
  EXPECT_EQ((*rec)->provisioner->name, kProvisioner);
}

TEST_F(UpstreamPolicyTest, AnUpstreamDownIs503_SaysTheTokenWasSpent_AndRecordsNothing) {
  upstream_->down = true;
  SignRequest req;
  req.csr_pem = testing::MakeCsrPem("down.example.test", {"down.example.test"});
  req.ott = Token("down.example.test", "/1.0/sign");
  auto failed = policy_->Sign(req);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), Code::kUnavailable);
  EXPECT_NE(failed.status().message().find("the upstream CA did not answer"), std::string::npos);
  EXPECT_NE(failed.status().message().find("the token was spent"), std::string::npos)
      << failed.status().message();
  EXPECT_EQ(upstream_->issue_calls, 1);
  // what the upstream would have numbered it: nothing recorded
  auto rec = CertificateRecords(*store_).Find("42421");
  ASSERT_TRUE(rec.ok());
  EXPECT_FALSE(rec->has_value());
  // the message told the truth
  upstream_->down = false;
  EXPECT_EQ(policy_->Sign(req).status().code(), Code::kUnauthenticated);
}

TEST_F(UpstreamPolicyTest, RevocationIsForwardedFirst_AndARefusalRecordsNothing) {
  auto issued = SignFor("rv.example.test");
  ASSERT_TRUE(issued.ok()) << issued.status().LogText();
  RevokeRequest rv;
  rv.serial = issued->leaf.serial;
  rv.passive = true;
  rv.reason_code = 4;
  rv.ott = Token(rv.serial, "/1.0/revoke");
  upstream_->down = true;
  auto refused = policy_->Revoke(rv);
  EXPECT_EQ(refused.status().code(), Code::kUnavailable);
  EXPECT_NE(refused.status().message().find("the token was spent"), std::string::npos);
  RenewRequest rr;
  rr.peer_cert_der = issued->leaf.der;
  // not revoked here: renew gets as far as the CA service
  EXPECT_EQ(policy_->Renew(rr).status().code(), Code::kUnimplemented);

  upstream_->down = false;
  rv.ott = Token(rv.serial, "/1.0/revoke");
  auto revoked = policy_->Revoke(rv);
  ASSERT_TRUE(revoked.ok()) << revoked.status().LogText();
  EXPECT_EQ(upstream_->revoked, std::vector<std::string>{rv.serial});
  EXPECT_EQ(policy_->Renew(rr).status().message(),
            "authority.authorizeRenew: certificate has been revoked");
}

}  // namespace
}  // namespace stepca
