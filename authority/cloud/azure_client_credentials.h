// Azure AD client credentials (OAuth2 client_credentials grant): a service
// principal's tenant, client id and secret exchanged at the login endpoint
// for an access token to Key Vault.
#ifndef STEPCA_AUTHORITY_CLOUD_AZURE_CLIENT_CREDENTIALS_H
#define STEPCA_AUTHORITY_CLOUD_AZURE_CLIENT_CREDENTIALS_H

#include <string>

#include "authority/cloud/oauth_token.h"
#include "authority/status.h"

namespace stepca::cloud {

extern const char kAzureLoginEndpoint[];  // https://login.microsoftonline.com

class AzureClientCredentials {
 public:
  // login_endpoint empty: kAzureLoginEndpoint.
  AzureClientCredentials(std::string tenant_id, std::string client_id, std::string client_secret,
                         std::string login_endpoint, std::string scope);
  ~AzureClientCredentials();

  // A cached access token, or a new one. Thread-safe.
  Result<std::string> Token();
  void ForgetToken() { cache_.Forget(); }

 private:
  std::string tenant_id_, client_id_, client_secret_, login_endpoint_, scope_;
  TokenCache cache_;
};

}  // namespace stepca::cloud

#endif  // STEPCA_AUTHORITY_CLOUD_AZURE_CLIENT_CREDENTIALS_H
