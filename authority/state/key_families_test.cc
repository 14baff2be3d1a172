#include "authority/state/key_families.h"

#include <gtest/gtest.h>

#include "authority/state/acme_accounts.h"
#include "authority/state/acme_authorizations.h"
#include "authority/state/acme_certificates.h"
#include "authority/state/acme_orders.h"
#include "authority/state/certificate_records.h"
#include "authority/state/revocations.h"
#include "authority/state/spent_tokens.h"
#include "authority/state/store_epoch.h"

namespace stepca {
namespace {

TEST(KeyFamiliesTest, EachKeyInItsFamily) {
  EXPECT_EQ(FamilyOfKey(SpentTokens::Key("k")), KeyFamily::kSpentToken);
  EXPECT_EQ(FamilyOfKey(CertificateRecords::Key("12")), KeyFamily::kCertificateRecord);
  EXPECT_EQ(FamilyOfKey(AcmeOrders::Key("o")), KeyFamily::kAcmeOrder);
  EXPECT_EQ(FamilyOfKey(AcmeAuthorizations::Key("a")), KeyFamily::kAcmeAuthorization);
  // Revocations share the "x509_certs" word but are not certificate records.
  EXPECT_EQ(FamilyOfKey(Revocations::Key("12")), KeyFamily::kOther);
  EXPECT_EQ(FamilyOfKey(AcmeCertificates::Key("o")), KeyFamily::kOther);
  EXPECT_EQ(FamilyOfKey(AcmeAccounts::Key("o")), KeyFamily::kOther);
  EXPECT_EQ(FamilyOfKey(StoreEpoch::Key()), KeyFamily::kOther);
  EXPECT_EQ(FamilyOfKey(""), KeyFamily::kOther);
}

}  // namespace
}  // namespace stepca
