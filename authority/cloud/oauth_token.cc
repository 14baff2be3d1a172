#include "authority/cloud/oauth_token.h"

#include <jansson.h>

#include <algorithm>

#include "authority/ossl.h"

namespace stepca::cloud {

Result<AccessToken> ParseTokenResponse(const HttpResponse& r, const std::string& who) {
  JsonPtr doc(json_loadb(r.body.data(), r.body.size(), 0, nullptr));
  if (r.status != 200) {
    std::string why = "HTTP " + std::to_string(r.status);
    const char* e = json_string_value(json_object_get(doc.get(), "error"));
    const char* d = json_string_value(json_object_get(doc.get(), "error_description"));
    if (e != nullptr) why += ": " + std::string(e);
    if (d != nullptr) why += ": " + std::string(d).substr(0, 200);
    const bool refused = r.status == 400 || r.status == 401 || r.status == 403;
    return Status(refused ? Code::kUnauthenticated : Code::kUnavailable,
                  who + ": the token endpoint refused the credentials (" + why + ")");
  }
  const char* token = json_string_value(json_object_get(doc.get(), "access_token"));
  if (token == nullptr || *token == '\0')
    return Unavailable(who + ": the token endpoint answered without access_token");
  const json_t* exp = json_object_get(doc.get(), "expires_in");
  long long seconds = json_is_integer(exp) ? json_integer_value(exp) : 0;
  // Azure's v1 endpoint sends the number as a string.
  if (json_is_string(exp)) seconds = std::atoll(json_string_value(exp));
  if (seconds <= 0) seconds = 300;
  return AccessToken{token, std::chrono::seconds(seconds)};
}

Result<std::string> TokenCache::Get(const std::function<Result<AccessToken>()>& fetch) {
  std::lock_guard<std::mutex> lock(mu_);
  const auto now = std::chrono::steady_clock::now();
  if (!token_.empty() && now < expiry_) return token_;
  STEPCA_ASSIGN_OR_RETURN(AccessToken t, fetch());
  token_ = t.token;
  // A minute early, so a request never carries a token that expires on
  // its way; a short-lived token is still used for half its life.
  const auto life = std::chrono::duration_cast<std::chrono::milliseconds>(t.expires_in);
  expiry_ = now + life - std::min<std::chrono::milliseconds>(std::chrono::seconds(60), life / 2);
  return token_;
}

void TokenCache::Forget() {
  std::lock_guard<std::mutex> lock(mu_);
  token_.clear();
}

}  // namespace stepca::cloud
