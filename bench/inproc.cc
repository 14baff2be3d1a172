// In process, without nginx or TLS: the library's own cost per certificate.
// Loads the authority through the C ABI (shared/stepca_abi.h) as the module
// does, then calls stepca_handle for POST /1.0/sign with prepared bodies on
// one thread and reads that thread's CPU time. The difference to the nginx
// figure is what the module, nginx, TLS and the thread-pool hand-off cost.
#include <time.h>

#include <chrono>
#include <cstring>

#include "bench/bench.h"
#include "shared/stepca_abi.h"

namespace stepca {
namespace bench {
namespace {

double ThreadCpuNow() {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

stepca_str_t S(const std::string& s) { return {s.data(), s.size()}; }

}  // namespace

Result<InprocResult> RunInProcess(const InprocOptions& o,
                                  const std::function<Result<std::vector<std::string>>()>& prepare) {
  stepca_options_t opts;
  std::memset(&opts, 0, sizeof opts);
  opts.ca_json_path = o.ca_json.c_str();
  opts.password_file = o.ca_password_file.empty() ? nullptr : o.ca_password_file.c_str();
  opts.store_uri = o.store_uri.c_str();
  char err[STEPCA_ERRLEN] = {0};
  stepca_authority_t* a = stepca_authority_load(&opts, err, sizeof err);
  if (a == nullptr) return InvalidArgument(std::string("stepca_authority_load: ") + err);
  if (stepca_authority_prepare_store(a, -1, -1, err, sizeof err) != 0 ||
      stepca_authority_init_process(a, err, sizeof err) != 0) {
    stepca_authority_free(a);
    return Unavailable(std::string("store: ") + err);
  }
  // Tokens are minted after the authority loads: a token issued before the
  // store's epoch is refused.
  auto prepared = prepare();
  if (!prepared.ok()) {
    stepca_authority_exit_process(a);
    stepca_authority_free(a);
    return prepared.status();
  }
  const std::vector<std::string>& bodies = prepared.value();
  const std::string method = "POST", path = "/1.0/sign", scheme = "https",
                    host = "127.0.0.1", ctype = "application/json", addr = "127.0.0.1";
  InprocResult r;
  const double cpu0 = ThreadCpuNow();
  const auto t0 = std::chrono::steady_clock::now();
  for (const std::string& body : bodies) {
    stepca_request_t req;
    std::memset(&req, 0, sizeof req);
    req.method = S(method);
    req.path = S(path);
    req.scheme = S(scheme);
    req.host = S(host);
    req.content_type = S(ctype);
    req.client_addr = S(addr);
    req.body = S(body);
    stepca_response_t resp;
    std::memset(&resp, 0, sizeof resp);
    stepca_handle(a, &req, &resp);
    if (resp.status == 201) {
      ++r.ok;
    } else if (r.first_error.empty()) {
      r.first_error = "HTTP " + std::to_string(resp.status) + ": " +
                      std::string(resp.body != nullptr ? resp.body : "", resp.body_len);
    }
    stepca_response_free(&resp);
  }
  r.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.cpu_seconds = ThreadCpuNow() - cpu0;
  stepca_authority_exit_process(a);
  stepca_authority_free(a);
  return r;
}

}  // namespace bench
}  // namespace stepca
