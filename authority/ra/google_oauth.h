// OAuth2 access tokens for Google APIs from a service account key file
// (credentials.json, "type": "service_account"): a JWT signed RS256 with
// the account's private key, exchanged at its token_uri under the
// urn:ietf:params:oauth:grant-type:jwt-bearer grant, and cached until a
// minute before Google says it expires.
#ifndef STEPCA_AUTHORITY_RA_GOOGLE_OAUTH_H
#define STEPCA_AUTHORITY_RA_GOOGLE_OAUTH_H

#include <memory>
#include <mutex>
#include <string>

#include "authority/ossl.h"
#include "authority/ra/upstream_client.h"
#include "authority/status.h"
#include "shared/duration.h"

namespace stepca {

// http:// to 127.0.0.1, localhost or [::1] (a test double), else https.
bool IsLoopbackHttp(const std::string& url);

class GoogleServiceAccount {
 public:
  // Reads and checks the key file; errors name it (kInvalidArgument).
  static Result<std::unique_ptr<GoogleServiceAccount>> Load(const std::string& credentials_file);
  ~GoogleServiceAccount();

  const std::string& email() const { return email_; }

  // A bearer token for the cloud-platform scope. reuse_connection false:
  // configuration time. A refused grant is kPermissionDenied with Google's
  // reason; Google unreachable or failing is kUnavailable.
  Result<std::string> AccessToken(bool reuse_connection = true) const;
  // Google refused `stale` (401): the next AccessToken() asks anew.
  void Forget(const std::string& stale) const;

 private:
  GoogleServiceAccount() = default;

  std::string file_;
  std::string email_;
  std::string key_id_;
  std::string token_uri_;
  EvpPkeyPtr key_;
  mutable std::mutex mu_;
  mutable std::string token_;
  mutable TimePoint expires_{};
};

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_RA_GOOGLE_OAUTH_H
