// The validity window of a new leaf, with step-ca's rules and messages.
#ifndef STEPCA_AUTHORITY_X509_VALIDITY_H
#define STEPCA_AUTHORITY_X509_VALIDITY_H

#include "authority/status.h"
#include "authority/x509/claims.h"
#include "shared/duration.h"

namespace stepca {

struct Validity {
  TimePoint not_before;
  TimePoint not_after;
};

// notBefore: requested (relative to now) or now - backdate when unset.
// notAfter: requested (relative to the unbackdated notBefore) or that +
// default_tls. Then min_tls <= (notAfter - notBefore) <= max_tls + backdate
// when notBefore was backdated, notAfter after now, notBefore < notAfter;
// failures are kPermissionDenied with step-ca's wording ("requested
// duration of 1000h1m0s is more than the authorized maximum certificate
// duration of 24h1m0s"). Finally notAfter is clamped to issuer_not_after.
Result<Validity> ComputeValidity(TimePoint now, const TimeDuration& not_before,
                                 const TimeDuration& not_after,
                                 const Claims& claims, Duration backdate,
                                 TimePoint issuer_not_after);

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_X509_VALIDITY_H
