#include "authority/ra/upstream_client.h"

#include <curl/curl.h>
#include <jansson.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <mutex>

#include "authority/ossl.h"

namespace stepca {
namespace {

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
using CurlPtr = std::unique_ptr<CURL, CurlDeleter>;

// One handle per thread, created on its first call: the handle's
// connection cache is what keeps the upstream connection open between
// requests. The master (configuration time) is the thread that made the
// handle before fork; a worker's pool threads make their own.
struct ThreadHandle {
  CurlPtr curl;
  pid_t pid = 0;
};

void GlobalInit() {
  static std::once_flag init_once;
  std::call_once(init_once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

CURL* HandleForThisThread() {
  GlobalInit();
  thread_local ThreadHandle h;
  // A handle inherited through fork shares its sockets with the parent.
  if (h.curl && h.pid != getpid()) {
    (void)h.curl.release();  // the parent's; never closed from here
  }
  if (!h.curl) {
    h.curl.reset(curl_easy_init());
    h.pid = getpid();
  } else {
    curl_easy_reset(h.curl.get());  // options only: live connections stay
  }
  return h.curl.get();
}

size_t Collect(char* data, size_t size, size_t n, void* out) {
  auto* s = static_cast<std::string*>(out);
  constexpr size_t kMax = 1 << 20;  // a step-ca answer is a few kB
  if (s->size() + size * n > kMax) return 0;
  s->append(data, size * n);
  return size * n;
}

}  // namespace

UpstreamClient::UpstreamClient(std::string base, std::string root_pem, UpstreamOptions options)
    : base_(std::move(base)), root_pem_(std::move(root_pem)), options_(options) {}

Result<UpstreamResponse> UpstreamClient::Get(const std::string& path) const {
  return Call(path, nullptr, "");
}

Result<UpstreamResponse> UpstreamClient::PostJson(const std::string& path,
                                                  const std::string& body,
                                                  const std::string& bearer) const {
  return Call(path, &body, bearer);
}

Result<UpstreamResponse> UpstreamClient::Call(const std::string& path, const std::string* body,
                                              const std::string& bearer) const {
  std::vector<std::string> headers;
  if (!bearer.empty()) headers.push_back("Authorization: Bearer " + bearer);
  auto out = Request(body != nullptr ? "POST" : "GET", path, body, headers);
  for (std::string& h : headers) Wipe(h);
  return out;
}

Result<UpstreamResponse> UpstreamClient::Request(const std::string& method,
                                                 const std::string& path,
                                                 const std::string* body,
                                                 const std::vector<std::string>& extra_headers,
                                                 const std::string& content_type) const {
  CurlPtr own;
  if (!options_.reuse_connection) {
    GlobalInit();
    own.reset(curl_easy_init());
  }
  CURL* c = options_.reuse_connection ? HandleForThisThread() : own.get();
  if (c == nullptr) return Unavailable("upstream CA: curl_easy_init failed");
  const std::string url = base_ + path;
  UpstreamResponse out;
  char errbuf[CURL_ERROR_SIZE] = "";
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, options_.allow_http ? "http,https" : "https");
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);  // pool threads: no SIGALRM
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout.count()));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.total_timeout.count()));
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, Collect);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &out.body);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "nginx-stepca-ra");
  curl_blob blob{};
  if (root_pem_.empty() && options_.system_trust) {
    if (!options_.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, options_.ca_file.c_str());
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
  } else if (root_pem_.empty()) {
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
  } else {
    blob.data = const_cast<char*>(root_pem_.data());
    blob.len = root_pem_.size();
    blob.flags = CURL_BLOB_NOCOPY;
    curl_easy_setopt(c, CURLOPT_CAINFO_BLOB, &blob);
    curl_easy_setopt(c, CURLOPT_CAPATH, nullptr);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
  }
  if (options_.peer_chain) curl_easy_setopt(c, CURLOPT_CERTINFO, 1L);
  struct curl_slist* headers = nullptr;
  for (const std::string& h : extra_headers) headers = curl_slist_append(headers, h.c_str());
  std::string content_header;
  if (body != nullptr) {
    content_header = "Content-Type: " + content_type;
    headers = curl_slist_append(headers, content_header.c_str());
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body->data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(body->size()));
  }
  if (method != "GET" && method != "POST") curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method.c_str());
  if (headers != nullptr) curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  const auto t0 = std::chrono::steady_clock::now();
  CURLcode rc = curl_easy_perform(c);
  UpstreamCallStats stats;
  stats.elapsed = std::chrono::steady_clock::now() - t0;
  long connects = 0;
  if (curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &connects) == CURLE_OK && connects > 0)
    stats.new_connections = static_cast<uint64_t>(connects);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, nullptr);
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, nullptr);
  curl_slist_free_all(headers);
  if (rc != CURLE_OK) {
    stats.result = rc == CURLE_OPERATION_TIMEDOUT ? "timeout" : "unreachable";
    if (options_.observer) options_.observer(stats);
    std::string why = errbuf[0] ? errbuf : curl_easy_strerror(rc);
    // Where the upstream lives is for the log, not the client.
    return Unavailable(rc == CURLE_OPERATION_TIMEDOUT ? "the upstream CA did not answer in time"
                                                      : "the upstream CA did not answer")
        .WithDetail(base_ + ": " + why);
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out.status);
  stats.result = out.status >= 200 && out.status < 300   ? "ok"
                 : out.status >= 400 && out.status < 500 ? "refused"
                                                         : "failed";
  if (options_.observer) options_.observer(stats);
  if (options_.peer_chain) {
    struct curl_certinfo* info = nullptr;
    if (curl_easy_getinfo(c, CURLINFO_CERTINFO, &info) == CURLE_OK && info != nullptr) {
      for (int i = 0; i < info->num_of_certs; ++i)
        for (struct curl_slist* e = info->certinfo[i]; e != nullptr; e = e->next)
          if (std::strncmp(e->data, "Cert:", 5) == 0) out.peer_chain_pems.emplace_back(e->data + 5);
    }
  }
  return out;
}

std::string UpstreamErrorMessage(const UpstreamResponse& r) {
  JsonPtr j(json_loadb(r.body.data(), r.body.size(), 0, nullptr));
  const json_t* m = j ? json_object_get(j.get(), "message") : nullptr;
  if (json_is_string(m)) return json_string_value(m);
  std::string excerpt = r.body.substr(0, 200);
  for (char& ch : excerpt)
    if (static_cast<unsigned char>(ch) < 0x20) ch = ' ';
  return "HTTP " + std::to_string(r.status) + (excerpt.empty() ? "" : ": " + excerpt);
}

}  // namespace stepca
