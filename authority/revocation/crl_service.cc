#include "authority/revocation/crl_service.h"

#include <openssl/rand.h>
#include <unistd.h>

#include <algorithm>

#include "authority/ossl.h"
#include "authority/state/certificate_records.h"
#include "authority/state/revocation_index.h"
#include "authority/state/revocations.h"

namespace stepca {
namespace {

// Index slots read per check: a long list is caught up over several checks
// rather than in one long store walk.
constexpr size_t kSlotsPerRead = 10000;

std::string NewHolderId() {
  char host[64] = {0};
  if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
  unsigned char r[8];
  RAND_bytes(r, sizeof r);
  std::string id = std::string(host) + "/" + std::to_string(getpid()) + "/";
  static const char kHex[] = "0123456789abcdef";
  for (unsigned char c : r) {
    id.push_back(kHex[c >> 4]);
    id.push_back(kHex[c & 15]);
  }
  return id;
}

std::chrono::seconds LeaseTtl(Duration check) {
  // Three missed checks before another worker takes over, at least 3 s so
  // that a slow store round trip does not hand the lease back and forth.
  auto three = std::chrono::duration_cast<std::chrono::seconds>(check * 3 + std::chrono::milliseconds(999));
  return std::max(three, std::chrono::seconds(3));
}

bool SignedBy(const std::string& der, X509* issuer) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  OsslPtr<X509_CRL, X509_CRL_free> crl(d2i_X509_CRL(nullptr, &p, static_cast<long>(der.size())));
  return crl && X509_CRL_verify(crl.get(), X509_get0_pubkey(issuer)) == 1 &&
         X509_NAME_cmp(X509_CRL_get_issuer(crl.get()), X509_get_subject_name(issuer)) == 0;
}

}  // namespace

CrlService::CrlService(const CrlConfig& config, Store& store, X509* issuer, const Signer& signer,
                       const TimeSource& time, std::string holder)
    : config_(config),
      store_(store),
      issuer_(issuer),
      signer_(signer),
      time_(time),
      explicit_holder_(!holder.empty()),
      holder_(holder.empty() ? NewHolderId() : std::move(holder)),
      lease_ttl_(LeaseTtl(config.check_interval)) {}

CrlService::~CrlService() { Stop(); }

Result<bool> CrlService::Refresh() {
  bool found = false;
  RevocationIndex index(store_);
  STEPCA_ASSIGN_OR_RETURN(auto serials, index.ReadFrom(index_read_, kSlotsPerRead));
  index_read_ += serials.size();
  for (auto& s : serials)
    if (!known_.count(s)) pending_.insert(std::move(s));
  Revocations revocations(store_);
  for (auto it = pending_.begin(); it != pending_.end();) {
    STEPCA_ASSIGN_OR_RETURN(auto rec, revocations.Find(*it));
    if (!rec) {
      ++it;  // a revocation being written now, or one that crashed before its record
      continue;
    }
    Known k;
    k.entry.serial = rec->serial.empty() ? *it : rec->serial;
    k.entry.revoked_at = rec->revoked_at;
    k.entry.reason_code = ValidCrlReason(static_cast<int>(rec->reason_code))
                              ? static_cast<int>(rec->reason_code) : 0;
    k.expires_at = rec->expires_at;
    if (!k.expires_at) {
      // A revoke by token names only the serial; the certificate's record
      // knows when it expires.
      STEPCA_ASSIGN_OR_RETURN(auto cert, CertificateRecords(store_).Find(*it));
      if (cert && cert->not_after) k.expires_at = cert->not_after;
    }
    known_[*it] = std::move(k);
    found = true;
    it = pending_.erase(it);
  }
  return found;
}

bool CrlService::Due(const std::optional<Stored<CrlRecord>>& current, TimePoint now,
                     bool grew) const {
  if (!current) return true;
  const CrlRecord& c = current->record;
  if (now >= c.this_update + config_.renew_period) return true;
  if (config_.generate_on_revoke && (grew || index_read_ > c.index_count)) return true;
  return false;
}

Status CrlService::Generate(const std::optional<Stored<CrlRecord>>& current, TimePoint now) {
  CrlContents contents;
  contents.number = current ? current->record.number + 1 : 1;
  contents.this_update = std::chrono::time_point_cast<std::chrono::seconds>(now);
  contents.next_update = contents.this_update + config_.cache_duration;
  contents.idp_url = config_.idp_url;
  for (const auto& [serial, k] : known_) {
    // An expired certificate no longer needs its entry (RFC 5280 3.3).
    if (k.expires_at && *k.expires_at < contents.this_update) continue;
    contents.entries.push_back(k.entry);
  }
  STEPCA_ASSIGN_OR_RETURN(std::string der, BuildCrl(issuer_, signer_, contents));
  CrlRecord next;
  next.number = contents.number;
  next.this_update = contents.this_update;
  next.next_update = contents.next_update;
  next.index_count = index_read_;
  next.der = std::move(der);
  const std::optional<std::string> expected =
      current ? std::optional<std::string>(current->bytes) : std::nullopt;
  return CrlState(store_).Replace(expected, next);
}

Result<bool> CrlService::Check() {
  std::lock_guard<std::mutex> lock(mu_);
  CrlState state(store_);
  STEPCA_ASSIGN_OR_RETURN(bool mine, state.HoldLease(holder_, lease_ttl_));
  if (!mine) {
    // Another holder keeps the CRL; what we read would be stale when the
    // lease comes to us, except the slots, which never change.
    checked_signature_ = false;
    return false;
  }
  STEPCA_ASSIGN_OR_RETURN(bool grew, Refresh());
  STEPCA_ASSIGN_OR_RETURN(auto current, state.Current());
  const TimePoint now = time_.Now();
  bool due = Due(current, now, grew);
  if (!due && current && !checked_signature_) {
    // A new intermediate (a reload with another crt/key) makes the stored
    // CRL the old key's: sign a new one at once.
    due = !SignedBy(current->record.der, issuer_);
    checked_signature_ = true;
  }
  if (!due) return false;
  Status st = Generate(current, now);
  if (st.code() == Code::kAlreadyExists) return false;  // a former holder wrote in between
  STEPCA_RETURN_IF_ERROR(st);
  checked_signature_ = true;
  return true;
}

Result<CrlRecord> CrlService::Serve() {
  STEPCA_ASSIGN_OR_RETURN(auto current, CrlState(store_).Current());
  if (current) return std::move(current->record);
  STEPCA_RETURN_IF_ERROR(Check().status());
  STEPCA_ASSIGN_OR_RETURN(current, CrlState(store_).Current());
  if (current) return std::move(current->record);
  return Unavailable("the CRL has not been generated yet; try again in a moment");
}

void CrlService::Start() {
  std::lock_guard<std::mutex> lock(run_mu_);
  if (thread_.joinable()) return;
  if (!explicit_holder_) {
    // Built in the nginx master, started in each worker after fork: each
    // worker needs an id of its own (its pid), or all would hold the lease.
    std::lock_guard<std::mutex> check_lock(mu_);
    holder_ = NewHolderId();
  }
  stop_ = false;
  thread_ = std::thread([this] { Run(); });
}

void CrlService::Stop() {
  {
    std::lock_guard<std::mutex> lock(run_mu_);
    if (!thread_.joinable()) return;
    stop_ = true;
  }
  run_cv_.notify_all();
  thread_.join();
  (void)CrlState(store_).ReleaseLease(holder_);
}

void CrlService::Run() {
  std::unique_lock<std::mutex> lock(run_mu_);
  while (!stop_) {
    lock.unlock();
    // A failure (store down) is retried at the next check; the CRL in the
    // store stays what it was, and relying parties see its nextUpdate.
    (void)Check();
    lock.lock();
    run_cv_.wait_for(lock, config_.check_interval, [this] { return stop_; });
  }
}

}  // namespace stepca
