#include "authority/ra/cas_certs.h"

#include <gtest/gtest.h>

#include "authority/testing/fixture_pki.h"

namespace stepca {
namespace {

using testing::ReadFixture;

std::string RootPem() { return ReadFixture("pki/certs/root_ca.crt"); }
std::string IntermediatePem() { return ReadFixture("pki/certs/intermediate_ca.crt"); }

TEST(CasCerts, ParsesEveryCertificateOfAChainInOrder) {
  auto chain = ParsePemChain(IntermediatePem() + RootPem());
  ASSERT_TRUE(chain.ok()) << chain.status().message();
  ASSERT_EQ(chain->size(), 2u);
  EXPECT_FALSE(IsSelfSigned((*chain)[0].get()));
  EXPECT_TRUE(IsSelfSigned((*chain)[1].get()));
  EXPECT_FALSE(ParsePemChain("not a certificate").ok());
  EXPECT_FALSE(ParsePemChain("").ok());
}

TEST(CasCerts, PemArrayCertsTakesEveryCertificateAndSkipsTheRest) {
  JsonPtr list(json_array());
  json_array_append_new(list.get(), json_string((IntermediatePem() + RootPem()).c_str()));
  json_array_append_new(list.get(), json_integer(7));
  json_array_append_new(list.get(), json_string("not a certificate"));
  json_array_append_new(list.get(), json_string(RootPem().c_str()));
  auto certs = PemArrayCerts(list.get());
  ASSERT_EQ(certs.size(), 3u);
  EXPECT_FALSE(IsSelfSigned(certs[0].get()));
  EXPECT_TRUE(IsSelfSigned(certs[1].get()));
  EXPECT_EQ(X509_cmp(certs[1].get(), certs[2].get()), 0);
  EXPECT_TRUE(PemArrayCerts(nullptr).empty());
}

TEST(CasCerts, WithoutRootsDropsTheSelfSigned) {
  auto chain = ParsePemChain(IntermediatePem() + RootPem());
  ASSERT_TRUE(chain.ok());
  auto pems = WithoutRoots(chain.value());
  ASSERT_EQ(pems.size(), 1u);
  EXPECT_EQ(pems[0], CertificateToPem((*chain)[0].get()));
}

TEST(CasCerts, PickRootByFingerprintOrTheLastSelfSigned) {
  auto chain = ParsePemChain(IntermediatePem() + RootPem());
  ASSERT_TRUE(chain.ok());
  const std::string root_fp = CertSha256Hex((*chain)[1].get());
  const std::string int_fp = CertSha256Hex((*chain)[0].get());
  auto by_fp = PickRoot(chain.value(), root_fp, "Vault");
  ASSERT_TRUE(by_fp.ok()) << by_fp.status().message();
  EXPECT_EQ(CertSha256Hex(by_fp->get()), root_fp);
  // a pinned intermediate is what the operator asked for
  auto pinned_int = PickRoot(chain.value(), int_fp, "Vault");
  ASSERT_TRUE(pinned_int.ok());
  EXPECT_EQ(CertSha256Hex(pinned_int->get()), int_fp);
  auto last = PickRoot(chain.value(), "", "Vault");
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(CertSha256Hex(last->get()), root_fp);
  auto wrong = PickRoot(chain.value(), std::string(64, 'a'), "Vault's pki mount");
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.status().message().find("Vault's pki mount has no CA certificate with fingerprint " +
                                          std::string(64, 'a')),
            std::string::npos)
      << wrong.status().message();
  EXPECT_NE(wrong.status().message().find(root_fp), std::string::npos);
  auto only_int = ParsePemChain(IntermediatePem());
  ASSERT_TRUE(only_int.ok());
  EXPECT_FALSE(PickRoot(only_int.value(), "", "Google CAS").ok());
}

// The fixture intermediate stands for a leaf: the root issued it.
TEST(CasCerts, CheckedIssuedWantsTheCsrKeyAndTheIssuer) {
  auto inter = ParsePemChain(IntermediatePem());
  ASSERT_TRUE(inter.ok());
  EVP_PKEY* key = X509_get0_pubkey((*inter)[0].get());
  auto ok = CheckedIssued(IntermediatePem(), {RootPem()}, key, "vault");
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_EQ(ok->serial, SerialDecimal((*inter)[0].get()));
  EXPECT_FALSE(ok->der.empty());
  EXPECT_EQ(ok->chain_pems.size(), 1u);

  auto other = testing::MakeKey("P-256");
  auto wrong_key = CheckedIssued(IntermediatePem(), {RootPem()}, other.get(), "vault");
  ASSERT_FALSE(wrong_key.ok());
  EXPECT_EQ(wrong_key.status().code(), Code::kUnavailable);
  EXPECT_NE(wrong_key.status().detail().find("does not carry the CSR's key"), std::string::npos);

  auto wrong_issuer = CheckedIssued(IntermediatePem(), {IntermediatePem()}, key, "vault");
  ASSERT_FALSE(wrong_issuer.ok());
  EXPECT_NE(wrong_issuer.status().detail().find("not issued by"), std::string::npos);

  EXPECT_FALSE(CheckedIssued(IntermediatePem(), {}, key, "vault").ok());
  EXPECT_FALSE(CheckedIssued("garbage", {RootPem()}, key, "vault").ok());
}

TEST(CasCerts, IssuerMemoryKeepsTheLatestIssuerAndTheEarliestNotAfter) {
  auto root = ParsePemChain(RootPem());
  auto inter = ParsePemChain(IntermediatePem());
  ASSERT_TRUE(root.ok() && inter.ok());
  IssuerMemory m((*root)[0].get());
  EXPECT_EQ(m.Issuing(), nullptr);
  EXPECT_EQ(m.NotAfter(), CertNotAfter((*root)[0].get()));
  m.Note(IntermediatePem());
  ASSERT_NE(m.Issuing(), nullptr);
  EXPECT_EQ(X509_cmp(m.Issuing(), (*inter)[0].get()), 0);
  const TimePoint earliest = std::min(CertNotAfter((*root)[0].get()), CertNotAfter((*inter)[0].get()));
  EXPECT_EQ(m.NotAfter(), earliest);
  m.Note("garbage");  // ignored
  EXPECT_EQ(X509_cmp(m.Issuing(), (*inter)[0].get()), 0);
}

}  // namespace
}  // namespace stepca
