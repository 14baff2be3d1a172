// A Google service account's OAuth2 access tokens (RFC 7523 JWT bearer
// grant): the key file's client_email and private_key sign an RS256 JWT
// for token_uri, which answers with an access token for scope.
#ifndef STEPCA_AUTHORITY_CLOUD_GOOGLE_SERVICE_ACCOUNT_H
#define STEPCA_AUTHORITY_CLOUD_GOOGLE_SERVICE_ACCOUNT_H

#include <ctime>
#include <memory>
#include <string>

#include "authority/cloud/oauth_token.h"
#include "authority/ossl.h"
#include "authority/status.h"

namespace stepca::cloud {

class GoogleServiceAccount {
 public:
  // Reads a service-account key file (type "service_account"). Errors name
  // the file and the missing field, never the key.
  static Result<std::unique_ptr<GoogleServiceAccount>> FromFile(const std::string& path,
                                                                const std::string& scope);

  // A cached access token, or a new one from token_uri. Thread-safe.
  Result<std::string> Token();
  void ForgetToken() { cache_.Forget(); }

  // The signed grant assertion for time now (for tests).
  Result<std::string> Assertion(std::time_t now) const;

  const std::string& client_email() const { return client_email_; }

 private:
  std::string client_email_, key_id_, token_uri_, scope_;
  EvpPkeyPtr key_;
  TokenCache cache_;
};

}  // namespace stepca::cloud

#endif  // STEPCA_AUTHORITY_CLOUD_GOOGLE_SERVICE_ACCOUNT_H
