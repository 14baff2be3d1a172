// The certificate authority: ca.json, the issuer, the store, and the
// operations the API exposes.
#ifndef STEPCA_AUTHORITY_AUTHORITY_H
#define STEPCA_AUTHORITY_AUTHORITY_H

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "authority/api/http.h"
#include "authority/config/ca_config.h"
#include "authority/status.h"
#include "authority/store/store.h"
#include "authority/x509/csr.h"
#include "authority/x509/issuer.h"
#include "shared/duration.h"

namespace stepca {

struct AuthorityOptions {
  std::string ca_json;
  std::string password_file;
  std::string store_uri;  // empty: kDefaultStoreUri
  std::string version;    // empty: the build's version
  // ACME (authority/acme/server.h). Empty / 0: the environment variables
  // STEPCA_ACME_BASE_URL, STEPCA_ACME_HTTP01_PORT, STEPCA_ACME_TLSALPN01_PORT,
  // STEPCA_ACME_DNS_RESOLVER, then the RFC's defaults (Host-derived URLs,
  // ports 80 and 443, the system resolver).
  std::string acme_base_url;      // "https://ca.example.com[:port]"
  int acme_http01_port = 0;
  int acme_tls_alpn01_port = 0;
  std::string acme_dns_resolver;  // "ip[:port]"
};

constexpr const char* kDefaultStoreUri = "lmdb:/var/lib/nginx-stepca";

struct SignRequest {
  std::string csr_pem;
  std::string ott;
  TimeDuration not_before;
  TimeDuration not_after;
};

// ACME finalize: a CSR whose names the caller has already matched to the
// order's identifiers.
struct CsrIssueRequest {
  const Provisioner* provisioner = nullptr;
  const Csr* csr = nullptr;
  std::string common_name;
  SanSet sans;
  TimeDuration not_before;
  TimeDuration not_after;
};

namespace acme {
class Service;
}

// POST /renew, /rekey (authority/renew.cc).
struct RenewRequest {
  std::string_view peer_cert_der;  // the client certificate (TLS or a trusted proxy)
  std::string_view authorization;  // "Bearer <x5cInsecure token>" (renew only)
  bool rekey = false;
  std::string csr_pem;             // rekey: the CSR with the new key
};

// POST /revoke (authority/renew.cc).
struct RevokeRequest {
  std::string serial;              // as sent: decimal or 0x-hex
  std::string ott;
  int64_t reason_code = 0;
  std::string reason;
  bool passive = false;
  std::string_view peer_cert_der;
};

class Metrics;  // authority/metrics.h
struct CertificateRecord;  // authority/state/certificate_records.h

struct SignResult {
  IssuedCertificate leaf;
  std::string provisioner;  // name, for the log
};

class Authority {
 public:
  static Result<std::unique_ptr<Authority>> Load(const AuthorityOptions& options);

  const CaConfig& config() const { return config_; }
  const std::string& version() const { return version_; }
  const std::vector<std::string>& warnings() const { return config_.warnings; }
  // PEM of roots, federated roots, and the intermediates of the crt file.
  const std::vector<std::string>& root_pems() const { return root_pems_; }
  const std::vector<std::string>& federated_pems() const { return federated_pems_; }
  const std::vector<std::string>& intermediate_pems() const { return intermediate_pems_; }
  // Lower-case hex SHA-256 of each root and federated root's DER, in the
  // order of root_pems() then federated_pems().
  const std::vector<std::string>& fingerprints() const { return fingerprints_; }

  Status PrepareStore(long uid, long gid);
  Status InitProcess();
  void ExitProcess();
  Store& store() { return *store_; }
  // Prometheus counters shared by all workers (authority/metrics.h).
  Metrics& metrics() const { return *metrics_; }

  // Thread-safe.
  HttpResponse Handle(const HttpRequest& request);
  Result<SignResult> Sign(const SignRequest& request, TimePoint now);
  Result<SignResult> Renew(const RenewRequest& request, TimePoint now);
  // The decimal serial revoked.
  Result<std::string> Revoke(const RevokeRequest& request, TimePoint now);
  // The same issuer, claims, validity and record-before-respond as Sign,
  // without a token (ACME finalize).
  Result<IssuedCertificate> IssueFromCsr(const CsrIssueRequest& request, TimePoint now);
  acme::Service& acme() { return *acme_; }
  ~Authority();

 private:
  Authority() = default;
  Status CheckIssuedAt(const TokenClaims& claims);
  // Record before sign (docs/ARCHITECTURE.md): reserves a fresh serial
  // with intent, calls sign with it, and completes the record; a
  // certificate whose record cannot be completed is not returned.
  using SignWithSerial = std::function<Result<IssuedCertificate>(const std::string& serial)>;
  Result<IssuedCertificate> SignRecorded(CertificateRecord intent, TimePoint now,
                                         const SignWithSerial& sign);
  friend class Renewal;  // authority/renew.cc

  CaConfig config_;
  std::string version_;
  StoreConfig store_config_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Issuer> issuer_;
  std::unique_ptr<Audiences> audiences_;
  std::vector<std::string> root_pems_, federated_pems_, intermediate_pems_, fingerprints_;
  TimePoint loaded_at_{};
  // Seconds since the epoch at which this store began recording spent
  // tokens; -1 until read from the store.
  std::atomic<int64_t> store_epoch_{-1};
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<acme::Service> acme_;
};

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_AUTHORITY_H
