// Finding the Redis master through Redis Sentinel.
//
// Each sentinel is asked in the configured order, with the store's connect
// and command timeouts, `SENTINEL get-master-addr-by-name <master>`; the
// first answer wins. The store asks again on every (re)connect, so after a
// failover the next connection goes to the promoted replica. The caller
// still checks, with INFO replication, that the address is a master: a
// sentinel may answer with the old master for a moment after a failover.
#ifndef STEPCA_AUTHORITY_STORE_REDIS_SENTINEL_H
#define STEPCA_AUTHORITY_STORE_REDIS_SENTINEL_H

#include <openssl/ssl.h>

#include <string>

#include "authority/status.h"
#include "authority/store/store.h"

namespace stepca {

// The master's address (host or IP as the sentinel announces it, port).
// kUnavailable naming the last reason when no sentinel answers; the
// sentinel password never appears in it.
// With tls (rediss+sentinel://) the sentinels are spoken to over TLS too,
// each checked against its own host (or redis_tls_server_name).
[[nodiscard]] Result<StoreConfig::Endpoint> LocateSentinelMaster(const StoreConfig& config,
                                                                 SSL_CTX* tls);

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_STORE_REDIS_SENTINEL_H
