// ACME request dispatch: the provisioner from the path, the public origin,
// the method and content-type rules, the resource handler, and on every
// answer a fresh Replay-Nonce, the directory Link and Cache-Control.
#ifndef STEPCA_AUTHORITY_ACME_ROUTER_H
#define STEPCA_AUTHORITY_ACME_ROUTER_H

#include "authority/api/http.h"

namespace stepca {
namespace acme {

class Service;

HttpResponse Route(Service& service, const HttpRequest& request);

}  // namespace acme
}  // namespace stepca

#endif  // STEPCA_AUTHORITY_ACME_ROUTER_H
