// Provisioner claims: hard-coded defaults, then authority.claims, then the
// provisioner's own claims; the most specific one set wins.
#ifndef STEPCA_AUTHORITY_X509_CLAIMS_H
#define STEPCA_AUTHORITY_X509_CLAIMS_H

#include <jansson.h>

#include <string>

#include "authority/status.h"
#include "shared/duration.h"

namespace stepca {

struct Claims {
  Duration min_tls = std::chrono::minutes(5);
  Duration max_tls = std::chrono::hours(24);
  Duration default_tls = std::chrono::hours(24);
  Duration min_user_ssh = std::chrono::minutes(5);
  Duration max_user_ssh = std::chrono::hours(24);
  Duration default_user_ssh = std::chrono::hours(16);
  Duration min_host_ssh = std::chrono::minutes(5);
  Duration max_host_ssh = std::chrono::hours(720);
  Duration default_host_ssh = std::chrono::hours(720);
  bool enable_ssh_ca = false;
  bool disable_renewal = false;
  bool allow_renewal_after_expiry = false;
  bool disable_smallstep_extensions = false;
};

// Applies a "claims" object (may be NULL or JSON null) on top of base.
// provisioner_layer enables step-ca's rule that a provisioner's default
// outside the global [min, max] moves that bound. Validates min <= default
// <= max and all > 0 for TLS. field names the object for errors
// ("authority.provisioners[0].claims"); errors are kInvalidArgument
// 'field "<field>.maxTLSCertDuration": invalid duration "x"'.
Result<Claims> ApplyClaims(const Claims& base, const json_t* claims,
                           bool provisioner_layer, const std::string& field);

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_X509_CLAIMS_H
