// Verification keys published by someone else: an OpenID Connect issuer
// (discovery document, then its jwks_uri) or a bare JWKS URL (Google's
// certificates, Azure's keys). Fetched with libcurl at configuration time
// and refreshed by a background thread, never while a request waits: a
// token whose kid is unknown is refused and schedules one refresh, at most
// one per refresh interval, so a flood of made-up kids cannot hammer the
// issuer.
#ifndef STEPCA_AUTHORITY_PROVISIONER_REMOTE_KEY_SET_H
#define STEPCA_AUTHORITY_PROVISIONER_REMOTE_KEY_SET_H

#include <jansson.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "authority/jose/jwk.h"
#include "authority/status.h"
#include "shared/duration.h"

namespace stepca {

struct HttpDocument {
  std::string body;
  std::string cache_control;  // the Cache-Control header, "" when absent
};

// GETs url; kUnavailable when it cannot be fetched or the status is not 200.
using HttpGetter = std::function<Result<HttpDocument>(const std::string& url)>;
// libcurl, 5 s timeouts, at most 1 MiB, no redirects; ca_file, when not
// empty, replaces the system's trusted roots.
Result<HttpDocument> CurlHttpGet(const std::string& url, const std::string& ca_file = "");
// CurlHttpGet with the roots of $SSL_CERT_FILE as it is now (at
// configuration time, in the nginx master: workers keep the value), the
// variable step-ca's Go HTTP client honours too.
HttpGetter DefaultHttpGetter();

// The parsed documents. Exposed for unit tests and the fuzz target.
struct OidcDiscovery {
  std::string issuer;
  std::string jwks_uri;
};
// Requires "issuer" and "jwks_uri" strings (step-ca's rule).
Result<OidcDiscovery> ParseOidcDiscovery(std::string_view body);
// {"keys":[...]}: keys that do not parse (symmetric, unknown kty) and keys
// whose "use" is not "sig" are skipped, as a JWKS may hold keys this CA
// cannot use; no usable key at all is an error.
Result<std::vector<Jwk>> ParseJwkSet(std::string_view body);
// max-age of a Cache-Control header; default when absent or unreadable.
std::chrono::seconds CacheMaxAge(const std::string& cache_control, std::chrono::seconds dflt);

class RemoteKeySet : public std::enable_shared_from_this<RemoteKeySet> {
 public:
  struct Source {
    // Either a configuration endpoint (discovery) or a JWKS URL.
    std::string discovery_url;
    std::string jwks_url;
    // Replaces "{tenantid}" in the discovered issuer (Azure AD).
    std::string tenant_id;
  };
  static constexpr std::chrono::seconds kDefaultMaxAge{12 * 3600};
  static constexpr std::chrono::seconds kRefreshInterval{30};

  RemoteKeySet(Source source, HttpGetter get,
               std::chrono::seconds refresh_interval = kRefreshInterval);

  // Fetches now, blocking (configuration time).
  Status Load();

  // The keys with this kid (a token without kid matches keys without one).
  // When none match or the cache has expired, a background refresh is
  // scheduled (rate-limited) and the current keys are returned.
  std::vector<std::shared_ptr<const Jwk>> Find(const std::string& kid);

  // The issuer the discovery document named ("" before a load or for a
  // bare JWKS).
  std::string issuer() const;
  bool loaded() const;
  // Successful and failed fetches so far, for tests.
  int fetches() const { return fetches_.load(); }

 private:
  struct Snapshot {
    std::string issuer;
    std::vector<std::shared_ptr<const Jwk>> keys;
    std::chrono::steady_clock::time_point expires;
  };
  Result<std::shared_ptr<const Snapshot>> Fetch() const;
  void ScheduleRefresh();

  const Source source_;
  const HttpGetter get_;
  const std::chrono::seconds refresh_interval_;
  mutable std::mutex mu_;
  std::shared_ptr<const Snapshot> snapshot_;  // null until the first load
  std::chrono::steady_clock::time_point last_refresh_{};
  bool refreshing_ = false;
  pid_t refreshing_pid_ = 0;  // a refresh in flight in the parent is not ours after fork
  mutable std::atomic<int> fetches_{0};
};

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_PROVISIONER_REMOTE_KEY_SET_H
