// A CA key in Azure Key Vault: the key (JWK) read at load, keys/sign over
// the digest for every signature, with a client-credentials token.
#ifndef STEPCA_AUTHORITY_SIGNER_AZURE_KV_SIGNER_H
#define STEPCA_AUTHORITY_SIGNER_AZURE_KV_SIGNER_H

#include <memory>
#include <string>

#include "authority/cloud/azure_client_credentials.h"
#include "authority/signer/signer.h"
#include "authority/status.h"

namespace stepca {

struct AzureKeyVaultOptions {
  std::string name;     // the key's name
  std::string vault;    // the vault's name
  std::string version;  // empty: the version current at load, kept after
  // Base URL of the vault; empty: https://<vault>.vault.azure.net.
  std::string endpoint;
  std::shared_ptr<cloud::AzureClientCredentials> credentials;
  bool rsa_sha512 = false;  // RSA keys sign RS512 (SSH)
};

// The scope Key Vault tokens are asked for.
extern const char kAzureKeyVaultScope[];

Result<std::unique_ptr<Signer>> MakeAzureKeyVaultSigner(AzureKeyVaultOptions options);

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_SIGNER_AZURE_KV_SIGNER_H
