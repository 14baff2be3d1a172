// The intermediate's leaf CRL for the whole fleet.
//
// One copy lives in the store (state/crl_state.h), so every node serves the
// same bytes. One worker in the fleet generates it: whoever holds the lease.
// Every worker runs a check every crl.check_interval (nginxStepca
// .crlCheckInterval): take or renew the lease; if it is ours, regenerate
// when there is no CRL yet, when thisUpdate + renewPeriod has passed, or
// (generateOnRevoke) when the revocation index has grown. A holder that
// dies stops renewing; its lease expires after lease_ttl() and the next
// check elsewhere takes over.
#ifndef STEPCA_AUTHORITY_REVOCATION_CRL_SERVICE_H
#define STEPCA_AUTHORITY_REVOCATION_CRL_SERVICE_H

#include <openssl/x509.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "authority/clock/time_source.h"
#include "authority/config/revocation_config.h"
#include "authority/revocation/crl_builder.h"
#include "authority/signer/signer.h"
#include "authority/state/crl_state.h"
#include "authority/status.h"
#include "authority/store/store.h"

namespace stepca {

class CrlService {
 public:
  // issuer, signer, store and time outlive the service. holder: this
  // process's lease id (empty: "<host>/<pid>/<random>", made again by
  // Start in the process that runs the checks).
  CrlService(const CrlConfig& config, Store& store, X509* issuer, const Signer& signer,
             const TimeSource& time, std::string holder = "");
  ~CrlService();

  // The CRL every node serves. Before the first generation, this request
  // tries to generate it (when the lease is free or ours); kUnavailable
  // when another node is still about to.
  [[nodiscard]] Result<CrlRecord> Serve();

  // One check, as the background thread runs it. true when this call wrote
  // a new CRL.
  [[nodiscard]] Result<bool> Check();

  // The background check of this process (a worker), and its end: the lease
  // is given up so that another worker need not wait out its ttl.
  void Start();
  void Stop();

  const std::string& holder() const { return holder_; }
  std::chrono::seconds lease_ttl() const { return lease_ttl_; }

 private:
  struct Known {
    CrlEntry entry;
    std::optional<TimePoint> expires_at;
  };

  // Reads index slots not seen yet and the records of serials still
  // missing one. true when something new was found. Under mu_.
  Result<bool> Refresh();
  Status Generate(const std::optional<Stored<CrlRecord>>& current, TimePoint now);
  bool Due(const std::optional<Stored<CrlRecord>>& current, TimePoint now, bool grew) const;
  void Run();

  CrlConfig config_;
  Store& store_;
  X509* issuer_;
  const Signer& signer_;
  const TimeSource& time_;
  bool explicit_holder_;
  std::string holder_;  // set again by Start (after fork) unless given
  std::chrono::seconds lease_ttl_;

  std::mutex mu_;  // one check at a time in this process; guards what follows
  uint64_t index_read_ = 0;           // slots read so far
  std::map<std::string, Known> known_;  // serial -> entry, revocations are immutable
  std::set<std::string> pending_;     // slots whose record was missing
  bool checked_signature_ = false;    // the stored CRL was verified against issuer_

  std::mutex run_mu_;
  std::condition_variable run_cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_REVOCATION_CRL_SERVICE_H
