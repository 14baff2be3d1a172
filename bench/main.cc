// stepca_bench: see bench/README.md.
//
//   stepca_bench bound --ca-json F [--csr-key P-256] [--seconds 0.5]
//   stepca_bench sign  --port P --ca-json F --provisioner-password-file F --root F
//                      [--requests N] [--warmup N] [--concurrency C]
//                      [--mode keepalive|new] [--nginx-pid PID]
//                      [--redis HOST:PORT | --lmdb DIR] [--bound-us US]
//                      [--csr-key P-256|RSA-2048] [--seconds S]
//   stepca_bench inproc --ca-json F --password-file F --provisioner-password-file F
//                       --store URI [--requests N]
//
// Each command prints a human summary on stderr and one line
// "RESULT {json}" on stdout.
#include <jansson.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "authority/ossl.h"
#include "bench/bench.h"

namespace stepca {
namespace bench {
namespace {

constexpr const char kUsage[] =
    "usage:\n"
    "  stepca_bench bound --ca-json FILE [--csr-key P-256] [--seconds 0.5]\n"
    "  stepca_bench sign --port PORT --ca-json FILE --provisioner-password-file FILE\n"
    "                    --root FILE [--host 127.0.0.1] [--requests 2000] [--warmup 200]\n"
    "                    [--concurrency 1] [--mode keepalive|new] [--nginx-pid PID]\n"
    "                    [--redis HOST:PORT | --lmdb DIR] [--bound-us US]\n"
    "                    [--csr-key P-256|RSA-2048] [--seconds S [--min-requests 200]]\n"
    "  stepca_bench inproc --ca-json FILE --password-file FILE\n"
    "                    --provisioner-password-file FILE --store URI [--requests 2000]\n"
    "                    [--bound-us US]   (the library alone, one thread, no nginx/TLS)\n"
    "  --seconds S: size the run to about S seconds at the warm-up's rate\n"
    "               (at most --requests, at least --min-requests)\n";

class Flags {
 public:
  bool Parse(int argc, char** argv, int first) {
    for (int i = first; i < argc; ++i) {
      std::string a = argv[i];
      if (a.rfind("--", 0) != 0 || i + 1 >= argc) {
        std::cerr << "unexpected argument: " << a << "\n" << kUsage;
        return false;
      }
      values_[a.substr(2)] = argv[++i];
    }
    return true;
  }
  std::string Get(const std::string& k, const std::string& def = "") const {
    auto it = values_.find(k);
    return it == values_.end() ? def : it->second;
  }
  long Int(const std::string& k, long def) const {
    auto it = values_.find(k);
    return it == values_.end() ? def : std::atol(it->second.c_str());
  }
  double Num(const std::string& k, double def) const {
    auto it = values_.find(k);
    return it == values_.end() ? def : std::atof(it->second.c_str());
  }

 private:
  std::map<std::string, std::string> values_;
};

void PrintResult(json_t* j) {
  char* text = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
  std::cout << "RESULT " << text << std::endl;
  free(text);
}

int RunBound(const Flags& f) {
  auto b = MeasureCryptoBound(f.Get("ca-json"), f.Get("csr-key", "P-256"), f.Num("seconds", 0.5));
  if (!b.ok()) {
    std::cerr << "error: " << b.status().message() << "\n";
    return 1;
  }
  fprintf(stderr,
          "crypto bound (OpenSSL, one core): token verify %s %.1f us + CSR verify %s %.1f us"
          " + sign %s %.1f us = %.1f us/cert => %.0f certs/s per core\n",
          b->token_alg.c_str(), b->token_verify_us, b->csr_key.c_str(), b->csr_verify_us,
          b->ca_key.c_str(), b->sign_us, b->per_cert_us(), b->certs_per_core());
  JsonPtr j(json_pack("{s:s,s:s,s:s,s:f,s:f,s:f,s:f,s:f}", "ca_key", b->ca_key.c_str(),
                      "token_alg", b->token_alg.c_str(), "csr_key", b->csr_key.c_str(),
                      "token_verify_us", b->token_verify_us, "csr_verify_us", b->csr_verify_us,
                      "sign_us", b->sign_us, "per_cert_us", b->per_cert_us(),
                      "certs_per_core", b->certs_per_core()));
  PrintResult(j.get());
  return 0;
}

struct ServerSample {
  std::vector<pid_t> workers;
  double cpu = 0;
  long rss_kib = 0;
  long long store_ops = -1;
  std::map<std::string, long long> redis_calls;
};

ServerSample Sample(pid_t master, const std::string& redis, const std::string& lmdb) {
  ServerSample s;
  if (master > 0) {
    s.workers = ChildPids(master);
    for (pid_t p : s.workers) {
      s.cpu += ProcessCpuSeconds(p);
      s.rss_kib += ProcessRssKib(p);
    }
  }
  if (!redis.empty()) {
    size_t colon = redis.rfind(':');
    auto calls = RedisCommandCalls(redis.substr(0, colon), std::atoi(redis.c_str() + colon + 1));
    if (calls.ok()) {
      s.redis_calls = calls.value();
      s.store_ops = 0;
      for (auto& kv : s.redis_calls) s.store_ops += kv.second;
    } else {
      std::cerr << "warning: " << calls.status().message() << "\n";
    }
  } else if (!lmdb.empty()) {
    auto txn = LmdbLastTxnId(lmdb);
    if (txn.ok()) {
      s.store_ops = static_cast<long long>(txn.value());
    } else {
      std::cerr << "warning: " << txn.status().message() << "\n";
    }
  }
  return s;
}

double Percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  size_t i = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size()))) ;
  if (i > 0) --i;
  return sorted[std::min(i, sorted.size() - 1)];
}

int RunInproc(const Flags& f) {
  InprocOptions io;
  io.ca_json = f.Get("ca-json");
  io.ca_password_file = f.Get("password-file");
  io.store_uri = f.Get("store");
  if (io.ca_json.empty() || io.store_uri.empty() || f.Get("provisioner-password-file").empty()) {
    std::cerr << kUsage;
    return 2;
  }
  PrepareOptions po;
  po.ca_json = io.ca_json;
  po.password_file = f.Get("provisioner-password-file");
  po.audience = "https://127.0.0.1/1.0/sign";
  po.csr_key = f.Get("csr-key", "P-256");
  const size_t n = static_cast<size_t>(f.Int("requests", 2000));
  auto r = RunInProcess(io, [&] { return PrepareSignBodies(po, n); });
  if (!r.ok()) {
    std::cerr << "error: " << r.status().message() << "\n";
    return 1;
  }
  const double per_us = r->ok > 0 ? r->cpu_seconds * 1e6 / static_cast<double>(r->ok) : 0;
  const double bound_us = f.Num("bound-us", 0);
  fprintf(stderr, "in process (%s): %zu/%zu ok, %.1f us CPU/cert, %.0f certs/s on one thread",
          io.store_uri.substr(0, io.store_uri.find(':')).c_str(), r->ok, n, per_us,
          r->wall_seconds > 0 ? static_cast<double>(r->ok) / r->wall_seconds : 0);
  if (bound_us > 0) fprintf(stderr, ", %.2fx the crypto bound", per_us / bound_us);
  fprintf(stderr, "\n");
  if (!r->first_error.empty()) fprintf(stderr, "  first error: %s\n", r->first_error.c_str());
  JsonPtr j(json_pack("{s:I,s:I,s:f,s:f,s:f}", "requests", static_cast<json_int_t>(n), "ok",
                      static_cast<json_int_t>(r->ok), "wall_s", r->wall_seconds, "cpu_s",
                      r->cpu_seconds, "cpu_per_cert_us", per_us));
  if (bound_us > 0) json_object_set_new(j.get(), "cpu_vs_bound", json_real(per_us / bound_us));
  PrintResult(j.get());
  return 0;
}

int RunSign(const Flags& f) {
  LoadOptions lo;
  lo.host = f.Get("host", "127.0.0.1");
  lo.port = static_cast<int>(f.Int("port", 0));
  lo.root_file = f.Get("root");
  lo.concurrency = static_cast<int>(f.Int("concurrency", 1));
  const std::string mode = f.Get("mode", "keepalive");
  if (mode != "keepalive" && mode != "new") {
    std::cerr << "--mode is keepalive or new\n";
    return 2;
  }
  lo.mode = mode == "new" ? ConnMode::kNewConnection : ConnMode::kKeepAlive;
  if (lo.port <= 0 || lo.root_file.empty() || f.Get("ca-json").empty() ||
      f.Get("provisioner-password-file").empty()) {
    std::cerr << kUsage;
    return 2;
  }
  size_t n = static_cast<size_t>(f.Int("requests", 2000));
  const double seconds = f.Num("seconds", 0);
  const size_t min_requests = static_cast<size_t>(f.Int("min-requests", 200));
  const size_t warm = static_cast<size_t>(f.Int("warmup", 200));
  const pid_t master = static_cast<pid_t>(f.Int("nginx-pid", 0));
  const std::string redis = f.Get("redis");
  const std::string lmdb = f.Get("lmdb");

  // Off the clock: tokens and CSRs.
  PrepareOptions po;
  po.ca_json = f.Get("ca-json");
  po.password_file = f.Get("provisioner-password-file");
  po.audience = "https://" + lo.host + ":" + std::to_string(lo.port) + "/1.0/sign";
  po.csr_key = f.Get("csr-key", "P-256");
  // Warm-up first (connections, thread pool, store, caches), off the clock;
  // its rate sizes the measured run when --seconds is given.
  double warm_rate = 0;
  if (warm > 0) {
    po.name_prefix = "";
    auto warm_bodies = PrepareSignBodies(po, warm);
    if (!warm_bodies.ok()) {
      std::cerr << "error preparing tokens and CSRs: " << warm_bodies.status().message() << "\n";
      return 1;
    }
    LoadResult w = RunLoad(lo, warm_bodies.value(), [] {}, [] {});
    if (w.ok != w.requests) {
      std::cerr << "warm-up: " << w.ok << "/" << w.requests << " ok; " << w.first_error << "\n";
    }
    warm_rate = w.wall_seconds > 0 ? static_cast<double>(w.ok) / w.wall_seconds : 0;
  }
  if (seconds > 0 && warm_rate > 0) {
    const size_t want = static_cast<size_t>(warm_rate * seconds);
    const size_t floor = std::max<size_t>(min_requests, 4 * static_cast<size_t>(lo.concurrency));
    n = std::min(n, std::max(want, floor));
  }
  const auto p0 = std::chrono::steady_clock::now();
  auto bodies = PrepareSignBodies(po, n);
  if (!bodies.ok()) {
    std::cerr << "error preparing tokens and CSRs: " << bodies.status().message() << "\n";
    return 1;
  }
  const double prep_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - p0).count();
  const std::vector<std::string> run_bodies = std::move(bodies).value();

  ServerSample before, after;
  LoadResult r = RunLoad(
      lo, run_bodies, [&] { before = Sample(master, redis, lmdb); },
      [&] { after = Sample(master, redis, lmdb); });

  const double ok = static_cast<double>(r.ok);
  const double rate = r.wall_seconds > 0 ? ok / r.wall_seconds : 0;
  const double server_cpu = after.cpu - before.cpu;
  const double cpu_per_cert_us = r.ok > 0 ? server_cpu * 1e6 / ok : 0;
  const double bound_us = f.Num("bound-us", 0);
  const bool workers_same = before.workers == after.workers;
  const long long store_ops =
      before.store_ops >= 0 && after.store_ops >= 0 ? after.store_ops - before.store_ops : -1;

  JsonPtr fails(json_object());
  for (auto& kv : r.failures)
    json_object_set_new(fails.get(), std::to_string(kv.first).c_str(),
                        json_integer(static_cast<json_int_t>(kv.second)));
  JsonPtr cmds(json_object());
  for (auto& kv : after.redis_calls) {
    auto it = before.redis_calls.find(kv.first);
    long long d = kv.second - (it == before.redis_calls.end() ? 0 : it->second);
    if (d > 0) json_object_set_new(cmds.get(), kv.first.c_str(), json_integer(d));
  }
  JsonPtr j(json_object());
  auto set = [&](const char* k, json_t* v) { json_object_set_new(j.get(), k, v); };
  set("mode", json_string(mode.c_str()));
  set("concurrency", json_integer(lo.concurrency));
  set("requests", json_integer(static_cast<json_int_t>(r.requests)));
  set("ok", json_integer(static_cast<json_int_t>(r.ok)));
  set("failures", fails.release());
  set("prepare_s", json_real(prep_s));
  set("wall_s", json_real(r.wall_seconds));
  set("certs_per_s", json_real(rate));
  set("p50_ms", json_real(Percentile(r.latencies_ms, 50)));
  set("p99_ms", json_real(Percentile(r.latencies_ms, 99)));
  set("max_ms", json_real(r.latencies_ms.empty() ? 0 : r.latencies_ms.back()));
  set("workers", json_integer(static_cast<json_int_t>(after.workers.size())));
  set("workers_unchanged", json_boolean(workers_same));
  set("server_cpu_s", json_real(server_cpu));
  set("cpu_per_cert_us", json_real(cpu_per_cert_us));
  set("client_cpu_s", json_real(r.client_cpu_seconds));
  set("rss_before_kib", json_integer(before.rss_kib));
  set("rss_after_kib", json_integer(after.rss_kib));
  set("store_ops", json_integer(store_ops));
  set("store_ops_per_cert", json_real(store_ops >= 0 && r.ok > 0 ? store_ops / ok : -1));
  set("store_commands", cmds.release());
  if (bound_us > 0) {
    set("bound_us", json_real(bound_us));
    set("cpu_vs_bound", json_real(cpu_per_cert_us / bound_us));
  }
  if (!r.first_error.empty()) set("first_error", json_string(r.first_error.c_str()));

  fprintf(stderr,
          "%s c=%d: %zu/%zu ok in %.2f s => %.0f certs/s; latency p50 %.2f ms p99 %.2f ms "
          "max %.2f ms; server CPU %.1f us/cert (%zu workers)",
          mode.c_str(), lo.concurrency, r.ok, r.requests, r.wall_seconds, rate,
          Percentile(r.latencies_ms, 50), Percentile(r.latencies_ms, 99),
          r.latencies_ms.empty() ? 0 : r.latencies_ms.back(), cpu_per_cert_us,
          after.workers.size());
  if (bound_us > 0) fprintf(stderr, ", %.2fx the crypto bound", cpu_per_cert_us / bound_us);
  if (store_ops >= 0) fprintf(stderr, "; store round trips %.2f/cert", r.ok ? store_ops / ok : 0);
  fprintf(stderr, "; worker RSS %ld -> %ld KiB\n", before.rss_kib, after.rss_kib);
  for (auto& kv : r.failures) fprintf(stderr, "  failures with status %d: %zu\n", kv.first, kv.second);
  if (!r.first_error.empty()) fprintf(stderr, "  first error: %s\n", r.first_error.c_str());
  if (!workers_same) fprintf(stderr, "  warning: the set of nginx workers changed during the run\n");
  PrintResult(j.get());
  return 0;
}

}  // namespace
}  // namespace bench
}  // namespace stepca

int main(int argc, char** argv) {
  using namespace stepca::bench;
  if (argc < 2) {
    std::cerr << kUsage;
    return 2;
  }
  const std::string cmd = argv[1];
  Flags f;
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    std::cout << kUsage;
    return 0;
  }
  if (!f.Parse(argc, argv, 2)) return 2;
  if (cmd == "bound") return RunBound(f);
  if (cmd == "sign") return RunSign(f);
  if (cmd == "inproc") return RunInproc(f);
  std::cerr << kUsage;
  return 2;
}
