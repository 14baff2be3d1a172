#include "authority/provisioner/remote_key_set.h"

#include <curl/curl.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <thread>

namespace stepca {
namespace {

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

constexpr size_t kMaxDocument = 1 << 20;

size_t CollectBody(char* data, size_t size, size_t n, void* out) {
  auto* s = static_cast<std::string*>(out);
  if (s->size() + size * n > kMaxDocument) return 0;
  s->append(data, size * n);
  return size * n;
}

size_t CollectCacheControl(char* data, size_t size, size_t n, void* out) {
  std::string line(data, size * n);
  static const std::string kName = "cache-control:";
  if (line.size() > kName.size()) {
    std::string head = line.substr(0, kName.size());
    for (auto& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (head == kName) {
      std::string v = line.substr(kName.size());
      while (!v.empty() && (v.back() == '\r' || v.back() == '\n' || v.back() == ' ')) v.pop_back();
      while (!v.empty() && v.front() == ' ') v.erase(0, 1);
      *static_cast<std::string*>(out) = v;
    }
  }
  return size * n;
}

}  // namespace

HttpGetter DefaultHttpGetter() {
  const char* env = std::getenv("SSL_CERT_FILE");
  std::string ca_file = env != nullptr ? env : "";
  return [ca_file](const std::string& url) { return CurlHttpGet(url, ca_file); };
}

Result<HttpDocument> CurlHttpGet(const std::string& url, const std::string& ca_file) {
  static std::once_flag init_once;
  std::call_once(init_once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  std::unique_ptr<CURL, CurlDeleter> c(curl_easy_init());
  if (!c) return Internal("curl_easy_init failed");
  HttpDocument doc;
  curl_easy_setopt(c.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(c.get(), CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c.get(), CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(c.get(), CURLOPT_TIMEOUT_MS, 5000L);
  curl_easy_setopt(c.get(), CURLOPT_CONNECTTIMEOUT_MS, 5000L);
  curl_easy_setopt(c.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c.get(), CURLOPT_USERAGENT, "nginx-stepca");
  if (!ca_file.empty()) curl_easy_setopt(c.get(), CURLOPT_CAINFO, ca_file.c_str());
  curl_easy_setopt(c.get(), CURLOPT_WRITEFUNCTION, CollectBody);
  curl_easy_setopt(c.get(), CURLOPT_WRITEDATA, &doc.body);
  curl_easy_setopt(c.get(), CURLOPT_HEADERFUNCTION, CollectCacheControl);
  curl_easy_setopt(c.get(), CURLOPT_HEADERDATA, &doc.cache_control);
  std::unique_ptr<curl_slist, SlistDeleter> headers(curl_slist_append(nullptr, "Accept: application/json"));
  curl_easy_setopt(c.get(), CURLOPT_HTTPHEADER, headers.get());
  CURLcode rc = curl_easy_perform(c.get());
  if (rc != CURLE_OK)
    return Unavailable("failed to connect to " + url + ": " + curl_easy_strerror(rc));
  long status = 0;
  curl_easy_getinfo(c.get(), CURLINFO_RESPONSE_CODE, &status);
  if (status != 200) return Unavailable("error reading " + url + ": status " + std::to_string(status));
  return doc;
}

Result<OidcDiscovery> ParseOidcDiscovery(std::string_view body) {
  JsonPtr j(json_loadb(body.data(), body.size(), 0, nullptr));
  if (!json_is_object(j.get())) return InvalidArgument("discovery document is not a JSON object");
  const json_t* iss = json_object_get(j.get(), "issuer");
  const json_t* uri = json_object_get(j.get(), "jwks_uri");
  if (!json_is_string(iss) || json_string_length(iss) == 0)
    return InvalidArgument("issuer cannot be empty");
  if (!json_is_string(uri) || json_string_length(uri) == 0)
    return InvalidArgument("jwks_uri cannot be empty");
  return OidcDiscovery{json_string_value(iss), json_string_value(uri)};
}

Result<std::vector<Jwk>> ParseJwkSet(std::string_view body) {
  JsonPtr j(json_loadb(body.data(), body.size(), 0, nullptr));
  if (!json_is_object(j.get())) return InvalidArgument("key set is not a JSON object");
  const json_t* keys = json_object_get(j.get(), "keys");
  if (!json_is_array(keys)) return InvalidArgument("key set has no \"keys\" array");
  std::vector<Jwk> out;
  size_t i;
  const json_t* k;
  json_array_foreach(keys, i, k) {
    const json_t* use = json_object_get(k, "use");
    if (json_is_string(use) && std::string(json_string_value(use)) != "sig") continue;
    auto jwk = ParseJwk(k);
    if (!jwk.ok() || jwk->has_private) continue;
    out.push_back(std::move(jwk).value());
  }
  if (out.empty()) return InvalidArgument("key set holds no usable signing key");
  return out;
}

std::chrono::seconds CacheMaxAge(const std::string& cache_control, std::chrono::seconds dflt) {
  const size_t at = cache_control.find("max-age=");
  if (at == std::string::npos) return dflt;
  const char* p = cache_control.c_str() + at + 8;
  if (!std::isdigit(static_cast<unsigned char>(*p))) return dflt;
  char* end = nullptr;
  const long long v = std::strtoll(p, &end, 10);
  if (v < 0 || v > 365LL * 86400) return dflt;
  return std::chrono::seconds(v);
}

RemoteKeySet::RemoteKeySet(Source source, HttpGetter get, std::chrono::seconds refresh_interval)
    : source_(std::move(source)), get_(std::move(get)), refresh_interval_(refresh_interval) {}

Result<std::shared_ptr<const RemoteKeySet::Snapshot>> RemoteKeySet::Fetch() const {
  ++fetches_;
  auto snap = std::make_shared<Snapshot>();
  std::string jwks_url = source_.jwks_url;
  if (!source_.discovery_url.empty()) {
    STEPCA_ASSIGN_OR_RETURN(HttpDocument d, get_(source_.discovery_url));
    auto disc = ParseOidcDiscovery(d.body);
    if (!disc.ok()) return disc.status().Wrap("error parsing " + source_.discovery_url);
    snap->issuer = disc->issuer;
    if (!source_.tenant_id.empty()) {
      for (size_t at; (at = snap->issuer.find("{tenantid}")) != std::string::npos;)
        snap->issuer.replace(at, 10, source_.tenant_id);
    }
    jwks_url = disc->jwks_uri;
  }
  STEPCA_ASSIGN_OR_RETURN(HttpDocument k, get_(jwks_url));
  auto keys = ParseJwkSet(k.body);
  if (!keys.ok()) return keys.status().Wrap("error reading " + jwks_url);
  for (auto& key : *keys) snap->keys.push_back(std::make_shared<const Jwk>(std::move(key)));
  snap->expires = std::chrono::steady_clock::now() + CacheMaxAge(k.cache_control, kDefaultMaxAge);
  return std::shared_ptr<const Snapshot>(std::move(snap));
}

Status RemoteKeySet::Load() {
  auto snap = Fetch();
  if (!snap.ok()) return snap.status();
  std::lock_guard<std::mutex> lock(mu_);
  snapshot_ = std::move(snap).value();
  return Status::Ok();
}

void RemoteKeySet::ScheduleRefresh() {
  const auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (refreshing_ && refreshing_pid_ == getpid()) return;
    if (last_refresh_ != std::chrono::steady_clock::time_point{} &&
        now - last_refresh_ < refresh_interval_)
      return;
    refreshing_ = true;
    refreshing_pid_ = getpid();
    last_refresh_ = now;
  }
  // The thread holds the key set alive; a failed fetch keeps the old keys.
  std::thread([self = shared_from_this()] {
    auto snap = self->Fetch();
    std::lock_guard<std::mutex> lock(self->mu_);
    if (snap.ok()) self->snapshot_ = std::move(snap).value();
    self->refreshing_ = false;
  }).detach();
}

std::vector<std::shared_ptr<const Jwk>> RemoteKeySet::Find(const std::string& kid) {
  std::shared_ptr<const Snapshot> snap;
  {
    std::lock_guard<std::mutex> lock(mu_);
    snap = snapshot_;
  }
  std::vector<std::shared_ptr<const Jwk>> out;
  if (snap) {
    for (const auto& k : snap->keys)
      if (k->kid == kid) out.push_back(k);
  }
  if (out.empty() || !snap || std::chrono::steady_clock::now() > snap->expires) ScheduleRefresh();
  return out;
}

std::string RemoteKeySet::issuer() const {
  std::lock_guard<std::mutex> lock(mu_);
  return snapshot_ ? snapshot_->issuer : std::string();
}

bool RemoteKeySet::loaded() const {
  std::lock_guard<std::mutex> lock(mu_);
  return snapshot_ != nullptr;
}

}  // namespace stepca
