// Against SoftHSM2 (Debian softhsm2), with a token made here in a private
// directory; skipped when the module is not installed.
#include "authority/signer/pkcs11_signer.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <dlfcn.h>
#include <p11-kit/pkcs11.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <thread>
#include <vector>
#include <fstream>

#include "authority/signer/pkcs11_probe.h"
#include "authority/signer/pkcs11_token.h"
#include "authority/ssh/certificate.h"
#include "authority/ssh/public_key.h"
#include "authority/ssh/wire.h"

namespace stepca {
namespace {

constexpr const char* kModule = "/usr/lib/softhsm/libsofthsm2.so";
constexpr const char* kPin = "pin-4417-secret";

class SoftHsm : public ::testing::Test {
 protected:
  void SetUp() override {
    if (access(kModule, R_OK) != 0 || std::system("command -v softhsm2-util >/dev/null") != 0)
      GTEST_SKIP() << "softhsm2 is not installed";
    char tmpl[] = "/tmp/stepca-hsm-XXXXXX";
    dir_ = mkdtemp(tmpl);
    std::ofstream(dir_ + "/softhsm2.conf")
        << "directories.tokendir = " << dir_ << "/tokens\nobjectstore.backend = file\n"
        << "log.level = ERROR\n";
    std::string mk = "mkdir -p '" + dir_ + "/tokens'";
    ASSERT_EQ(std::system(mk.c_str()), 0);
    setenv("SOFTHSM2_CONF", (dir_ + "/softhsm2.conf").c_str(), 1);
    std::string init = "softhsm2-util --init-token --free --label unit --so-pin 99887766 --pin " +
                       std::string(kPin) + " >/dev/null";
    ASSERT_EQ(std::system(init.c_str()), 0);
    uri_.module_path = kModule;
    uri_.token = "unit";
  }
  void TearDown() override {
    if (dir_.empty()) return;
    std::string rm = "rm -rf '" + dir_ + "'";
    (void)!std::system(rm.c_str());
  }

  std::shared_ptr<Pkcs11Token> Open() {
    auto t = OpenPkcs11Token(uri_, kPin);
    EXPECT_TRUE(t.ok()) << t.status().message();
    if (!t.ok()) return nullptr;
    return std::shared_ptr<Pkcs11Token>(std::move(t).value());
  }

  std::string dir_;
  Pkcs11Uri uri_;
};

bool Verifies(EVP_PKEY* pub, const EVP_MD* md, bool pss, const std::string& msg,
              const std::string& sig) {
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  if (EVP_DigestVerifyInit(ctx.get(), &pctx, md, nullptr, pub) != 1) return false;
  if (pss) {
    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32);
    EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, EVP_sha256());
  }
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()),
                          sig.size(), reinterpret_cast<const unsigned char*>(msg.data()),
                          msg.size()) == 1;
}

// A bare certificate for the signer to sign.
X509Ptr Unsigned(EVP_PKEY* subject_key) {
  X509Ptr c(X509_new());
  X509_set_version(c.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(c.get()), 7);
  X509_NAME* n = X509_get_subject_name(c.get());
  X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("t"), -1,
                             -1, 0);
  X509_set_issuer_name(c.get(), n);
  X509_gmtime_adj(X509_getm_notBefore(c.get()), 0);
  X509_gmtime_adj(X509_getm_notAfter(c.get()), 3600);
  X509_set_pubkey(c.get(), subject_key);
  return c;
}

struct KeyCase {
  const char* kty;
  const char* crv;
  int bits;
  bool pss;
  SignatureAlgorithm want;
  const EVP_MD* (*md)();
};

// The key types and signature schemes a CA key on a token may have.
const KeyCase kKeyCases[] = {
    {"EC", "P-256", 0, false, SignatureAlgorithm::kEcdsaSha256, EVP_sha256},
    {"EC", "P-384", 0, false, SignatureAlgorithm::kEcdsaSha384, EVP_sha384},
    {"RSA", "", 2048, false, SignatureAlgorithm::kRsaPkcs1Sha256, EVP_sha256},
    {"RSA", "", 2048, true, SignatureAlgorithm::kRsaPssSha256, EVP_sha256},
};

TEST_F(SoftHsm, SignsWithEveryKeyTypeAndCertificatesVerify) {
  auto token = Open();
  ASSERT_TRUE(token);
  int n = 0;
  for (const auto& c : kKeyCases) {
    SCOPED_TRACE(std::string(c.kty) + c.crv + (c.pss ? " PSS" : ""));
    Pkcs11KeyRef ref{std::string("k") + std::to_string(n), "key-" + std::to_string(n)};
    ++n;
    auto pub = token->GenerateKeyPair(ref, c.kty, c.crv, c.bits);
    ASSERT_TRUE(pub.ok()) << pub.status().message();
    auto signer = MakePkcs11SignerOnToken(token, ref, c.pss);
    ASSERT_TRUE(signer.ok()) << signer.status().message();
    EXPECT_EQ((*signer)->Algorithm(), c.want);
    EXPECT_EQ(EVP_PKEY_eq((*signer)->PublicKey(), pub->get()), 1);
    const std::string msg = "to be signed";
    auto sig = (*signer)->Sign(msg);
    ASSERT_TRUE(sig.ok()) << sig.status().message();
    EXPECT_TRUE(Verifies(pub->get(), c.md(), c.pss, msg, sig.value()));
    EXPECT_FALSE(Verifies(pub->get(), c.md(), c.pss, msg + "x", sig.value()));

    X509Ptr cert = Unsigned(pub->get());
    ASSERT_TRUE((*signer)->SignCertificate(cert.get()).ok());
    EXPECT_EQ(X509_verify(cert.get(), pub->get()), 1);
    // The encoding round-trips and still verifies (both AlgorithmIdentifiers agree).
    unsigned char* der = nullptr;
    int len = i2d_X509(cert.get(), &der);
    ASSERT_GT(len, 0);
    const unsigned char* p = der;
    X509Ptr back(d2i_X509(nullptr, &p, len));
    OPENSSL_free(der);
    ASSERT_TRUE(back);
    EXPECT_EQ(X509_verify(back.get(), pub->get()), 1);
    const int nid = X509_get_signature_nid(back.get());
    if (c.pss) EXPECT_EQ(nid, NID_rsassaPss);
    if (!c.pss && c.bits) EXPECT_EQ(nid, NID_sha256WithRSAEncryption);
  }
  // A second key with a used id is refused.
  auto again = token->GenerateKeyPair({"k0", "other"}, "EC", "P-256", 0);
  EXPECT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), Code::kAlreadyExists);
}

// CRLs and OCSP responses signed on the token verify with its public key
// and keep every AlgorithmIdentifier in step (round trip through DER).
TEST_F(SoftHsm, CrlsAndOcspResponsesSignedOnTheTokenVerify) {
  auto token = Open();
  ASSERT_TRUE(token);
  int n = 0;
  for (const auto& c : kKeyCases) {
    SCOPED_TRACE(std::string(c.kty) + c.crv + (c.pss ? " PSS" : ""));
    Pkcs11KeyRef ref{std::string("r") + std::to_string(n), "rev-" + std::to_string(n)};
    ++n;
    auto pub = token->GenerateKeyPair(ref, c.kty, c.crv, c.bits);
    ASSERT_TRUE(pub.ok()) << pub.status().message();
    auto signer = MakePkcs11SignerOnToken(token, ref, c.pss);
    ASSERT_TRUE(signer.ok()) << signer.status().message();
    X509Ptr issuer = Unsigned(pub->get());
    ASSERT_TRUE((*signer)->SignCertificate(issuer.get()).ok());

    OsslPtr<X509_CRL, X509_CRL_free> crl(X509_CRL_new());
    X509_CRL_set_version(crl.get(), 1);
    X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(issuer.get()));
    OsslPtr<ASN1_TIME, ASN1_TIME_free> now(ASN1_TIME_adj(nullptr, time(nullptr), 0, 0));
    X509_CRL_set1_lastUpdate(crl.get(), now.get());
    ASSERT_TRUE((*signer)->SignCrl(crl.get()).ok());
    EXPECT_EQ(X509_CRL_verify(crl.get(), pub->get()), 1);
    unsigned char* der = nullptr;
    int len = i2d_X509_CRL(crl.get(), &der);
    ASSERT_GT(len, 0);
    const unsigned char* p = der;
    OsslPtr<X509_CRL, X509_CRL_free> back(d2i_X509_CRL(nullptr, &p, len));
    OPENSSL_free(der);
    ASSERT_TRUE(back);
    EXPECT_EQ(X509_CRL_verify(back.get(), pub->get()), 1);
    OsslPtr<EVP_PKEY, EVP_PKEY_free> other(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
    EXPECT_NE(X509_CRL_verify(back.get(), other.get()), 1);  // not the throwaway key's signature

    OsslPtr<OCSP_BASICRESP, OCSP_BASICRESP_free> resp(OCSP_BASICRESP_new());
    ASSERT_TRUE((*signer)->SignOcspResponse(resp.get(), issuer.get()).ok());
    auto verify = [&](EVP_PKEY* key) {
      return ASN1_item_verify(ASN1_ITEM_rptr(OCSP_RESPDATA), OCSP_resp_get0_tbs_sigalg(resp.get()),
                              OCSP_resp_get0_signature(resp.get()),
                              OCSP_resp_get0_respdata(resp.get()), key);
    };
    EXPECT_EQ(verify(pub->get()), 1);
    EXPECT_NE(verify(other.get()), 1);
    ERR_clear_error();
  }
}

TEST_F(SoftHsm, ProbeReadsThePublicKeyFromAChildProcess) {
  Pkcs11KeyRef ref{"\x73\x31", "intermediate-key"};
  EvpPkeyPtr made;
  {
    auto token = Open();
    ASSERT_TRUE(token);
    auto pub = token->GenerateKeyPair(ref, "EC", "P-256", 0);
    ASSERT_TRUE(pub.ok());
    made = std::move(pub).value();
  }
  Pkcs11Uri u = uri_;
  auto probed = ProbePkcs11Key(u, kPin, ref);
  ASSERT_TRUE(probed.ok()) << probed.status().message();
  EXPECT_EQ(EVP_PKEY_eq(probed->get(), made.get()), 1);

  auto missing = ProbePkcs11Key(u, kPin, {"\x99", "nope"});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("no private key id=99;object=nope"), std::string::npos)
      << missing.status().message();

  // The signer made for the nginx master signs only after InitProcess, in
  // the process that loaded the module.
  u.id = ref.id;
  u.object = ref.label;
  auto signer = MakePkcs11Signer({u, kPin, false});
  ASSERT_TRUE(signer.ok()) << signer.status().message();
  EXPECT_FALSE((*signer)->Sign("x").ok());
  ASSERT_TRUE((*signer)->InitProcess().ok());
  auto sig = (*signer)->Sign("x");
  ASSERT_TRUE(sig.ok()) << sig.status().message();
  EXPECT_TRUE(Verifies(made.get(), EVP_sha256(), false, "x", sig.value()));
}

TEST_F(SoftHsm, WrongPinIsAClearErrorWithoutThePin) {
  const std::string wrong = "wrong-pin-5521";
  auto t = OpenPkcs11Token(uri_, wrong);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("CKR_PIN_INCORRECT"), std::string::npos)
      << t.status().message();
  EXPECT_EQ(t.status().LogText().find(wrong), std::string::npos);
  EXPECT_EQ(t.status().LogText().find(kPin), std::string::npos);

  auto probed = ProbePkcs11Key(uri_, wrong, {"\x01", ""});
  ASSERT_FALSE(probed.ok());
  EXPECT_NE(probed.status().message().find("login to token \"unit\" failed"), std::string::npos)
      << probed.status().message();
  EXPECT_EQ(probed.status().LogText().find(wrong), std::string::npos);
}

TEST_F(SoftHsm, MissingModuleAndTokenAreNamed) {
  Pkcs11Uri u = uri_;
  u.module_path = dir_ + "/no-such-module.so";
  auto t = OpenPkcs11Token(u, kPin);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("cannot load module " + u.module_path), std::string::npos)
      << t.status().message();

  u = uri_;
  u.token = "absent";
  auto a = OpenPkcs11Token(u, kPin);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().code(), Code::kUnavailable);
  EXPECT_NE(a.status().message().find("token \"absent\" is not present"), std::string::npos)
      << a.status().message();
}

// Another user of the same module in this process closes every session
// (which also logs the application out), then logs out again: the signer
// reopens its pooled sessions and logs in each time.
TEST_F(SoftHsm, ClosedSessionsAreReopenedAndALogoutLogsInAgain) {
  auto token = Open();
  ASSERT_TRUE(token);
  Pkcs11KeyRef ref{"\x05", "recover"};
  auto pub = token->GenerateKeyPair(ref, "EC", "P-256", 0);
  ASSERT_TRUE(pub.ok()) << pub.status().message();
  auto signer = MakePkcs11SignerOnToken(token, ref, false);
  ASSERT_TRUE(signer.ok());
  ASSERT_TRUE((*signer)->Sign("one").ok());

  // dlopen hands back the module the token already loaded.
  void* dl = dlopen(kModule, RTLD_NOW | RTLD_NOLOAD);
  ASSERT_NE(dl, nullptr);
  auto get = reinterpret_cast<CK_RV (*)(CK_FUNCTION_LIST_PTR_PTR)>(dlsym(dl, "C_GetFunctionList"));
  CK_FUNCTION_LIST_PTR fl = nullptr;
  ASSERT_EQ(get(&fl), CKR_OK);
  CK_SLOT_ID slots[8];
  CK_ULONG n = 8;
  ASSERT_EQ(fl->C_GetSlotList(CK_TRUE, slots, &n), CKR_OK);
  CK_SLOT_ID slot = 0;
  for (CK_ULONG i = 0; i < n; ++i) {
    CK_TOKEN_INFO info;
    if (fl->C_GetTokenInfo(slots[i], &info) == CKR_OK &&
        std::string(reinterpret_cast<char*>(info.label), 4) == "unit")
      slot = slots[i];
  }

  ASSERT_EQ(fl->C_CloseAllSessions(slot), CKR_OK);
  auto sig = (*signer)->Sign("two");
  ASSERT_TRUE(sig.ok()) << sig.status().message();
  EXPECT_TRUE(Verifies(pub->get(), EVP_sha256(), false, "two", sig.value()));

  CK_SESSION_HANDLE h = 0;
  ASSERT_EQ(fl->C_OpenSession(slot, CKF_SERIAL_SESSION, nullptr, nullptr, &h), CKR_OK);
  ASSERT_EQ(fl->C_Logout(h), CKR_OK);
  CK_SESSION_INFO info;
  ASSERT_EQ(fl->C_GetSessionInfo(h, &info), CKR_OK);
  EXPECT_EQ(info.state, static_cast<CK_STATE>(CKS_RO_PUBLIC_SESSION));
  fl->C_CloseSession(h);
  sig = (*signer)->Sign("three");
  ASSERT_TRUE(sig.ok()) << sig.status().message();
  EXPECT_TRUE(Verifies(pub->get(), EVP_sha256(), false, "three", sig.value()));
  dlclose(dl);
}

// In a worker (LoadPkcs11Module) a refused PIN is an error of each
// operation, never retried against the token, never in the message.
TEST_F(SoftHsm, AWorkerWithAWrongPinNeverRetriesIt) {
  {
    auto token = Open();
    ASSERT_TRUE(token);
    ASSERT_TRUE(token->GenerateKeyPair({"\x07", "pin"}, "EC", "P-256", 0).ok());
  }
  const std::string wrong = "wrong-pin-6630";
  auto t = LoadPkcs11Module(uri_, wrong);
  ASSERT_TRUE(t.ok()) << t.status().message();
  for (int i = 0; i < 3; ++i) {
    auto sig = (*t)->Sign({"\x07", "pin"}, Pkcs11Mechanism::kEcdsa, std::string(32, 'a'));
    ASSERT_FALSE(sig.ok());
    EXPECT_EQ(sig.status().code(), Code::kPermissionDenied);
    EXPECT_NE(sig.status().message().find("CKR_PIN_INCORRECT"), std::string::npos)
        << sig.status().message();
    EXPECT_NE(sig.status().message().find("not tried again"), std::string::npos);
    EXPECT_EQ(sig.status().LogText().find(wrong), std::string::npos);
  }
}

// Signing from many threads at once shares the pool safely.
TEST_F(SoftHsm, ConcurrentSigning) {
  auto token = Open();
  ASSERT_TRUE(token);
  Pkcs11KeyRef ref{"\x06", "threads"};
  auto pub = token->GenerateKeyPair(ref, "EC", "P-384", 0);
  ASSERT_TRUE(pub.ok());
  auto signer = MakePkcs11SignerOnToken(token, ref, false);
  ASSERT_TRUE(signer.ok());
  std::atomic<int> good{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        const std::string msg = "m" + std::to_string(t) + "." + std::to_string(i);
        auto sig = (*signer)->Sign(msg);
        if (sig.ok() && Verifies(pub->get(), EVP_sha384(), false, msg, sig.value())) ++good;
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(good.load(), 80);
}

}  // namespace
}  // namespace stepca

namespace stepca {
namespace {

// SSH CA keys on the token: ECDSA and RSA (rsa-sha2-256, and rsa-sha2-512
// as SSH keys on a token sign) certificates verify with the token's public
// key, and OpenSSH reads them.
TEST_F(SoftHsm, SshCertificatesSignedOnTheTokenVerify) {
  auto token = Open();
  ASSERT_TRUE(token);
  struct Case {
    const char* kty;
    const char* crv;
    bool sha512;
    const char* name;
  } cases[] = {
      {"EC", "P-256", false, "ecdsa-sha2-nistp256"},
      {"EC", "P-384", true, "ecdsa-sha2-nistp384"},
      {"RSA", "", false, "rsa-sha2-256"},
      {"RSA", "", true, "rsa-sha2-512"},
  };
  const bool keygen = std::system("command -v ssh-keygen >/dev/null") == 0;
  int n = 0;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Pkcs11KeyRef ref{std::string("s") + std::to_string(n), "ssh-" + std::to_string(n)};
    ++n;
    auto pub = token->GenerateKeyPair(ref, c.kty, c.crv, 2048);
    ASSERT_TRUE(pub.ok()) << pub.status().message();
    auto signer = MakePkcs11SignerOnToken(token, ref, false, c.sha512);
    ASSERT_TRUE(signer.ok()) << signer.status().message();
    EVP_PKEY* subject = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
    ssh::Certificate cert;
    cert.key_blob = ssh::MarshalPublicKey(subject).value();
    EVP_PKEY_free(subject);
    cert.serial = 42;
    cert.key_id = "alice";
    cert.principals = {"alice"};
    cert.valid_after = 1767225600;
    cert.valid_before = 1767312000;
    cert.extensions = ssh::DefaultUserExtensions();
    ASSERT_TRUE(ssh::SignCertificate(&cert, **signer).ok());
    ssh::WireReader r(cert.signature);
    std::string_view alg;
    ASSERT_TRUE(r.String(&alg));
    EXPECT_EQ(alg, c.name);
    EXPECT_EQ(cert.signature_key, ssh::MarshalPublicKey(pub->get()).value());
    auto parsed = ssh::ParseCertificate(cert.wire);
    ASSERT_TRUE(parsed.ok()) << parsed.status().message();
    EXPECT_TRUE(ssh::VerifyCertificate(*parsed).ok());
    // A flipped bit in the signed part no longer verifies.
    std::string bad = cert.wire;
    bad[40] ^= 1;
    auto tampered = ssh::ParseCertificate(bad);
    if (tampered.ok()) {
      EXPECT_FALSE(ssh::VerifyCertificate(*tampered).ok());
    }
    if (keygen) {
      const std::string path = dir_ + "/cert-" + std::to_string(n) + ".pub";
      std::ofstream(path) << ssh::CertificateLine(cert) << "\n";
      std::string cmd = "ssh-keygen -L -f '" + path + "' 2>&1 | grep -q 'using " + c.name + "'";
      EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
    }
  }
}

}  // namespace
}  // namespace stepca

namespace stepca {
namespace {

// A key that asks for the PIN before every signature (CKA_ALWAYS_AUTHENTICATE,
// as a YubiKey's slot 9c shows through ykcs11) signs: the token logs in
// context-specifically after C_SignInit.
TEST_F(SoftHsm, KeysThatAlwaysAuthenticateSign) {
  if (std::system("command -v pkcs11-tool >/dev/null") != 0) GTEST_SKIP() << "pkcs11-tool (opensc) not installed";
  const std::string gen = std::string("pkcs11-tool --module ") + kModule +
                          " --token-label unit --login --pin " + kPin +
                          " --keypairgen --key-type EC:prime256v1 --id 0909 --label always"
                          " --always-auth >/dev/null 2>&1";
  ASSERT_EQ(std::system(gen.c_str()), 0) << gen;
  auto token = Open();
  ASSERT_TRUE(token);
  Pkcs11KeyRef ref{"\x09\x09", "always"};
  auto signer = MakePkcs11SignerOnToken(token, ref, false);
  ASSERT_TRUE(signer.ok()) << signer.status().message();
  for (const char* msg : {"first", "second"}) {
    auto sig = (*signer)->Sign(msg);
    ASSERT_TRUE(sig.ok()) << sig.status().LogText();
    EXPECT_TRUE(Verifies((*signer)->PublicKey(), EVP_sha256(), false, msg, sig.value()));
  }
}

}  // namespace
}  // namespace stepca
