// A CA key in AWS KMS: GetPublicKey at load, Sign (MessageType DIGEST) for
// every signature, both TrentService JSON calls signed with SigV4.
#ifndef STEPCA_AUTHORITY_SIGNER_AWS_KMS_SIGNER_H
#define STEPCA_AUTHORITY_SIGNER_AWS_KMS_SIGNER_H

#include <memory>
#include <string>

#include "authority/cloud/aws_sigv4.h"
#include "authority/signer/signer.h"
#include "authority/status.h"

namespace stepca {

struct AwsKmsOptions {
  std::string key_id;    // key id, ARN or alias
  std::string region;
  // Base URL of the KMS API; empty: https://kms.<region>.amazonaws.com.
  std::string endpoint;
  cloud::AwsCredentials credentials;
  bool rsa_sha512 = false;  // RSA keys sign RSASSA_PKCS1_V1_5_SHA_512 (SSH)
};

// Reads the public key (GetPublicKey) from this process: an unreachable
// KMS, refused credentials, an unknown key or a key that cannot sign is an
// error here, naming the key.
Result<std::unique_ptr<Signer>> MakeAwsKmsSigner(AwsKmsOptions options);

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_SIGNER_AWS_KMS_SIGNER_H
