// Challenge validation (RFC 8555 section 8, RFC 8737, RFC 8738), run off the
// request path by a small per-process thread pool. Each check is bounded:
// one connection/query timeout, a capped body, a capped number of redirects.
#ifndef STEPCA_AUTHORITY_ACME_VALIDATE_H
#define STEPCA_AUTHORITY_ACME_VALIDATE_H

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "authority/acme/problem.h"
#include "authority/state/acme_identifier.h"

namespace stepca {
namespace acme {

struct ValidationConfig {
  int http01_port = 80;
  int tls_alpn01_port = 443;
  std::string dns_resolver;  // "ip" or "ip:port"; empty: first nameserver of /etc/resolv.conf
  std::chrono::milliseconds timeout{10000};
  int attempts = 3;          // per challenge POST
  std::chrono::milliseconds retry_delay{2000};
};

struct ValidationTask {
  std::string provisioner;
  std::string authz_id;
  std::string challenge_id;
  std::string type;
  Identifier identifier;     // without "*."
  std::string token;
  std::string key_authorization;
  // The challenge's processingSince when this run started it: the result is
  // written only while the challenge still carries it (no run that was
  // taken over writes).
  std::string started;
  ValidationConfig config;
};

// One attempt. Problems use the RFC's types: connection, incorrectResponse,
// dns, tls, unauthorized. stop (may be null) aborts a running transfer.
Problem ValidateHttp01(const ValidationTask& t, const std::atomic<bool>* stop);
Problem ValidateDns01(const ValidationTask& t);
Problem ValidateTlsAlpn01(const ValidationTask& t);
Problem ValidateOnce(const ValidationTask& t, const std::atomic<bool>* stop);

// base64url(SHA-256(text)), the dns-01 TXT value.
std::string Sha256B64(const std::string& text);

// A fixed set of threads started on the first Submit (never before: nginx
// workers fork after configuration) and joined by Stop.
class ValidationPool {
 public:
  using Runner = std::function<void(const ValidationTask&, const std::atomic<bool>& stop)>;
  ValidationPool(size_t threads, size_t max_queue, Runner run);
  ~ValidationPool();

  // false when the queue is full or the pool stopped.
  bool Submit(ValidationTask task);
  void Stop();

 private:
  void Loop();

  const size_t threads_;
  const size_t max_queue_;
  Runner run_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<ValidationTask> queue_;
  std::vector<std::thread> workers_;
  std::atomic<bool> stop_{false};
};

}  // namespace acme
}  // namespace stepca

#endif  // STEPCA_AUTHORITY_ACME_VALIDATE_H
