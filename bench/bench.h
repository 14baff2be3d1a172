// stepca_bench: a load generator for POST /1.0/sign and the figures that say
// how close the CA is to its limit (see bench/README.md).
//
// Off the clock it prepares distinct one-time tokens and CSRs with the
// library's JOSE functions; on the clock it drives /1.0/sign over C
// connections and reads the nginx workers' CPU time, RSS and the store's
// write counters around the measured window.
#ifndef STEPCA_BENCH_BENCH_H
#define STEPCA_BENCH_BENCH_H

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "authority/status.h"

namespace stepca {
namespace bench {

// ---------------------------------------------------------------- prepare

struct PrepareOptions {
  std::string ca_json;              // the CA's ca.json (provisioner, root)
  std::string password_file;        // the JWK provisioner's password
  std::string audience;             // https://127.0.0.1:PORT/1.0/sign
  std::string name_prefix;          // names are <prefix><i>.bench.test
  std::string csr_key = "P-256";    // P-256 or RSA-2048
  int token_lifetime = 3000;        // seconds (the CA accepts at most 1h)
  int threads = 0;                  // 0: one per CPU
};

// One request body per certificate: {"csr": ..., "ott": ...}.
Result<std::vector<std::string>> PrepareSignBodies(const PrepareOptions& o, size_t n);

// ---------------------------------------------------------------- load

enum class ConnMode { kKeepAlive, kNewConnection };

struct LoadOptions {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string root_file;            // verify the server's chain with it
  int concurrency = 1;
  ConnMode mode = ConnMode::kKeepAlive;
};

struct LoadResult {
  size_t requests = 0;
  size_t ok = 0;                    // 201 with a certificate
  std::map<int, size_t> failures;   // by HTTP status; 0: connection/TLS error
  double wall_seconds = 0;
  std::vector<double> latencies_ms; // every request, sorted
  double client_cpu_seconds = 0;    // this process, during the window
  std::string first_error;          // for the log
};

// Sends bodies[0..n) as POST /1.0/sign. begin_window() runs once every
// connection is up (keep-alive mode) and right before the clock starts;
// end_window() right after the last response.
LoadResult RunLoad(const LoadOptions& o, const std::vector<std::string>& bodies,
                   const std::function<void()>& begin_window,
                   const std::function<void()>& end_window);

// ---------------------------------------------------------------- inproc

struct InprocOptions {
  std::string ca_json;
  std::string ca_password_file;     // the intermediate key's password
  std::string store_uri;            // lmdb:DIR or redis://...
};

struct InprocResult {
  size_t ok = 0;
  double wall_seconds = 0;
  double cpu_seconds = 0;           // the calling thread's CPU time
  std::string first_error;
};

// The library alone: loads the authority, calls prepare() for the bodies,
// then stepca_handle(POST /1.0/sign) for each, on the calling thread.
Result<InprocResult> RunInProcess(const InprocOptions& o,
                                  const std::function<Result<std::vector<std::string>>()>& prepare);

// ---------------------------------------------------------------- probes

// The worker processes of an nginx master (its children).
std::vector<pid_t> ChildPids(pid_t master);
// utime + stime of pid (all its threads), in seconds; -1 if gone.
double ProcessCpuSeconds(pid_t pid);
// VmRSS of pid in KiB; -1 if gone.
long ProcessRssKib(pid_t pid);

// Redis INFO commandstats: calls per command (without INFO itself).
Result<std::map<std::string, long long>> RedisCommandCalls(const std::string& host, int port);
// LMDB: the id of the last committed write transaction of the store.
Result<uint64_t> LmdbLastTxnId(const std::string& dir);

// ---------------------------------------------------------------- crypto

struct CryptoBound {
  std::string ca_key;               // "ECDSA P-256", "RSA-2048"...
  std::string token_alg;            // "ES256"...
  std::string csr_key;              // "P-256"...
  double token_verify_us = 0;
  double csr_verify_us = 0;
  double sign_us = 0;
  double per_cert_us() const { return token_verify_us + csr_verify_us + sign_us; }
  double certs_per_core() const { return 1e6 / per_cert_us(); }
};

// Times one token verification (the provisioner's key type), one CSR
// verification (csr_key) and one signature with the CA's key type (from the
// intermediate certificate) with OpenSSL on this machine.
Result<CryptoBound> MeasureCryptoBound(const std::string& ca_json,
                                       const std::string& csr_key, double seconds_each);

}  // namespace bench
}  // namespace stepca

#endif  // STEPCA_BENCH_BENCH_H
