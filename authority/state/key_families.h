// Which record family a store key belongs to, for the metrics decorator
// (authority/metrics.h), which counts writes by family without spelling a
// key itself.
#ifndef STEPCA_AUTHORITY_STATE_KEY_FAMILIES_H
#define STEPCA_AUTHORITY_STATE_KEY_FAMILIES_H

#include <string_view>

namespace stepca {

enum class KeyFamily {
  kOther,
  kSpentToken,         // spent_tokens.h
  kCertificateRecord,  // certificate_records.h
  kAcmeOrder,          // acme_orders.h (the order records, not the lists)
  kAcmeAuthorization,  // acme_authorizations.h
};

KeyFamily FamilyOfKey(std::string_view key);

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_STATE_KEY_FAMILIES_H
