#include "authority/metrics.h"

#include <jansson.h>
#include <openssl/x509.h>
#include <sys/mman.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <new>

#include "authority/authority.h"
#include "authority/state/key_families.h"

namespace stepca {
namespace {

static_assert(std::atomic<uint64_t>::is_always_lock_free,
              "counters shared between processes must be lock-free atomics");

constexpr std::string_view kRoutes[] = {
    "health", "version", "roots", "root", "federation", "intermediates", "provisioners",
    "sign", "renew", "rekey", "revoke", "acme", "other"};
constexpr size_t kNumRoutes = sizeof kRoutes / sizeof kRoutes[0];
constexpr int kMinStatus = 100;
constexpr int kNumStatuses = 500;  // 100..599

// Store latency buckets, seconds (Prometheus "le" bounds; +Inf is implicit).
constexpr double kBuckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                               0.05,   0.1,   0.25,   0.5,   1,    2.5};
constexpr size_t kNumBuckets = sizeof kBuckets / sizeof kBuckets[0];
// RFC 8555 states of orders and authorizations.
constexpr std::string_view kAcmeStates[] = {"pending", "ready", "processing", "valid",
                                            "invalid", "deactivated", "expired", "revoked"};
constexpr size_t kNumAcmeStates = sizeof kAcmeStates / sizeof kAcmeStates[0];
// How a call to a registration authority's upstream CA ended.
constexpr std::string_view kUpstreamResults[] = {"ok", "refused", "failed", "timeout", "unreachable"};
constexpr size_t kNumUpstreamResults = sizeof kUpstreamResults / sizeof kUpstreamResults[0];
// Upstream latency buckets, seconds: a network call with its TLS handshake.
constexpr double kUpstreamBuckets[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
constexpr size_t kNumUpstreamBuckets = sizeof kUpstreamBuckets / sizeof kUpstreamBuckets[0];

size_t AcmeStateIndex(std::string_view state) {
  for (size_t i = 0; i < kNumAcmeStates; ++i)
    if (kAcmeStates[i] == state) return i;
  return kNumAcmeStates;
}

// The "status" member of a record as the ACME service writes it (compact
// JSON); empty when there is none.
std::string_view StatusOf(std::string_view json) {
  static constexpr std::string_view kMember = "\"status\":\"";
  const size_t at = json.find(kMember);
  if (at == std::string_view::npos) return {};
  const size_t start = at + kMember.size();
  const size_t end = json.find('"', start);
  return end == std::string_view::npos ? std::string_view() : json.substr(start, end - start);
}

using Counter = std::atomic<uint64_t>;

std::string Escape(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

void Head(std::string* out, const char* name, const char* type, const char* help) {
  *out += "# HELP ";
  *out += name;
  *out += ' ';
  *out += help;
  *out += "\n# TYPE ";
  *out += name;
  *out += ' ';
  *out += type;
  *out += '\n';
}

std::string Number(double v, const char* format = "%.17g") {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

// Days from now until the certificate's notAfter (negative once expired).
double DaysLeft(X509* cert) {
  int days = 0, secs = 0;
  if (ASN1_TIME_diff(&days, &secs, nullptr, X509_get0_notAfter(cert)) != 1) return NAN;
  return days + secs / 86400.0;
}

double MinDaysLeft(const std::vector<X509Ptr>& certs) {
  double min = NAN;
  for (auto& c : certs) {
    double d = DaysLeft(c.get());
    if (std::isnan(min) || d < min) min = d;
  }
  return min;
}

// Provisioner slots in the shared memory: enough for any real ca.json; a
// provisioner beyond them is counted under provisioner="".
constexpr size_t kProvisionerSlots = 256;
// Changes whenever Shared's layout does, so memory of another layout is
// never read as counters.
constexpr uint64_t kLayoutMagic = 0x7374657063610002ull;  // "stepca" v2

// FNV-1a, never 0 (0 marks a free slot).
uint64_t NameKey(std::string_view name) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : name) h = (h ^ c) * 1099511628211ull;
  return h == 0 ? 1 : h;
}

}  // namespace

struct Metrics::Shared {
  uint64_t magic;
  uint64_t size;
  Counter requests[kNumRoutes][kNumStatuses];
  Counter replays;
  Counter store_calls;
  Counter store_errors;
  Counter store_nanos;
  Counter store_buckets[kNumBuckets];  // non-cumulative; summed at render
  Counter acme_orders[kNumAcmeStates];
  Counter acme_authzs[kNumAcmeStates];
  Counter issued_other;
  Counter upstream_calls[kNumUpstreamResults];
  Counter upstream_connections;  // new TCP connections opened to the upstream
  Counter upstream_nanos;
  Counter upstream_buckets[kNumUpstreamBuckets];  // non-cumulative
  struct Slot {
    std::atomic<uint64_t> key;  // NameKey of the provisioner; 0: free
    Counter issued;
  } slots[kProvisionerSlots];
};

Result<std::unique_ptr<Metrics>> Metrics::Create(const ProvisionerCollection& provisioners) {
  std::unique_ptr<Metrics> m(new Metrics());
  for (size_t i = 0; i < provisioners.size(); ++i) m->provisioners_.push_back(provisioners.at(i).name());
  void* p = mmap(nullptr, sizeof(Shared), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return Internal("metrics: cannot map shared memory for the counters");
  m->own_ = p;
  m->own_size_ = sizeof(Shared);
  STEPCA_RETURN_IF_ERROR(m->UseSharedMemory(p, sizeof(Shared)));
  return m;
}

Metrics::~Metrics() {
  if (own_ != nullptr) munmap(own_, own_size_);
}

size_t Metrics::SharedSize() { return sizeof(Shared); }

Status Metrics::UseSharedMemory(void* mem, size_t size) {
  static_assert(alignof(Shared) <= 8, "nginx's slab allocator hands out 8-byte aligned memory");
  if (mem == nullptr || size < sizeof(Shared))
    return InvalidArgument("metrics: the shared memory holds " + std::to_string(size) +
                           " bytes, the counters need " + std::to_string(sizeof(Shared)));
  if (reinterpret_cast<uintptr_t>(mem) % alignof(Shared) != 0)
    return InvalidArgument("metrics: the shared memory is not aligned for the counters");
  auto* shared = static_cast<Shared*>(mem);
  if (shared->magic != kLayoutMagic || shared->size != sizeof(Shared)) {
    // New memory (or another layout's): every counter starts at 0.
    std::memset(mem, 0, sizeof(Shared));
    shared = new (mem) Shared;
    shared->magic = kLayoutMagic;
    shared->size = sizeof(Shared);
  }
  shared_ = shared;
  if (own_ != nullptr && own_ != mem) {
    munmap(own_, own_size_);
    own_ = nullptr;
  }
  BindProvisioners();
  return Status::Ok();
}

// Runs where no other process claims slots (nginx: the master, at
// configuration time; workers of an older configuration only increment).
void Metrics::BindProvisioners() {
  issued_.clear();
  for (const auto& name : provisioners_) {
    const uint64_t key = NameKey(name);
    Counter* counter = &shared_->issued_other;
    Shared::Slot* free_slot = nullptr;
    for (auto& slot : shared_->slots) {
      const uint64_t k = slot.key.load(std::memory_order_relaxed);
      if (k == key) {
        free_slot = nullptr;
        counter = &slot.issued;
        break;
      }
      if (k == 0 && free_slot == nullptr) free_slot = &slot;
    }
    if (free_slot != nullptr) {
      free_slot->key.store(key, std::memory_order_relaxed);
      counter = &free_slot->issued;
    }
    issued_.push_back(counter);
  }
}

std::string_view Metrics::RouteOf(std::string_view path) {
  if (path.substr(0, 6) == "/acme/" || path == "/acme") return "acme";
  if (path.substr(0, 5) == "/1.0/") path.remove_prefix(4);
  if (path == "/roots" || path == "/roots.pem") return "roots";
  if (path.substr(0, 6) == "/root/") return "root";
  if (path == "/intermediates" || path == "/intermediates.pem") return "intermediates";
  if (path == "/provisioners" || path.substr(0, 14) == "/provisioners/") return "provisioners";
  if (path == "/renew" || path == "/re-sign") return "renew";
  for (auto r : {"health", "version", "federation", "sign", "rekey", "revoke"}) {
    if (path.size() == 1 + std::char_traits<char>::length(r) && path.substr(1) == r) return r;
  }
  return "other";
}

void Metrics::Request(std::string_view path, int status) {
  std::string_view route = RouteOf(path);
  size_t r = 0;
  while (r + 1 < kNumRoutes && kRoutes[r] != route) ++r;
  if (status < kMinStatus || status >= kMinStatus + kNumStatuses) status = 500;
  shared_->requests[r][status - kMinStatus].fetch_add(1, std::memory_order_relaxed);
}

void Metrics::CertificateIssued(std::string_view provisioner) {
  for (size_t i = 0; i < provisioners_.size(); ++i) {
    if (provisioners_[i] == provisioner) {
      issued_[i]->fetch_add(1, std::memory_order_relaxed);
      return;
    }
  }
  shared_->issued_other.fetch_add(1, std::memory_order_relaxed);
}

uint64_t Metrics::token_replays() const { return shared_->replays.load(); }
uint64_t Metrics::store_errors() const { return shared_->store_errors.load(); }
uint64_t Metrics::store_calls() const { return shared_->store_calls.load(); }
uint64_t Metrics::certificates_issued() const {
  uint64_t n = shared_->issued_other.load();
  for (auto* c : issued_)
    if (c != &shared_->issued_other) n += c->load();
  return n;
}

void Metrics::AcmeRecord(std::string_view key, std::string_view value) {
  Counter* counters = nullptr;
  const KeyFamily family = FamilyOfKey(key);
  if (family == KeyFamily::kAcmeOrder) counters = shared_->acme_orders;
  else if (family == KeyFamily::kAcmeAuthorization) counters = shared_->acme_authzs;
  if (counters == nullptr) return;
  const size_t i = AcmeStateIndex(StatusOf(value));
  if (i < kNumAcmeStates) counters[i].fetch_add(1, std::memory_order_relaxed);
}

uint64_t Metrics::acme_orders(std::string_view state) const {
  const size_t i = AcmeStateIndex(state);
  return i < kNumAcmeStates ? shared_->acme_orders[i].load(std::memory_order_relaxed) : 0;
}

void Metrics::UpstreamCall(std::chrono::nanoseconds elapsed, std::string_view result,
                           uint64_t new_connections) {
  size_t r = 0;
  while (r < kNumUpstreamResults && kUpstreamResults[r] != result) ++r;
  if (r == kNumUpstreamResults) r = 2;  // "failed": a result this table does not name
  shared_->upstream_calls[r].fetch_add(1, std::memory_order_relaxed);
  shared_->upstream_connections.fetch_add(new_connections, std::memory_order_relaxed);
  shared_->upstream_nanos.fetch_add(static_cast<uint64_t>(elapsed.count()), std::memory_order_relaxed);
  const double s = std::chrono::duration<double>(elapsed).count();
  for (size_t i = 0; i < kNumUpstreamBuckets; ++i) {
    if (s <= kUpstreamBuckets[i]) {
      shared_->upstream_buckets[i].fetch_add(1, std::memory_order_relaxed);
      return;
    }
  }
}

uint64_t Metrics::upstream_calls(std::string_view result) const {
  for (size_t r = 0; r < kNumUpstreamResults; ++r)
    if (kUpstreamResults[r] == result) return shared_->upstream_calls[r].load();
  return 0;
}

uint64_t Metrics::upstream_connections() const { return shared_->upstream_connections.load(); }

void Metrics::TokenReplay() { shared_->replays.fetch_add(1, std::memory_order_relaxed); }

void Metrics::StoreCall(std::chrono::nanoseconds elapsed, bool failed) {
  shared_->store_calls.fetch_add(1, std::memory_order_relaxed);
  shared_->store_nanos.fetch_add(static_cast<uint64_t>(elapsed.count()), std::memory_order_relaxed);
  if (failed) shared_->store_errors.fetch_add(1, std::memory_order_relaxed);
  const double s = std::chrono::duration<double>(elapsed).count();
  for (size_t i = 0; i < kNumBuckets; ++i) {
    if (s <= kBuckets[i]) {
      shared_->store_buckets[i].fetch_add(1, std::memory_order_relaxed);
      return;
    }
  }
}

void Metrics::RenderUpstream(std::string* out) const {
  Head(out, "stepca_upstream_calls_total", "counter",
       "Calls of this registration authority to its upstream CA, by how they ended (refused: "
       "a 4xx answer; failed: any other answer but 2xx).");
  uint64_t calls = 0;
  for (size_t r = 0; r < kNumUpstreamResults; ++r) {
    const uint64_t v = shared_->upstream_calls[r].load(std::memory_order_relaxed);
    calls += v;
    *out += "stepca_upstream_calls_total{result=\"" + std::string(kUpstreamResults[r]) + "\"} " +
            std::to_string(v) + "\n";
  }
  Head(out, "stepca_upstream_connections_total", "counter",
       "TCP connections opened to the upstream CA (the rest of the calls reused one).");
  *out += "stepca_upstream_connections_total " +
          std::to_string(shared_->upstream_connections.load(std::memory_order_relaxed)) + "\n";
  Head(out, "stepca_upstream_latency_seconds", "histogram", "Duration of calls to the upstream CA.");
  uint64_t cumulative = 0;
  for (size_t i = 0; i < kNumUpstreamBuckets; ++i) {
    cumulative += shared_->upstream_buckets[i].load(std::memory_order_relaxed);
    *out += "stepca_upstream_latency_seconds_bucket{le=\"" + Number(kUpstreamBuckets[i], "%g") + "\"} " +
            std::to_string(cumulative) + "\n";
  }
  if (calls < cumulative) calls = cumulative;
  *out += "stepca_upstream_latency_seconds_bucket{le=\"+Inf\"} " + std::to_string(calls) + "\n";
  *out += "stepca_upstream_latency_seconds_sum " +
          Number(shared_->upstream_nanos.load(std::memory_order_relaxed) / 1e9, "%.9f") + "\n";
  *out += "stepca_upstream_latency_seconds_count " + std::to_string(calls) + "\n";
}

std::string Metrics::Render(const Authority& a) const {
  auto get = [](const Counter& c) { return std::to_string(c.load(std::memory_order_relaxed)); };
  std::string out;
  out.reserve(4096);

  Head(&out, "stepca_requests_total", "counter", "CA API requests answered, by route and status.");
  for (size_t r = 0; r < kNumRoutes; ++r) {
    for (int s = 0; s < kNumStatuses; ++s) {
      uint64_t v = shared_->requests[r][s].load(std::memory_order_relaxed);
      if (v == 0) continue;
      out += "stepca_requests_total{route=\"" + std::string(kRoutes[r]) + "\",status=\"" +
             std::to_string(s + kMinStatus) + "\"} " + std::to_string(v) + "\n";
    }
  }

  Head(&out, "stepca_certificates_issued_total", "counter",
       "Certificates issued (recorded in the store), by provisioner.");
  for (size_t i = 0; i < provisioners_.size(); ++i)
    out += "stepca_certificates_issued_total{provisioner=\"" + Escape(provisioners_[i]) + "\"} " +
           get(*issued_[i]) + "\n";
  if (shared_->issued_other.load(std::memory_order_relaxed) != 0 || provisioners_.empty())
    out += "stepca_certificates_issued_total{provisioner=\"\"} " + get(shared_->issued_other) + "\n";

  Head(&out, "stepca_token_replays_total", "counter",
       "One-time tokens refused because they were already spent.");
  out += "stepca_token_replays_total " + get(shared_->replays) + "\n";

  Head(&out, "stepca_store_errors_total", "counter",
       "Store calls that failed (store unavailable, timeout).");
  out += "stepca_store_errors_total " + get(shared_->store_errors) + "\n";

  Head(&out, "stepca_store_latency_seconds", "histogram", "Duration of store calls.");
  uint64_t cumulative = 0;
  for (size_t i = 0; i < kNumBuckets; ++i) {
    cumulative += shared_->store_buckets[i].load(std::memory_order_relaxed);
    out += "stepca_store_latency_seconds_bucket{le=\"" + Number(kBuckets[i], "%g") + "\"} " +
           std::to_string(cumulative) + "\n";
  }
  // Read count first: a call in flight may land in a bucket after this, so
  // +Inf is the larger of the two and the histogram stays monotonic.
  uint64_t count = shared_->store_calls.load(std::memory_order_relaxed);
  if (count < cumulative) count = cumulative;
  out += "stepca_store_latency_seconds_bucket{le=\"+Inf\"} " + std::to_string(count) + "\n";
  out += "stepca_store_latency_seconds_sum " +
         Number(shared_->store_nanos.load(std::memory_order_relaxed) / 1e9, "%.9f") + "\n";
  out += "stepca_store_latency_seconds_count " + std::to_string(count) + "\n";

  const CaConfig& c = a.config();
  if (c.ra.is_ra()) RenderUpstream(&out);
  Head(&out, "stepca_intermediate_expiry_days", "gauge",
       "Days until the issuing intermediate certificate expires.");
  out += "stepca_intermediate_expiry_days " +
         Number(c.intermediates.empty() ? NAN : DaysLeft(c.intermediates[0].get())) + "\n";
  Head(&out, "stepca_root_expiry_days", "gauge",
       "Days until the first of the CA's root certificates expires.");
  out += "stepca_root_expiry_days " + Number(MinDaysLeft(c.roots)) + "\n";
  int64_t tls_end = 0;
  for (int64_t t : tls_not_after_)
    if (t != 0 && (tls_end == 0 || t < tls_end)) tls_end = t;
  if (tls_end != 0) {
    Head(&out, "stepca_tls_certificate_expiry_days", "gauge",
         "Days until the CA's own TLS certificate (stepca_tls_certificate) served by this "
         "worker expires; it is renewed at two thirds of its life.");
    const double left = (tls_end - static_cast<double>(time(nullptr))) / 86400.0;
    out += "stepca_tls_certificate_expiry_days " + Number(left) + "\n";
  }
  Head(&out, "stepca_acme_orders_total", "counter",
       "ACME orders written into each state (created pending, finalized valid).");
  for (size_t i = 0; i < kNumAcmeStates; ++i)
    out += "stepca_acme_orders_total{state=\"" + std::string(kAcmeStates[i]) + "\"} " +
           std::to_string(shared_->acme_orders[i].load(std::memory_order_relaxed)) + "\n";
  Head(&out, "stepca_acme_authorizations_total", "counter",
       "ACME authorizations written into each state; an invalid one makes its order invalid.");
  for (size_t i = 0; i < kNumAcmeStates; ++i)
    out += "stepca_acme_authorizations_total{state=\"" + std::string(kAcmeStates[i]) + "\"} " +
           std::to_string(shared_->acme_authzs[i].load(std::memory_order_relaxed)) + "\n";
  return out;
}

// ---------------------------------------------------------------- MeteredStore

namespace {

class Metered final : public Store {
 public:
  Metered(std::unique_ptr<Store> inner, Metrics* m) : inner_(std::move(inner)), m_(m) {}

  Status OpenInProcess() override { return inner_->OpenInProcess(); }
  void CloseInProcess() override { inner_->CloseInProcess(); }

  Status PutIfAbsent(std::string_view key, std::string_view value,
                     std::chrono::seconds ttl) override {
    auto t0 = std::chrono::steady_clock::now();
    Status st = inner_->PutIfAbsent(key, value, ttl);
    Done(t0, st);
    if (st.code() == Code::kAlreadyExists && FamilyOfKey(key) == KeyFamily::kSpentToken)
      m_->TokenReplay();
    if (st.ok()) m_->AcmeRecord(key, value);
    return st;
  }

  Status PutIfAllAbsent(const std::vector<StoreEntry>& entries, size_t* taken) override {
    auto t0 = std::chrono::steady_clock::now();
    size_t at = entries.size();
    Status st = inner_->PutIfAllAbsent(entries, &at);
    Done(t0, st);
    if (taken != nullptr) *taken = at;
    if (st.code() == Code::kAlreadyExists && at < entries.size() &&
        FamilyOfKey(entries[at].key) == KeyFamily::kSpentToken)
      m_->TokenReplay();
    if (st.ok())
      for (const auto& e : entries) m_->AcmeRecord(e.key, e.value);
    return st;
  }

  Status Put(std::string_view key, std::string_view value, std::chrono::seconds ttl) override {
    auto t0 = std::chrono::steady_clock::now();
    Status st = inner_->Put(key, value, ttl);
    Done(t0, st);
    if (st.ok() && FamilyOfKey(key) == KeyFamily::kCertificateRecord)
      m_->CertificateIssued(ProvisionerOf(value));
    if (st.ok()) m_->AcmeRecord(key, value);
    return st;
  }

  Status CompareAndSwap(std::string_view key, const std::optional<std::string>& expected,
                        std::string_view desired, std::chrono::seconds ttl) override {
    auto t0 = std::chrono::steady_clock::now();
    Status st = inner_->CompareAndSwap(key, expected, desired, ttl);
    Done(t0, st);
    // A certificate record is completed (DER added) by a compare-and-set
    // from its reserved form.
    if (st.ok() && expected && FamilyOfKey(key) == KeyFamily::kCertificateRecord)
      m_->CertificateIssued(ProvisionerOf(desired));
    if (st.ok()) m_->AcmeRecord(key, desired);
    return st;
  }

  Result<std::optional<std::string>> Get(std::string_view key) override {
    auto t0 = std::chrono::steady_clock::now();
    auto r = inner_->Get(key);
    Done(t0, r.ok() ? Status::Ok() : r.status());
    return r;
  }

  Result<std::optional<std::string>> Take(std::string_view key) override {
    auto t0 = std::chrono::steady_clock::now();
    auto r = inner_->Take(key);
    Done(t0, r.ok() ? Status::Ok() : r.status());
    return r;
  }

  Status Delete(std::string_view key) override {
    auto t0 = std::chrono::steady_clock::now();
    Status st = inner_->Delete(key);
    Done(t0, st);
    return st;
  }

  std::string Kind() const override { return inner_->Kind(); }
  Result<std::string> ServerIdentity() override { return inner_->ServerIdentity(); }

 private:
  void Done(std::chrono::steady_clock::time_point t0, const Status& st) {
    bool failed = !st.ok() && st.code() != Code::kAlreadyExists && st.code() != Code::kNotFound;
    m_->StoreCall(std::chrono::steady_clock::now() - t0, failed);
  }

  // The certificate record's provisioner.name (authority.cc writes it).
  static std::string ProvisionerOf(std::string_view record) {
    json_error_t err;
    json_t* doc = json_loadb(record.data(), record.size(), 0, &err);
    std::string name;
    if (doc != nullptr) {
      const json_t* n = json_object_get(json_object_get(doc, "provisioner"), "name");
      if (json_is_string(n)) name = json_string_value(n);
      json_decref(doc);
    }
    return name;
  }

  std::unique_ptr<Store> inner_;
  Metrics* m_;
};

}  // namespace

std::unique_ptr<Store> MeteredStore(std::unique_ptr<Store> inner, Metrics* metrics) {
  if (metrics == nullptr) return inner;
  return std::make_unique<Metered>(std::move(inner), metrics);
}

void Metrics::TlsCertificateInstalled(unsigned slot, int64_t not_after) {
  if (slot >= 1024) return;  // one slot per server block; never this many
  if (tls_not_after_.size() <= slot) tls_not_after_.resize(slot + 1, 0);
  tls_not_after_[slot] = not_after;
}

}  // namespace stepca
