// Process-wide ACME settings of one authority. In nginx they come from the
// stepca_acme_* directives (checked at `nginx -t`); any other caller fills
// them directly. A provisioner's "nginxStepca" object in ca.json overrides
// the validation ports and the resolver for that provisioner.
#ifndef STEPCA_AUTHORITY_ACME_OPTIONS_H
#define STEPCA_AUTHORITY_ACME_OPTIONS_H

#include <cstddef>
#include <string>

#include "authority/status.h"

namespace stepca {
namespace acme {

struct AcmeOptions {
  // "https://host[:port]" as clients reach the CA (behind a balancer with
  // another public name); empty: built from the request's Host when it is
  // one of ca.json's dnsNames, else from dnsNames[0].
  std::string base_url;
  int http01_port = 80;
  int tls_alpn01_port = 443;
  // "ip", "ip:port", "[ipv6]:port"; empty: the first nameserver of
  // /etc/resolv.conf.
  std::string dns_resolver;
  // The per-process validation pool (authority/acme/validate.h).
  size_t validation_threads = 4;
  size_t validation_queue = 1024;
};

constexpr size_t kMaxValidationThreads = 256;
constexpr size_t kMaxValidationQueue = 1000000;

// InvalidArgument naming the setting (by its nginx directive) for any value
// out of range; a bad value is never replaced by a default.
Status ValidateAcmeOptions(const AcmeOptions& options);

}  // namespace acme
}  // namespace stepca

#endif  // STEPCA_AUTHORITY_ACME_OPTIONS_H
