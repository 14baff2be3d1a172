#include "authority/ra/vault_auth.h"

#include "authority/config/ca_config.h"
#include "authority/ossl.h"

namespace stepca {
namespace {

TimePoint Now() { return std::chrono::time_point_cast<std::chrono::nanoseconds>(Clock::now()); }

}  // namespace

Result<std::unique_ptr<VaultAuth>> VaultAuth::Make(const VaultCasConfig& config, const VaultApi& api) {
  std::unique_ptr<VaultAuth> a(new VaultAuth(config));
  if (config.auth_type == "approle" && config.is_wrapping_token) {
    // The wrapping token is the only credential for the unwrap call.
    auto r = api.Call("sys/wrapping/unwrap", JsonPtr(json_object()).get(), config.secret_id);
    if (!r.ok()) return r.status();
    if (r->status != 200)
      return InvalidArgument("field \"" + config.secret_id_field +
                             "\": Vault refused to unwrap the wrapping token (" + VaultErrors(*r) +
                             "); a wrapping token can be unwrapped only once: give a fresh one");
    const json_t* data = r->body ? json_object_get(r->body.get(), "data") : nullptr;
    const json_t* id = json_object_get(data, "secret_id");
    if (!json_is_string(id))
      return InvalidArgument("field \"" + config.secret_id_field +
                             "\": the unwrapped secret holds no secret_id");
    Wipe(a->config_.secret_id);
    a->config_.secret_id = json_string_value(id);
  }
  std::lock_guard<std::mutex> lock(a->mu_);
  Status s = a->Login(api);
  if (!s.ok()) {
    if (s.code() == Code::kUnavailable) return s;
    const std::string field = config.auth_type == "approle" ? config.secret_id_field
                                                            : "authority.config.authOptions.role";
    return InvalidArgument("field \"" + field + "\": " + s.message());
  }
  return a;
}

VaultAuth::~VaultAuth() {
  Wipe(token_);
  Wipe(config_.secret_id);
}

Status VaultAuth::Login(const VaultApi& api) const {
  JsonPtr body(json_object());
  if (config_.auth_type == "approle") {
    json_object_set_new(body.get(), "role_id", json_string(config_.role_id.c_str()));
    json_object_set_new(body.get(), "secret_id", json_string(config_.secret_id.c_str()));
  } else {
    // Kubernetes rotates the projected token: read it at every login.
    auto jwt = ReadPasswordFile(config_.token_path);
    if (!jwt.ok())
      return Unavailable("the Kubernetes service account token cannot be read")
          .WithDetail(config_.token_path + ": " + jwt.status().message() +
                      " (authority.config.authOptions.tokenPath)");
    json_object_set_new(body.get(), "role", json_string(config_.kubernetes_role.c_str()));
    json_object_set_new(body.get(), "jwt", json_string(jwt->c_str()));
    Wipe(jwt.value());
  }
  auto r = api.Call("auth/" + config_.auth_mount_path + "/login", body.get(), "");
  // The body held the secret; jansson's copy is freed with it.
  if (!r.ok()) return r.status();
  if (r->status != 200) {
    if (r->status >= 500 || r->status == 429)
      return FromVault(*r, "log in", api.address());
    return PermissionDenied("Vault refused the " + config_.auth_type + " login at auth/" +
                            config_.auth_mount_path + "/login: " + VaultErrors(*r));
  }
  return Take(*r);
}

Status VaultAuth::RenewSelf(const VaultApi& api) const {
  JsonPtr body(json_object());
  json_object_set_new(body.get(), "increment", json_string((std::to_string(lease_.count()) + "s").c_str()));
  auto r = api.Call("auth/token/renew-self", body.get(), token_);
  if (!r.ok()) return r.status();
  if (r->status != 200) return FromVault(*r, "renew the registration authority's token", api.address());
  return Take(*r);
}

Status VaultAuth::Take(const VaultResponse& r) const {
  const json_t* auth = r.body ? json_object_get(r.body.get(), "auth") : nullptr;
  const json_t* tok = json_object_get(auth, "client_token");
  if (!json_is_string(tok) || json_string_length(tok) == 0)
    return Unavailable("Vault answered a login without a token");
  Wipe(token_);
  token_ = json_string_value(tok);
  const json_t* lease = json_object_get(auth, "lease_duration");
  lease_ = std::chrono::seconds(json_is_integer(lease) ? json_integer_value(lease) : 0);
  renewable_ = json_is_true(json_object_get(auth, "renewable"));
  obtained_ = Now();
  return Status::Ok();
}

Status VaultAuth::Relogin(const VaultApi& api) const {
  Status s = Login(api);
  if (s.ok() || s.code() == Code::kUnavailable) return s;
  // A refused login at request time is the RA's configuration at fault
  // (a secret ID revoked or expired), never the client's.
  return Unavailable("Vault did not accept the registration authority's credentials")
      .WithDetail(api.address() + ": " + s.message());
}

Result<std::string> VaultAuth::Token(const VaultApi& api) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (token_.empty()) {
    STEPCA_RETURN_IF_ERROR(Relogin(api));
  } else if (lease_.count() > 0) {
    const auto age = Now() - obtained_;
    // Due at two thirds of the lease: a renewal that fails still leaves
    // time for a new login before the token lapses.
    if (age >= lease_ * 2 / 3) {
      const bool renewed = age < lease_ && renewable_ && RenewSelf(api).ok();
      if (!renewed) STEPCA_RETURN_IF_ERROR(Relogin(api));
    }
  }
  return token_;
}

void VaultAuth::Forget(const std::string& stale) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (token_ == stale) {
    Wipe(token_);
    token_.clear();
  }
}

}  // namespace stepca
