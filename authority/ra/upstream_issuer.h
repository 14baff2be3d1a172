// How a registration authority proves itself to its upstream step-ca: a
// one-time token of an upstream provisioner (certificateIssuer), minted per
// request. One implementation per issuer type: jwk_issuer.h, x5c_issuer.h.
#ifndef STEPCA_AUTHORITY_RA_UPSTREAM_ISSUER_H
#define STEPCA_AUTHORITY_RA_UPSTREAM_ISSUER_H

#include <optional>
#include <string>
#include <vector>

#include "authority/status.h"
#include "shared/duration.h"

namespace stepca {

// What the token is for: its audience path and the claims step-ca checks.
struct UpstreamTokenRequest {
  std::string audience;           // full URL, e.g. https://ca:9000/1.0/sign
  std::string subject;            // sign: the common name; revoke: the serial
  std::vector<std::string> sans;  // sign: every name of the CSR; revoke: none
};

struct UpstreamToken {
  std::string token;
  // The latest notAfter the upstream will sign with this token, when the
  // issuer's own credential limits it (an x5c certificate's notAfter less
  // a minute, as step-ca's StepCAS asks).
  std::optional<TimePoint> not_after_limit;
};

class UpstreamIssuer {
 public:
  virtual ~UpstreamIssuer() = default;
  // A fresh one-time token. An issuer that cannot mint one (its key or
  // certificate unreadable or expired) is kUnavailable: the RA's own
  // configuration, not the client, is at fault.
  virtual Result<UpstreamToken> Token(const UpstreamTokenRequest& request) const = 0;
};

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_RA_UPSTREAM_ISSUER_H
