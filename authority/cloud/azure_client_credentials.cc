#include "authority/cloud/azure_client_credentials.h"

#include "authority/cloud/http_request.h"
#include "authority/ossl.h"

namespace stepca::cloud {

const char kAzureLoginEndpoint[] = "https://login.microsoftonline.com";

AzureClientCredentials::AzureClientCredentials(std::string tenant_id, std::string client_id,
                                               std::string client_secret,
                                               std::string login_endpoint, std::string scope)
    : tenant_id_(std::move(tenant_id)), client_id_(std::move(client_id)),
      client_secret_(std::move(client_secret)),
      login_endpoint_(login_endpoint.empty() ? kAzureLoginEndpoint : std::move(login_endpoint)),
      scope_(std::move(scope)) {
  while (!login_endpoint_.empty() && login_endpoint_.back() == '/') login_endpoint_.pop_back();
}

AzureClientCredentials::~AzureClientCredentials() { Wipe(client_secret_); }

Result<std::string> AzureClientCredentials::Token() {
  return cache_.Get([this]() -> Result<AccessToken> {
    HttpRequest r;
    r.method = "POST";
    r.url = login_endpoint_ + "/" + FormEscape(tenant_id_) + "/oauth2/v2.0/token";
    r.headers = {"Content-Type: application/x-www-form-urlencoded"};
    r.body = "grant_type=client_credentials&client_id=" + FormEscape(client_id_) +
             "&client_secret=" + FormEscape(client_secret_) + "&scope=" + FormEscape(scope_);
    auto resp = SendHttp(r);
    Wipe(r.body);
    if (!resp.ok()) return resp.status();
    return ParseTokenResponse(resp.value(), "azurekms: client " + client_id_);
  });
}

}  // namespace stepca::cloud
