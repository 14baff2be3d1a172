#include "cli/http.h"

#include <curl/curl.h>

#include <mutex>

namespace stepca {
namespace cli {
namespace {

using CurlPtr = std::unique_ptr<CURL, OsslDeleter<CURL, curl_easy_cleanup>>;
void FreeSlist(curl_slist* l) { curl_slist_free_all(l); }
using SlistPtr = std::unique_ptr<curl_slist, OsslDeleter<curl_slist, FreeSlist>>;

size_t Collect(char* data, size_t size, size_t n, void* user) {
  auto* out = static_cast<std::string*>(user);
  if (out->size() + size * n > (16u << 20)) return 0;  // 16 MiB is plenty
  out->append(data, size * n);
  return size * n;
}

Result<HttpResponse> Perform(const std::string& url, const std::string* body,
                             const std::string& root_file) {
  static std::once_flag init_once;
  std::call_once(init_once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (url.rfind("https://", 0) != 0) {
    return InvalidArgument("ca-url '" + url + "' must use https");
  }
  if (root_file.empty()) {
    return InvalidArgument("a root certificate is required (use --root)");
  }
  CurlPtr curl(curl_easy_init());
  if (!curl) return Internal("curl_easy_init failed");
  HttpResponse response;
  char errbuf[CURL_ERROR_SIZE] = {0};
  SlistPtr headers;
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, Collect);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "stepca-cli/" "0.1");
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 15L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
  // Trust the CA's root and nothing else.
  curl_easy_setopt(c, CURLOPT_CAINFO, root_file.c_str());
  curl_easy_setopt(c, CURLOPT_CAPATH, nullptr);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(c, CURLOPT_SSLVERSION, CURL_SSLVERSION_TLSv1_2);
  if (body != nullptr) {
    headers.reset(curl_slist_append(nullptr, "Content-Type: application/json"));
    // No "Expect: 100-continue" round trip: the body is small.
    curl_slist* more = curl_slist_append(headers.get(), "Expect:");
    if (more == nullptr) return Internal("out of memory");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body->data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(body->size()));
  }
  CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK) {
    std::string why = errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc);
    return Unavailable("client " + std::string(body ? "POST " : "GET ") + url +
                       " failed: " + why);
  }
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response.status);
  return response;
}

Code CodeForHttp(long status) {
  switch (status) {
    case 400: return Code::kInvalidArgument;
    case 401: return Code::kUnauthenticated;
    case 403: return Code::kPermissionDenied;
    case 404: return Code::kNotFound;
    case 409: return Code::kAlreadyExists;
    case 501: return Code::kUnimplemented;
    case 503: return Code::kUnavailable;
    default: return Code::kInternal;
  }
}

}  // namespace

Result<HttpResponse> HttpGet(const std::string& url, const std::string& root_file) {
  return Perform(url, nullptr, root_file);
}

Result<HttpResponse> HttpPostJson(const std::string& url, const std::string& body,
                                  const std::string& root_file) {
  return Perform(url, &body, root_file);
}

Status CaError(const HttpResponse& response) {
  std::string message;
  json_error_t err;
  JsonPtr j(json_loadb(response.body.data(), response.body.size(), 0, &err));
  if (j && json_is_object(j.get())) {
    const char* m = json_string_value(json_object_get(j.get(), "message"));
    if (m == nullptr) m = json_string_value(json_object_get(j.get(), "detail"));
    if (m != nullptr) message = m;
  }
  if (message.empty()) {
    message = response.body;
    while (!message.empty() && (message.back() == '\n' || message.back() == '\r')) {
      message.pop_back();
    }
  }
  if (message.empty()) message = "the CA answered with status " + std::to_string(response.status);
  return Status(CodeForHttp(response.status),
                message + " (status " + std::to_string(response.status) + ")");
}

Result<JsonPtr> JsonBody(const HttpResponse& response) {
  if (response.status < 200 || response.status > 299) return CaError(response);
  json_error_t err;
  JsonPtr j(json_loadb(response.body.data(), response.body.size(), 0, &err));
  if (!j || !json_is_object(j.get())) {
    return Internal(std::string("error parsing the CA response: ") + err.text);
  }
  return j;
}

std::string NormalizeCaUrl(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

std::string EscapePathSegment(const std::string& s) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
        (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
  return out;
}

}  // namespace cli
}  // namespace stepca
