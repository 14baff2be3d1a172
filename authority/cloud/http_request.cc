#include "authority/cloud/http_request.h"

#include <curl/curl.h>
#include <unistd.h>

#include <cctype>
#include <memory>
#include <mutex>

namespace stepca::cloud {
namespace {

size_t Collect(char* data, size_t size, size_t n, void* out) {
  auto* body = static_cast<std::string*>(out);
  // A KMS answer is a few kilobytes; a runaway body is cut off.
  if (body->size() + size * n > (1u << 20)) return 0;
  body->append(data, size * n);
  return size * n;
}

struct CurlFree {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};

// One handle per thread keeps the TLS connection to the KMS between
// signatures. A handle made before fork (the master's, at load) is never
// reused in the child: the pid tells them apart.
CURL* ThreadHandle() {
  thread_local std::unique_ptr<CURL, CurlFree> handle;
  thread_local pid_t owner = 0;
  if (!handle || owner != getpid()) {
    static std::once_flag init;
    std::call_once(init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
    if (handle && owner != getpid()) (void)handle.release();  // the parent's: left alone
    handle.reset(curl_easy_init());
    owner = getpid();
  } else {
    curl_easy_reset(handle.get());
  }
  return handle.get();
}

}  // namespace

std::string UrlHost(const std::string& url) {
  size_t start = url.find("://");
  start = start == std::string::npos ? 0 : start + 3;
  size_t end = url.find_first_of("/?#", start);
  return url.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

std::string PercentEscape(const std::string& value, std::string_view keep) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : value) {
    if (std::isalnum(c) || keep.find(static_cast<char>(c)) != std::string_view::npos) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string FormEscape(const std::string& value) { return PercentEscape(value, "-_.~"); }

Result<HttpResponse> SendHttp(const HttpRequest& r) {
  CURL* c = ThreadHandle();
  if (c == nullptr) return Internal("http: cannot make a curl handle");
  HttpResponse out;
  struct curl_slist* headers = nullptr;
  for (const auto& h : r.headers) headers = curl_slist_append(headers, h.c_str());
  curl_easy_setopt(c, CURLOPT_URL, r.url.c_str());
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, r.connect_timeout_ms);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, r.timeout_ms);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https,http");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, Collect);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &out.body);
  if (r.method == "POST") {
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, r.body.c_str());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, static_cast<long>(r.body.size()));
  } else {
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
  }
  const CURLcode rc = curl_easy_perform(c);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, nullptr);
  curl_slist_free_all(headers);
  if (rc != CURLE_OK)
    return Unavailable(UrlHost(r.url) + " cannot be reached: " + curl_easy_strerror(rc));
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out.status);
  return out;
}

}  // namespace stepca::cloud
