#include "authority/state/key_families.h"

#include <string>

#include "authority/state/acme_authorizations.h"
#include "authority/state/acme_orders.h"
#include "authority/state/certificate_records.h"
#include "authority/state/spent_tokens.h"

namespace stepca {
namespace {

bool HasPrefix(std::string_view key, const std::string& prefix) {
  return key.substr(0, prefix.size()) == prefix;
}

}  // namespace

KeyFamily FamilyOfKey(std::string_view key) {
  // Each Key("") is its family's prefix, separator included.
  static const std::string spent = SpentTokens::Key("");
  static const std::string certs = CertificateRecords::Key("");
  static const std::string orders = AcmeOrders::Key("");
  static const std::string authzs = AcmeAuthorizations::Key("");
  if (HasPrefix(key, spent)) return KeyFamily::kSpentToken;
  if (HasPrefix(key, certs)) return KeyFamily::kCertificateRecord;
  if (HasPrefix(key, orders)) return KeyFamily::kAcmeOrder;
  if (HasPrefix(key, authzs)) return KeyFamily::kAcmeAuthorization;
  return KeyFamily::kOther;
}

}  // namespace stepca
