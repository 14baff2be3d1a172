// A CA key in Google Cloud KMS (a cryptoKeyVersions resource name): its
// publicKey read at load, asymmetricSign over the digest for every
// signature, with an OAuth2 token from the service-account key.
#ifndef STEPCA_AUTHORITY_SIGNER_CLOUDKMS_SIGNER_H
#define STEPCA_AUTHORITY_SIGNER_CLOUDKMS_SIGNER_H

#include <memory>
#include <string>

#include "authority/cloud/google_service_account.h"
#include "authority/signer/signer.h"
#include "authority/status.h"

namespace stepca {

struct CloudKmsOptions {
  // projects/P/locations/L/keyRings/R/cryptoKeys/K/cryptoKeyVersions/N
  std::string name;
  // Base URL of the API; empty: https://cloudkms.googleapis.com.
  std::string endpoint;
  std::shared_ptr<cloud::GoogleServiceAccount> account;
};

// kInvalidArgument unless name is a full cryptoKeyVersions name.
Status CheckCloudKmsName(const std::string& name);

// Reads the public key and the key's algorithm (the algorithm is the
// key's own in Cloud KMS: the signature follows it). Errors name the key.
Result<std::unique_ptr<Signer>> MakeCloudKmsSigner(CloudKmsOptions options);

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_SIGNER_CLOUDKMS_SIGNER_H
