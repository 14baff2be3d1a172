// The step-ca front end: one HTTP request to the composition root's parts
// (policy, ACME service, chain and provisioner listings), step-ca's JSON
// shapes out. This layer depends on the core (authority.h); the core never
// sees HTTP.
#ifndef STEPCA_AUTHORITY_API_ROUTER_H
#define STEPCA_AUTHORITY_API_ROUTER_H

#include "authority/api/http.h"

namespace stepca {

class Authority;

// Thread-safe: the response, with X-Request-Id set and the log line
// formatted as ca.json's logger asks.
HttpResponse HandleHttp(Authority& authority, const HttpRequest& request);

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_API_ROUTER_H
