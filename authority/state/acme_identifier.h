// An ACME identifier as orders and authorizations store it:
// {"type":"dns"|"ip","value":...}. A plain value type, shared by
// acme_orders.h and acme_authorizations.h.
#ifndef STEPCA_AUTHORITY_STATE_ACME_IDENTIFIER_H
#define STEPCA_AUTHORITY_STATE_ACME_IDENTIFIER_H

#include <string>

namespace stepca {
namespace acme {

struct Identifier {
  std::string type;   // "dns" or "ip"
  std::string value;  // lower-case name (with "*." for wildcards), canonical IP
};

}  // namespace acme
}  // namespace stepca

#endif  // STEPCA_AUTHORITY_STATE_ACME_IDENTIFIER_H
