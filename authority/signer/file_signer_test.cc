#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <fstream>
#include <sstream>

#include "authority/testing/fixture_pki.h"
#include "authority/signer/file_signer.h"

namespace stepca {
namespace {

using testing::ReadFixture;

std::string CaPassword() {
  std::string p = ReadFixture("pki/password.txt");
  while (!p.empty() && (p.back() == '\n' || p.back() == '\r')) p.pop_back();
  return p;
}

X509Ptr ReadCert(const std::string& rel) {
  std::string pem = ReadFixture(rel);
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  return X509Ptr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

EvpPkeyPtr Generate(const char* type, const char* curve = nullptr) {
  EvpPkeyPtr key;
  if (curve) {
    key.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, type, curve));
  } else if (std::string(type) == "RSA") {
    key.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, type, size_t{2048}));
  } else {
    key.reset(EVP_PKEY_Q_keygen(nullptr, nullptr, type));
  }
  return key;
}

std::string EncryptedPkcs8(EVP_PKEY* key, const std::string& password) {
  BioPtr out(BIO_new(BIO_s_mem()));
  EXPECT_EQ(PEM_write_bio_PKCS8PrivateKey(out.get(), key, EVP_aes_256_cbc(), password.data(),
                                          static_cast<int>(password.size()), nullptr, nullptr),
            1);
  char* data = nullptr;
  long len = BIO_get_mem_data(out.get(), &data);
  return std::string(data, len);
}

TEST(LoadPrivateKeyPem, DecryptsStepLegacyEncryptedEcKey) {
  std::string pem = ReadFixture("pki/secrets/intermediate_ca_key");
  ASSERT_NE(pem.find("Proc-Type: 4,ENCRYPTED"), std::string::npos);
  auto key = LoadPrivateKeyPem(pem, CaPassword());
  ASSERT_TRUE(key.ok()) << key.status().message();
  X509Ptr cert = ReadCert("pki/certs/intermediate_ca.crt");
  ASSERT_TRUE(cert);
  EXPECT_EQ(X509_check_private_key(cert.get(), key->get()), 1);
  X509Ptr root = ReadCert("pki/certs/root_ca.crt");
  EXPECT_EQ(X509_check_private_key(root.get(), key->get()), 0);
}

TEST(LoadPrivateKeyPem, WrongPasswordIsAnError) {
  std::string pem = ReadFixture("pki/secrets/intermediate_ca_key");
  auto key = LoadPrivateKeyPem(pem, "not-the-password");
  ASSERT_FALSE(key.ok());
  EXPECT_EQ(key.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(key.status().message(), "cannot decrypt key (wrong password?)");

  auto none = LoadPrivateKeyPem(pem, "");
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), Code::kInvalidArgument);
}

TEST(LoadPrivateKeyPem, EncryptedPkcs8Ed25519) {
  EvpPkeyPtr key = Generate("ED25519");
  ASSERT_TRUE(key);
  std::string pem = EncryptedPkcs8(key.get(), "s3cret-pass");
  ASSERT_NE(pem.find("BEGIN ENCRYPTED PRIVATE KEY"), std::string::npos);
  auto loaded = LoadPrivateKeyPem(pem, "s3cret-pass");
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  EXPECT_EQ(EVP_PKEY_eq(key.get(), loaded->get()), 1);
  EXPECT_EQ(DigestForKey(loaded->get()), nullptr);

  auto wrong = LoadPrivateKeyPem(pem, "other");
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().message(), "cannot decrypt key (wrong password?)");
}

TEST(LoadPrivateKeyPem, UnencryptedKey) {
  std::string pem = ReadFixture("certs/sign-ok.key");
  auto key = LoadPrivateKeyPem(pem, "");
  ASSERT_TRUE(key.ok()) << key.status().message();
  X509Ptr cert = ReadCert("certs/sign-ok.crt");
  EXPECT_EQ(X509_check_private_key(cert.get(), key->get()), 1);
}

TEST(LoadPrivateKeyPem, RejectsGarbageAndUnsupportedKeys) {
  EXPECT_FALSE(LoadPrivateKeyPem("", "").ok());
  EXPECT_FALSE(LoadPrivateKeyPem("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "").ok());

  EvpPkeyPtr p224 = Generate("EC", "P-224");
  ASSERT_TRUE(p224);
  auto r = LoadPrivateKeyPem(EncryptedPkcs8(p224.get(), "pw"), "pw");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
}

TEST(DigestForKey, FollowsKeyType) {
  EXPECT_EQ(DigestForKey(Generate("EC", "P-256").get()), EVP_sha256());
  EXPECT_EQ(DigestForKey(Generate("EC", "P-384").get()), EVP_sha384());
  EXPECT_EQ(DigestForKey(Generate("EC", "P-521").get()), EVP_sha512());
  EXPECT_EQ(DigestForKey(Generate("RSA").get()), EVP_sha256());
  EXPECT_EQ(DigestForKey(Generate("ED25519").get()), nullptr);
}

// Signs a minimal self-issued certificate and verifies it with the key.
void SignAndVerify(EvpPkeyPtr key, int want_sig_nid) {
  ASSERT_TRUE(key);
  X509Ptr cert(X509_new());
  X509_set_version(cert.get(), X509_VERSION_3);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 60);
  X509_set_pubkey(cert.get(), key.get());
  EVP_PKEY* pub = key.get();
  auto signer = MakeFileSigner(std::move(key));
  ASSERT_TRUE(signer.ok()) << signer.status().message();
  EXPECT_EQ((*signer)->PublicKey(), pub);
  ASSERT_TRUE((*signer)->SignCertificate(cert.get()).ok());
  EXPECT_EQ(X509_verify(cert.get(), pub), 1);
  EXPECT_EQ(X509_get_signature_nid(cert.get()), want_sig_nid);
}

TEST(FileSigner, SignsWithTheRightAlgorithm) {
  SignAndVerify(Generate("EC", "P-256"), NID_ecdsa_with_SHA256);
  SignAndVerify(Generate("EC", "P-384"), NID_ecdsa_with_SHA384);
  SignAndVerify(Generate("EC", "P-521"), NID_ecdsa_with_SHA512);
  SignAndVerify(Generate("RSA"), NID_sha256WithRSAEncryption);
  SignAndVerify(Generate("ED25519"), NID_ED25519);
}

// Sign(message) makes a signature the public key verifies over that
// message, with the digest the algorithm names, and not over another one.
void SignMessageAndVerify(EvpPkeyPtr key, SignatureAlgorithm want) {
  ASSERT_TRUE(key);
  EVP_PKEY* pub = key.get();
  const EVP_MD* md = DigestForKey(pub);
  auto signer = MakeFileSigner(std::move(key));
  ASSERT_TRUE(signer.ok()) << signer.status().message();
  EXPECT_EQ((*signer)->Algorithm(), want);
  EXPECT_TRUE((*signer)->InitProcess().ok());
  const std::string msg = "to be signed";
  auto sig = (*signer)->Sign(msg);
  ASSERT_TRUE(sig.ok()) << sig.status().message();
  auto verify = [&](const std::string& m) {
    EvpMdCtxPtr ctx(EVP_MD_CTX_new());
    EVP_PKEY_CTX* pctx = nullptr;
    EXPECT_EQ(EVP_DigestVerifyInit(ctx.get(), &pctx, md, nullptr, pub), 1);
    return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig->data()),
                            sig->size(), reinterpret_cast<const unsigned char*>(m.data()),
                            m.size());
  };
  EXPECT_EQ(verify(msg), 1);
  EXPECT_NE(verify("something else"), 1);
}

TEST(FileSigner, SignsMessagesWithTheKeysAlgorithm) {
  SignMessageAndVerify(Generate("EC", "P-256"), SignatureAlgorithm::kEcdsaSha256);
  SignMessageAndVerify(Generate("EC", "P-384"), SignatureAlgorithm::kEcdsaSha384);
  SignMessageAndVerify(Generate("EC", "P-521"), SignatureAlgorithm::kEcdsaSha512);
  SignMessageAndVerify(Generate("RSA"), SignatureAlgorithm::kRsaPkcs1Sha256);
  SignMessageAndVerify(Generate("ED25519"), SignatureAlgorithm::kEd25519);
}

TEST(AlgorithmForKey, RejectsKeysTheCaDoesNotSignWith) {
  EXPECT_FALSE(AlgorithmForKey(nullptr).ok());
  EXPECT_FALSE(AlgorithmForKey(Generate("EC", "P-224").get()).ok());
  EvpPkeyPtr small(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{1024}));
  EXPECT_FALSE(AlgorithmForKey(small.get()).ok());
  EXPECT_EQ(AlgorithmForKey(Generate("ED25519").get()).value(), SignatureAlgorithm::kEd25519);
}

TEST(FileSigner, RejectsMissingOrUnsupportedKey) {
  EXPECT_FALSE(MakeFileSigner(nullptr).ok());
  EXPECT_FALSE(MakeFileSigner(Generate("EC", "P-224")).ok());
}

}  // namespace
}  // namespace stepca
