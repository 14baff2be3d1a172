// What the Vault and Google CAS backends have in common beyond
// certificates: serial numbers and lifetimes in the forms their APIs take,
// and the configuration errors they report at start-up.
#ifndef STEPCA_AUTHORITY_RA_CAS_REQUEST_H
#define STEPCA_AUTHORITY_RA_CAS_REQUEST_H

#include <string>

#include "authority/status.h"
#include "shared/duration.h"

namespace stepca {

// A decimal serial number as lower-case hex in whole bytes ("0a1b...").
Result<std::string> SerialHex(const std::string& decimal);

// The time left until not_after as the APIs' duration text ("3600s"), at
// least one second so an already-capped leaf is still a valid request.
std::string LifetimeSeconds(TimePoint not_after);

// An error in the RA's configuration, naming authority.<field>.
Status RaFieldError(const char* field, const std::string& msg);

// A status as one line: its message, then its detail when it has one.
std::string Described(const Status& s);

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_RA_CAS_REQUEST_H
