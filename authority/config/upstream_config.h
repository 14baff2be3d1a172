// nginxStepca.upstream in ca.json (this CA's own extension; step-ca has no
// such field): how long a registration authority waits for its upstream CA,
// and how it shows the upstream a client certificate.
#ifndef STEPCA_AUTHORITY_CONFIG_UPSTREAM_CONFIG_H
#define STEPCA_AUTHORITY_CONFIG_UPSTREAM_CONFIG_H

#include <jansson.h>

#include "authority/status.h"
#include "shared/duration.h"

namespace stepca {

struct UpstreamTimeouts {
  Duration connect = std::chrono::seconds(5);  // TCP and TLS handshake
  Duration total = std::chrono::seconds(15);   // the whole call, connect included
};

// ext: the "nginxStepca" object (nullptr or null: the defaults). Its
// "upstream" member holds "connectTimeout" and "timeout", Go durations;
// connectTimeout may not exceed timeout, and neither 5m.
Result<UpstreamTimeouts> ParseUpstreamTimeouts(const json_t* ext);

// "clientCertHeader" of the same object: the request header an upstream
// nginx-stepca reads a client certificate from (its
// stepca_client_cert_header, with this RA among its stepca_trusted_proxy).
// With it a registration authority forwards renewals over mutual TLS;
// empty when absent. A name that is not an HTTP token is refused.
Result<std::string> ParseUpstreamClientCertHeader(const json_t* ext);

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_CONFIG_UPSTREAM_CONFIG_H
