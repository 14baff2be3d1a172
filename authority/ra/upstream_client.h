// HTTPS to the upstream CA of a registration authority, over libcurl.
//
// Calls block: they run on the pool thread of the request (never on the
// nginx event loop) or in the master at configuration time. Each pool
// thread keeps one curl handle, so its connection to the upstream is
// reused from request to request; every call is bounded by the timeouts.
#ifndef STEPCA_AUTHORITY_RA_UPSTREAM_CLIENT_H
#define STEPCA_AUTHORITY_RA_UPSTREAM_CLIENT_H

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "authority/status.h"

namespace stepca {

struct UpstreamResponse {
  long status = 0;
  std::string body;
  // With UpstreamOptions::peer_chain: the PEM certificates the upstream's
  // TLS server presented, its own first.
  std::vector<std::string> peer_chain_pems;
};

// What one call cost, for the metrics: how it ended ("ok" 2xx, "refused"
// 4xx, "failed" other statuses, "timeout", "unreachable"), how long it
// took, and how many TCP connections it opened (0: it reused one).
struct UpstreamCallStats {
  std::chrono::nanoseconds elapsed{0};
  const char* result = "ok";
  uint64_t new_connections = 0;
};
using UpstreamObserver = std::function<void(const UpstreamCallStats&)>;

struct UpstreamOptions {
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds total_timeout{15000};
  // false: a handle of its own per call, closed after it (configuration
  // time in the master, whose sockets the workers would inherit).
  bool reuse_connection = true;
  bool peer_chain = false;
  // Called after every call, from the calling thread; may be empty. No
  // call is retried: a failure is answered, once.
  UpstreamObserver observer;
  // Plain http:// allowed besides https:// (Vault's dev server, the test
  // fakes on 127.0.0.1); the caller decides when that is acceptable.
  bool allow_http = false;
  // With an empty root_pem: verify the TLS certificate against ca_file, or
  // the system's trust store when ca_file is empty (Vault, Google), instead
  // of not at all (the fingerprint bootstrap of a step-ca upstream).
  bool system_trust = false;
  std::string ca_file;
};

class UpstreamClient {
 public:
  // base: "https://host[:port]" without a trailing slash. root_pem: the
  // only certificate the upstream's TLS certificate may chain to; empty
  // only for the bootstrap fetch of /root/<fingerprint>, whose answer the
  // caller checks against the pinned fingerprint.
  UpstreamClient(std::string base, std::string root_pem, UpstreamOptions options = {});

  const std::string& base() const { return base_; }

  // Transport failures (connect, TLS, timeout) are kUnavailable with the
  // upstream named. Any HTTP status is a response.
  Result<UpstreamResponse> Get(const std::string& path) const;
  // bearer: sent as "Authorization: Bearer <bearer>" when not empty.
  Result<UpstreamResponse> PostJson(const std::string& path, const std::string& body,
                                    const std::string& bearer = "") const;
  // Any method, with extra request headers ("Name: value"; they may hold
  // credentials and are never logged) and the body's content type.
  Result<UpstreamResponse> Request(const std::string& method, const std::string& path,
                                   const std::string* body,
                                   const std::vector<std::string>& headers,
                                   const std::string& content_type = "application/json") const;

 private:
  Result<UpstreamResponse> Call(const std::string& path, const std::string* body,
                                const std::string& bearer) const;

  std::string base_;
  std::string root_pem_;
  UpstreamOptions options_;
};

// The message of a step-ca JSON error body ({"status":N,"message":"..."}),
// else a short excerpt of the body.
std::string UpstreamErrorMessage(const UpstreamResponse& response);

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_RA_UPSTREAM_CLIENT_H
