// Prometheus counters for the CA, shared by every nginx worker of a node.
//
// The counters live in one anonymous shared mapping (MAP_SHARED |
// MAP_ANONYMOUS) made when the authority is loaded, which is in the nginx
// master before it forks the workers: every worker increments the same
// std::atomic<uint64_t> slots, and whichever worker answers a scrape sees
// the sum of all of them. A reload loads a new authority, so the counters
// start again from zero (Prometheus treats that as a counter reset).
//
// Everything is counted here and in MeteredStore, nowhere else:
//   Authority::Handle           -> Request(path, status)
//   every Store call            -> latency and errors (MeteredStore)
//   PutIfAbsent("used_ott/...") refused -> a token replay
//   Put("x509_certs/...") done  -> a certificate issued, by the provisioner
//                                  named in the record (record-before-respond:
//                                  no certificate leaves without its record)
//   Put("acme_order/..."), Put("acme_authz/...") done -> an ACME order or
//                                  authorization written in the state its
//                                  record carries (a transition into it)
#ifndef STEPCA_AUTHORITY_METRICS_H
#define STEPCA_AUTHORITY_METRICS_H

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "authority/provisioner/provisioner_collection.h"
#include "authority/status.h"
#include "authority/store/store.h"

namespace stepca {

class Authority;

class Metrics {
 public:
  // The provisioners of ca.json name the label values.
  static Result<std::unique_ptr<Metrics>> Create(const ProvisionerCollection& provisioners);
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  void Request(std::string_view path, int status);
  void CertificateIssued(std::string_view provisioner);
  void TokenReplay();
  void StoreCall(std::chrono::nanoseconds elapsed, bool failed);
  // An ACME record written under key with a JSON value carrying "status".
  void AcmeRecord(std::string_view key, std::string_view value);

  // The Prometheus text exposition (format 0.0.4) of the counters and the
  // gauges computed now from the authority (days left on the certificates).
  std::string Render(const Authority& authority) const;

  // The route label of a request path: "sign", "roots", "acme", ... or
  // "other" (unknown paths), so label values stay a small fixed set.
  static std::string_view RouteOf(std::string_view path);

  // For tests.
  uint64_t token_replays() const;
  uint64_t store_errors() const;
  uint64_t store_calls() const;
  uint64_t certificates_issued() const;  // all provisioners
  uint64_t acme_orders(std::string_view state) const;

 private:
  struct Shared;
  Metrics() = default;
  std::vector<std::string> provisioners_;
  Shared* shared_ = nullptr;
  size_t size_ = 0;
};

// A Store that forwards every call to inner and counts it in metrics.
std::unique_ptr<Store> MeteredStore(std::unique_ptr<Store> inner, Metrics* metrics);

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_METRICS_H
