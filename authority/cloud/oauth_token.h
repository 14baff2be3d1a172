// OAuth2 access tokens as the cloud KMS clients use them: the token
// endpoint's answer (RFC 6749 5.1) read, and the token cached until a
// minute before it expires, shared by the threads of one process.
#ifndef STEPCA_AUTHORITY_CLOUD_OAUTH_TOKEN_H
#define STEPCA_AUTHORITY_CLOUD_OAUTH_TOKEN_H

#include <chrono>
#include <functional>
#include <mutex>
#include <string>

#include "authority/cloud/http_request.h"
#include "authority/status.h"

namespace stepca::cloud {

struct AccessToken {
  std::string token;                  // secret, never logged
  std::chrono::seconds expires_in{0};
};

// A token endpoint's answer: 200 with access_token and expires_in, or an
// error naming `who` and the endpoint's "error"/"error_description"
// (kUnauthenticated for 400/401/403, kUnavailable otherwise).
Result<AccessToken> ParseTokenResponse(const HttpResponse& response, const std::string& who);

class TokenCache {
 public:
  // The cached token, or a new one from fetch. Concurrent callers wait for
  // one fetch. A failed fetch is not cached.
  Result<std::string> Get(const std::function<Result<AccessToken>()>& fetch);
  // Drops the token (the API said 401: it was revoked or is stale).
  void Forget();

 private:
  std::mutex mu_;
  std::string token_;
  std::chrono::steady_clock::time_point expiry_{};
};

}  // namespace stepca::cloud

#endif  // STEPCA_AUTHORITY_CLOUD_OAUTH_TOKEN_H
