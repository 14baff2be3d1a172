// Prometheus counters for the CA, shared by every nginx worker of a node.
//
// The counters are std::atomic<uint64_t> slots in memory shared by every
// worker, so whichever worker answers a scrape sees the sum of all of them.
// Create maps its own anonymous shared memory (enough for a process that
// forks after it, as the CLI's tests do). nginx hands in a shared memory
// zone instead (UseSharedMemory): the zone outlives a reload, the new
// authority finds the counters the old one left, and they keep counting.
// Per-provisioner counters are found by the provisioner's name, so a reload
// that adds, removes or reorders provisioners keeps each one's count.
//
// Everything is counted here and in MeteredStore, nowhere else:
//   Authority::Handle           -> Request(path, status)
//   every Store call            -> latency and errors (MeteredStore)
//   every upstream CA call (RA) -> UpstreamCall, from the upstream client's
//                                  observer (Authority::Create wires it)
// (the key families come from authority/state/key_families.h):
//   a spent token refused (set-if-absent) -> a token replay
//   a certificate record written  -> a certificate issued, by the provisioner
//                                  named in the record (record-before-respond:
//                                  no certificate leaves without its record)
//   an ACME order or authorization written -> one written in the state its
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

  // The size of the memory UseSharedMemory needs.
  static size_t SharedSize();
  // Moves the counters into mem (SharedSize() bytes, 8-byte aligned, shared
  // by every process that counts). Zeroed memory, or memory another layout
  // wrote, starts from zero; memory an earlier Metrics used keeps its
  // counts. Call before any process counts (nginx: in the master, at
  // configuration time); mem must outlive this object.
  Status UseSharedMemory(void* mem, size_t size);
  Metrics& operator=(const Metrics&) = delete;

  void Request(std::string_view path, int status);
  void CertificateIssued(std::string_view provisioner);
  void TokenReplay();
  // result: "ok", "refused" (4xx), "failed" (5xx, unusable answer),
  // "timeout" or "unreachable"; new_connections: TCP connections the call
  // opened (0 when it reused one).
  void UpstreamCall(std::chrono::nanoseconds elapsed, std::string_view result,
                    uint64_t new_connections);
  void StoreCall(std::chrono::nanoseconds elapsed, bool failed);
  // An ACME record written under key with a JSON value carrying "status".
  void AcmeRecord(std::string_view key, std::string_view value);
  // The CA's own TLS certificate of slot (authority/tls/) that this process
  // now serves expires at not_after (unix seconds). Process-local, like the
  // certificate: each worker renews its own on the same schedule. Called
  // and read on the event loop only.
  void TlsCertificateInstalled(unsigned slot, int64_t not_after);

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
  uint64_t upstream_calls(std::string_view result) const;
  uint64_t upstream_connections() const;

 private:
  struct Shared;
  Metrics() = default;
  // Finds or claims each provisioner's slot in shared_.
  void BindProvisioners();
  void RenderUpstream(std::string* out) const;
  std::vector<std::string> provisioners_;
  std::vector<std::atomic<uint64_t>*> issued_;  // by provisioner index
  std::vector<int64_t> tls_not_after_;  // by slot; 0: none
  Shared* shared_ = nullptr;
  void* own_ = nullptr;  // the mapping Create made, until UseSharedMemory
  size_t own_size_ = 0;
};

// A Store that forwards every call to inner and counts it in metrics.
std::unique_ptr<Store> MeteredStore(std::unique_ptr<Store> inner, Metrics* metrics);

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_METRICS_H
