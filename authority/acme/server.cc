#include "authority/acme/server.h"

#include <cstdlib>
#include <cstring>

#include "authority/acme/router.h"
#include "authority/authority.h"
#include "shared/base64.h"

namespace stepca {
namespace acme {
namespace {

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

int IntSetting(const json_t* obj, const char* name, int fallback) {
  const json_t* v = json_object_get(obj, name);
  if (json_is_integer(v) && json_integer_value(v) > 0 && json_integer_value(v) < 65536)
    return static_cast<int>(json_integer_value(v));
  return fallback;
}

}  // namespace

Service::Service(Authority& authority, const AuthorityOptions& options) : authority_(authority) {
  base_url_ = options.acme.base_url;
  while (!base_url_.empty() && base_url_.back() == '/') base_url_.pop_back();
  ValidationConfig& v = defaults_.validation;
  v.http01_port = options.acme.http01_port;
  v.tls_alpn01_port = options.acme.tls_alpn01_port;
  v.dns_resolver = options.acme.dns_resolver;

  const auto& provs = authority.config().provisioners;
  for (size_t i = 0; i < provs.size(); ++i) {
    const Provisioner& p = provs.at(i);
    if (p.type() != ProvisionerType::kAcme) continue;
    ProvisionerSettings s = defaults_;
    const json_t* j = p.json();
    s.require_eab = json_is_true(json_object_get(j, "requireEAB"));
    s.force_cn = json_is_true(json_object_get(j, "forceCN"));
    size_t k;
    const json_t* c;
    json_array_foreach(json_object_get(j, "challenges"), k, c) {
      if (json_is_string(c)) s.challenges.push_back(Lower(json_string_value(c)));
    }
    const json_t* ext = json_object_get(j, "nginxStepca");
    if (json_is_object(ext)) {
      s.validation.http01_port = IntSetting(ext, "http01Port", s.validation.http01_port);
      s.validation.tls_alpn01_port = IntSetting(ext, "tlsAlpn01Port", s.validation.tls_alpn01_port);
      const json_t* r = json_object_get(ext, "dnsResolver");
      if (json_is_string(r)) s.validation.dns_resolver = json_string_value(r);
      const char* kid;
      const json_t* kv;
      json_object_foreach(const_cast<json_t*>(json_object_get(ext, "eabKeys")), kid, kv) {
        if (!json_is_string(kv)) continue;
        std::string raw = json_string_value(kv);
        while (!raw.empty() && raw.back() == '=') raw.pop_back();
        auto key = Base64UrlDecode(raw);
        if (key && !key->empty()) s.eab_keys[kid] = *key;
      }
    }
    settings_[p.name()] = std::move(s);
  }
  pool_.reset(new ValidationPool(options.acme.validation_threads, options.acme.validation_queue,
                                 [this](const ValidationTask& t, const std::atomic<bool>& stop) {
                                   RunValidation(t, stop);
                                 }));
}

Service::~Service() { Stop(); }

void Service::Stop() {
  if (pool_) pool_->Stop();
}

bool Service::Submit(ValidationTask task) { return pool_->Submit(std::move(task)); }

const ProvisionerSettings& Service::Settings(const Provisioner& p) const {
  auto it = settings_.find(p.name());
  return it == settings_.end() ? defaults_ : it->second;
}

HttpResponse Service::Handle(const HttpRequest& request) { return Route(*this, request); }

Store& Service::store() {
  return store_override_ != nullptr ? *store_override_ : authority_.store();
}

}  // namespace acme
}  // namespace stepca
