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
  // Each Key("") is its family's prefix, separator included. Built once and
  // never destroyed: store calls from nginx's thread pool may still run
  // while a worker's static destructors do.
  static const std::string* const spent = new std::string(SpentTokens::Key(""));
  static const std::string* const certs = new std::string(CertificateRecords::Key(""));
  static const std::string* const orders = new std::string(AcmeOrders::Key(""));
  static const std::string* const authzs = new std::string(AcmeAuthorizations::Key(""));
  if (HasPrefix(key, *spent)) return KeyFamily::kSpentToken;
  if (HasPrefix(key, *certs)) return KeyFamily::kCertificateRecord;
  if (HasPrefix(key, *orders)) return KeyFamily::kAcmeOrder;
  if (HasPrefix(key, *authzs)) return KeyFamily::kAcmeAuthorization;
  return KeyFamily::kOther;
}

}  // namespace stepca
