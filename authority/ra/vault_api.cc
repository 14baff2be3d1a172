#include "authority/ra/vault_api.h"

#include <utility>
#include <vector>

namespace stepca {
namespace {

UpstreamOptions VaultOptions(const RaConfig& config, bool reuse, UpstreamObserver observer) {
  UpstreamOptions o;
  o.observer = std::move(observer);
  o.reuse_connection = reuse;
  o.allow_http = true;  // Vault's dev server and many internal ones listen on http
  o.system_trust = true;
  o.ca_file = config.vault.ca_file;
  o.connect_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(config.timeouts.connect);
  o.total_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(config.timeouts.total);
  return o;
}

}  // namespace

VaultApi::VaultApi(const RaConfig& config, bool reuse_connection, UpstreamObserver observer)
    : address_(config.certificate_authority),
      namespace_(config.vault.vault_namespace),
      client_(config.certificate_authority, "", VaultOptions(config, reuse_connection, std::move(observer))) {}

Result<VaultResponse> VaultApi::Call(const std::string& path, const json_t* body,
                                     const std::string& token) const {
  std::vector<std::string> headers;
  if (!namespace_.empty()) headers.push_back("X-Vault-Namespace: " + namespace_);
  if (!token.empty()) headers.push_back("X-Vault-Token: " + token);
  std::string payload;
  if (body != nullptr) {
    char* text = json_dumps(body, JSON_COMPACT);
    payload = text ? text : "";
    free(text);
  }
  auto r = client_.Request(body != nullptr ? "POST" : "GET", "/v1/" + path,
                           body != nullptr ? &payload : nullptr, headers);
  for (std::string& h : headers) Wipe(h);
  Wipe(payload);
  if (!r.ok()) {
    // The upstream client names "the upstream CA"; say which one.
    return Unavailable("Vault did not answer" +
                       std::string(r.status().message().find("in time") != std::string::npos
                                       ? " in time"
                                       : ""))
        .WithDetail(r.status().detail());
  }
  VaultResponse out;
  out.status = r->status;
  out.text = std::move(r->body);
  out.body.reset(json_loadb(out.text.data(), out.text.size(), 0, nullptr));
  return out;
}

std::string VaultErrors(const VaultResponse& r) {
  const json_t* errs = r.body ? json_object_get(r.body.get(), "errors") : nullptr;
  std::string out;
  size_t i;
  const json_t* e;
  json_array_foreach(errs, i, e) {
    if (!json_is_string(e)) continue;
    // Vault sends multi-line errors ("1 error occurred:\n\t* ..."): one
    // line, runs of white space as one space.
    std::string one;
    for (const char* p = json_string_value(e); *p; ++p) {
      const bool space = *p == ' ' || *p == '\n' || *p == '\t' || *p == '\r';
      if (!space) one += *p;
      else if (!one.empty() && one.back() != ' ') one += ' ';
    }
    while (!one.empty() && one.back() == ' ') one.pop_back();
    out += (out.empty() ? "" : "; ") + one;
  }
  if (!out.empty()) return out;
  std::string excerpt = r.text.substr(0, 200);
  for (char& ch : excerpt)
    if (static_cast<unsigned char>(ch) < 0x20) ch = ' ';
  return "HTTP " + std::to_string(r.status) + (excerpt.empty() ? "" : ": " + excerpt);
}

Status FromVault(const VaultResponse& r, const std::string& what, const std::string& address) {
  const std::string errs = VaultErrors(r);
  if (r.status == 400) return InvalidArgument("Vault refused to " + what + ": " + errs);
  if (r.status == 403)
    return Unavailable("Vault did not accept the registration authority's credentials")
        .WithDetail(address + ": " + errs + " (check authority.config.authOptions and the Vault policy)");
  if (r.status == 404)
    return Unavailable("Vault could not " + what + " (HTTP 404)")
        .WithDetail(address + ": " + errs +
                    " (check authority.config.pkiMountPath, the pkiRole* names and the namespace)");
  return Unavailable("Vault could not " + what + " (HTTP " + std::to_string(r.status) + ")")
      .WithDetail(address + ": " + errs);
}

}  // namespace stepca
