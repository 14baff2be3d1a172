#include "authority/revocation/ocsp_responder.h"

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/ocsp.h>

#include "authority/revocation/test_issuer.h"
#include "authority/state/certificate_records.h"
#include "authority/state/ocsp_responses.h"
#include "authority/state/revocations.h"
#include "authority/store/memory_store.h"
#include "authority/testing/fake_time_source.h"

namespace stepca {
namespace {

using std::chrono::hours;
using OcspRequestPtr = OsslPtr<OCSP_REQUEST, OCSP_REQUEST_free>;
using OcspResponsePtr = OsslPtr<OCSP_RESPONSE, OCSP_RESPONSE_free>;
using OcspBasicPtr = OsslPtr<OCSP_BASICRESP, OCSP_BASICRESP_free>;
using OcspCertIdPtr = OsslPtr<OCSP_CERTID, OCSP_CERTID_free>;

const TimePoint kNow = TimePoint(std::chrono::seconds(1800000000));

std::string Der(OCSP_REQUEST* r) {
  unsigned char* p = nullptr;
  int n = i2d_OCSP_REQUEST(r, &p);
  std::string s(reinterpret_cast<char*>(p), static_cast<size_t>(n));
  OPENSSL_free(p);
  return s;
}

OcspCertIdPtr Id(X509* issuer, long serial, const EVP_MD* md = EVP_sha1()) {
  Asn1IntegerPtr s(ASN1_INTEGER_new());
  ASN1_INTEGER_set(s.get(), serial);
  return OcspCertIdPtr(OCSP_cert_id_new(md, X509_get_subject_name(issuer),
                                        X509_get0_pubkey_bitstr(issuer), s.get()));
}

struct Single {
  int status = -2, reason = -2;
  long revoked = 0, this_update = 0, next_update = 0;
};

class OcspResponderTest : public ::testing::Test {
 protected:
  OcspResponderTest() : time_(kNow), store_(MakeMemoryStore()), issuer_(testing::TestIssuer::Make()) {
    config_.enabled = true;
    config_.path = "/ocsp";
    config_.validity = hours(1);
    responder_ = std::make_unique<OcspResponder>(config_, *store_, issuer_.cert.get(),
                                                 *issuer_.signer, time_);
    // 100 issued, 200 issued and revoked (keyCompromise), 300 only reserved.
    Issue("100");
    Issue("200");
    RevocationRecord r;
    r.serial = "200";
    r.reason_code = 1;
    r.revoked_at = kNow - hours(2);
    EXPECT_TRUE(Revocations(*store_).Revoke(r).ok());
    CertificateRecord intent;
    intent.serial = "300";
    EXPECT_TRUE(CertificateRecords(*store_).Reserve(intent).ok());
  }

  void Issue(const std::string& serial) {
    CertificateRecord intent;
    Status st = CertificateRecords(*store_).Issue(
        intent, kNow, [serial] { return Result<std::string>(serial); },
        [](const std::string&) { return Result<SignedForRecord>(SignedForRecord{"DER", kNow + hours(24)}); });
    EXPECT_TRUE(st.ok()) << st.message();
  }

  // Asks about serial (one CertID, optionally a nonce); the verified
  // basic response's status for it.
  Single Ask(long serial, bool nonce, OcspAnswer* out = nullptr, X509* as_issuer = nullptr) {
    OcspRequestPtr req(OCSP_REQUEST_new());
    OcspCertIdPtr id = Id(as_issuer ? as_issuer : issuer_.cert.get(), serial);
    OCSP_request_add0_id(req.get(), OCSP_CERTID_dup(id.get()));
    if (nonce) OCSP_request_add1_nonce(req.get(), nullptr, 16);
    OcspAnswer a = responder_->Respond(Der(req.get()));
    if (out) *out = a;
    Single s;
    EXPECT_EQ(a.http_status, 200) << a.log_message;
    const unsigned char* p = reinterpret_cast<const unsigned char*>(a.der.data());
    OcspResponsePtr resp(d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(a.der.size())));
    if (!resp || OCSP_response_status(resp.get()) != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
      ADD_FAILURE() << "not a successful response";
      return s;
    }
    OcspBasicPtr basic(OCSP_response_get1_basic(resp.get()));
    STACK_OF(X509)* certs = sk_X509_new_null();
    sk_X509_push(certs, issuer_.cert.get());
    X509StorePtr store(X509_STORE_new());
    EXPECT_EQ(OCSP_basic_verify(basic.get(), certs, store.get(), OCSP_TRUSTOTHER | OCSP_NOVERIFY), 1);
    sk_X509_free(certs);
    if (nonce) EXPECT_EQ(OCSP_check_nonce(req.get(), basic.get()), 1);
    else EXPECT_EQ(OCSP_check_nonce(req.get(), basic.get()), 2);  // neither has one
    ASN1_GENERALIZEDTIME *rev = nullptr, *tu = nullptr, *nu = nullptr;
    if (OCSP_resp_find_status(basic.get(), id.get(), &s.status, &s.reason, &rev, &tu, &nu) != 1) {
      ADD_FAILURE() << "no status for the serial";
      return s;
    }
    auto secs = [](ASN1_GENERALIZEDTIME* t) {
      if (t == nullptr) return 0L;
      struct tm tm;
      ASN1_TIME_to_tm(t, &tm);
      return static_cast<long>(timegm(&tm));
    };
    s.revoked = secs(rev);
    s.this_update = secs(tu);
    s.next_update = secs(nu);
    return s;
  }

  OcspConfig config_;
  testing::FakeTimeSource time_;
  std::unique_ptr<Store> store_;
  testing::TestIssuer issuer_;
  std::unique_ptr<OcspResponder> responder_;
};

TEST_F(OcspResponderTest, GoodRevokedWithTimeAndReasonUnknown) {
  for (bool nonce : {true, false}) {
    Single good = Ask(100, nonce);
    EXPECT_EQ(good.status, V_OCSP_CERTSTATUS_GOOD);
    EXPECT_EQ(good.this_update, 1800000000);
    EXPECT_EQ(good.next_update, 1800000000 + 3600);
    Single revoked = Ask(200, nonce);
    EXPECT_EQ(revoked.status, V_OCSP_CERTSTATUS_REVOKED);
    EXPECT_EQ(revoked.reason, OCSP_REVOKED_STATUS_KEYCOMPROMISE);
    EXPECT_EQ(revoked.revoked, 1800000000 - 7200);
    EXPECT_EQ(Ask(300, nonce).status, V_OCSP_CERTSTATUS_UNKNOWN);  // reserved, never issued
    EXPECT_EQ(Ask(999, nonce).status, V_OCSP_CERTSTATUS_UNKNOWN);
  }
}

TEST_F(OcspResponderTest, AnotherIssuersCertificateIsUnknown) {
  auto other = testing::TestIssuer::Make("Another CA");
  EXPECT_EQ(Ask(100, true, nullptr, other.cert.get()).status, V_OCSP_CERTSTATUS_UNKNOWN);
}

TEST_F(OcspResponderTest, Sha256CertIdsAreAnsweredToo) {
  OcspRequestPtr req(OCSP_REQUEST_new());
  OCSP_request_add0_id(req.get(), Id(issuer_.cert.get(), 100, EVP_sha256()).release());
  OcspAnswer a = responder_->Respond(Der(req.get()));
  ASSERT_EQ(a.http_status, 200);
  const unsigned char* p = reinterpret_cast<const unsigned char*>(a.der.data());
  OcspResponsePtr resp(d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(a.der.size())));
  OcspBasicPtr basic(OCSP_response_get1_basic(resp.get()));
  int status = -1, reason = -1;
  OcspCertIdPtr id = Id(issuer_.cert.get(), 100, EVP_sha256());
  ASSERT_EQ(OCSP_resp_find_status(basic.get(), id.get(), &status, &reason, nullptr, nullptr, nullptr), 1);
  EXPECT_EQ(status, V_OCSP_CERTSTATUS_GOOD);
}

TEST_F(OcspResponderTest, ANoncelessAnswerIsCachedAndARevokeDropsIt) {
  OcspAnswer first;
  EXPECT_EQ(Ask(100, false, &first).status, V_OCSP_CERTSTATUS_GOOD);
  EXPECT_EQ(first.max_age, 1800);
  auto cached = OcspResponses(*store_).Get("100");
  ASSERT_TRUE(cached.ok() && cached->has_value());
  EXPECT_EQ(**cached, first.der);
  time_.Advance(std::chrono::minutes(5));
  OcspAnswer second;
  Ask(100, false, &second);
  EXPECT_EQ(second.der, first.der);  // served from the cache, not signed again
  EXPECT_EQ(second.max_age, 1800 - 300);

  RevocationRecord r;
  r.serial = "100";
  r.reason_code = 4;
  r.revoked_at = time_.Now();
  ASSERT_TRUE(Revocations(*store_).Revoke(r).ok());
  EXPECT_FALSE(OcspResponses(*store_).Get("100").value().has_value());
  Single now = Ask(100, false);
  EXPECT_EQ(now.status, V_OCSP_CERTSTATUS_REVOKED);
  EXPECT_EQ(now.reason, OCSP_REVOKED_STATUS_SUPERSEDED);
  // Unknown serials are not kept: they may be issued in a moment.
  Ask(999, false);
  EXPECT_FALSE(OcspResponses(*store_).Get("999").value().has_value());
}

TEST_F(OcspResponderTest, SeveralSerialsInOneRequest) {
  OcspRequestPtr req(OCSP_REQUEST_new());
  for (long s : {100L, 200L, 999L}) OCSP_request_add0_id(req.get(), Id(issuer_.cert.get(), s).release());
  OcspAnswer a = responder_->Respond(Der(req.get()));
  ASSERT_EQ(a.http_status, 200);
  const unsigned char* p = reinterpret_cast<const unsigned char*>(a.der.data());
  OcspResponsePtr resp(d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(a.der.size())));
  OcspBasicPtr basic(OCSP_response_get1_basic(resp.get()));
  EXPECT_EQ(OCSP_resp_count(basic.get()), 3);
}

int ErrorStatus(const OcspAnswer& a) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(a.der.data());
  OcspResponsePtr resp(d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(a.der.size())));
  if (!resp) return -1;
  EXPECT_EQ(OCSP_response_get1_basic(resp.get()), nullptr);  // an error carries no basic response
  return OCSP_response_status(resp.get());
}

TEST_F(OcspResponderTest, BadRequestsAreMalformedRequestAnswersNeverACrash) {
  OcspRequestPtr good(OCSP_REQUEST_new());
  OCSP_request_add0_id(good.get(), Id(issuer_.cert.get(), 100).release());
  const std::string der = Der(good.get());
  OcspRequestPtr many(OCSP_REQUEST_new());
  for (int i = 0; i < kMaxOcspSerials + 1; ++i)
    OCSP_request_add0_id(many.get(), Id(issuer_.cert.get(), 100 + i).release());
  OcspRequestPtr none(OCSP_REQUEST_new());
  std::vector<std::string> bad = {
      "",
      "hello",
      der.substr(0, der.size() - 1),
      der + "x",
      std::string(kMaxOcspRequestBytes + 1, '\x30'),
      Der(many.get()),
      Der(none.get()),
  };
  // Every truncation and every single-byte change of a real request.
  for (size_t i = 1; i < der.size(); ++i) bad.push_back(der.substr(0, i));
  int answered = 0;
  for (size_t i = 0; i < der.size(); ++i) {
    for (unsigned char x : {0x01, 0x80, 0xff}) {
      std::string m = der;
      m[i] = static_cast<char>(m[i] ^ x);
      OcspAnswer a = responder_->Respond(m);
      // A change inside the serial or the hashes is still a request; the
      // others are malformed. Either way: an OCSPResponse, no crash.
      if (a.http_status == 200) ++answered;
      else EXPECT_EQ(ErrorStatus(a), OCSP_RESPONSE_STATUS_MALFORMEDREQUEST) << i;
    }
  }
  EXPECT_GT(answered, 0);
  for (const auto& b : bad) {
    OcspAnswer a = responder_->Respond(b);
    EXPECT_EQ(a.http_status, 400) << b.size();
    EXPECT_EQ(ErrorStatus(a), OCSP_RESPONSE_STATUS_MALFORMEDREQUEST) << b.size();
    EXPECT_NE(a.log_message.find("malformed request"), std::string::npos);
  }
}

TEST_F(OcspResponderTest, AStoreFailureIsTryLater) {
  class DownStore : public Store {
   public:
    Status OpenInProcess() override { return Status::Ok(); }
    void CloseInProcess() override {}
    Status PutIfAbsent(std::string_view, std::string_view, std::chrono::seconds) override { return Down(); }
    Status PutIfAllAbsent(const std::vector<StoreEntry>&, size_t*) override { return Down(); }
    Status Put(std::string_view, std::string_view, std::chrono::seconds) override { return Down(); }
    Result<std::optional<std::string>> Get(std::string_view) override { return Down(); }
    Result<std::optional<std::string>> Take(std::string_view) override { return Down(); }
    Status CompareAndSwap(std::string_view, const std::optional<std::string>&, std::string_view,
                          std::chrono::seconds) override { return Down(); }
    Status Delete(std::string_view) override { return Down(); }
    std::string Kind() const override { return "down"; }
    Result<std::string> ServerIdentity() override { return Down(); }
    static Status Down() { return Unavailable("store unavailable: test"); }
  } down;
  OcspResponder r(config_, down, issuer_.cert.get(), *issuer_.signer, time_);
  OcspRequestPtr req(OCSP_REQUEST_new());
  OCSP_request_add0_id(req.get(), Id(issuer_.cert.get(), 100).release());
  OcspAnswer a = r.Respond(Der(req.get()));
  EXPECT_EQ(a.http_status, 503);
  EXPECT_EQ(ErrorStatus(a), OCSP_RESPONSE_STATUS_TRYLATER);
}

TEST_F(OcspResponderTest, ADelegatedResponderSignsAndTravelsInTheAnswer) {
  testing::TestIssuer delegated = testing::TestIssuer::Make("Delegated Responder");
  OcspResponder r(config_, *store_, issuer_.cert.get(), *delegated.signer, time_,
                  delegated.cert.get());
  OcspRequestPtr req(OCSP_REQUEST_new());
  OCSP_request_add0_id(req.get(), Id(issuer_.cert.get(), 100).release());
  OcspAnswer a = r.Respond(Der(req.get()));
  ASSERT_EQ(a.http_status, 200) << a.log_message;
  const unsigned char* p = reinterpret_cast<const unsigned char*>(a.der.data());
  OcspResponsePtr resp(d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(a.der.size())));
  ASSERT_TRUE(resp);
  OcspBasicPtr basic(OCSP_response_get1_basic(resp.get()));
  ASSERT_TRUE(basic);
  // Signed by the delegated key: it verifies with that certificate alone,
  // never with the issuer's.
  auto verifies_with = [&](X509* cert) {
    STACK_OF(X509)* only = sk_X509_new_null();
    sk_X509_push(only, cert);
    X509StorePtr store(X509_STORE_new());
    int rc = OCSP_basic_verify(basic.get(), only, store.get(),
                               OCSP_TRUSTOTHER | OCSP_NOVERIFY | OCSP_NOINTERN);
    sk_X509_free(only);
    ERR_clear_error();
    return rc == 1;
  };
  EXPECT_TRUE(verifies_with(delegated.cert.get()));
  EXPECT_FALSE(verifies_with(issuer_.cert.get()));
  const STACK_OF(X509)* certs = OCSP_resp_get0_certs(basic.get());
  ASSERT_EQ(sk_X509_num(certs), 1);
  EXPECT_EQ(X509_cmp(sk_X509_value(certs, 0), delegated.cert.get()), 0);
  const ASN1_OCTET_STRING* key_id = nullptr;
  const X509_NAME* name = nullptr;
  ASSERT_EQ(OCSP_resp_get0_id(basic.get(), &key_id, &name), 1);
  ASSERT_NE(name, nullptr);
  EXPECT_EQ(X509_NAME_cmp(name, X509_get_subject_name(delegated.cert.get())), 0);
}

}  // namespace
}  // namespace stepca
