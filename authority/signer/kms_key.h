// A CA key that is not a file: the `kms` object of ca.json and a key URI
// (`key`, `ssh.hostKey`, `ssh.userKey`) opened as a Signer, whichever
// backend the URI names: a PKCS#11 token, a YubiKey (through ykcs11), AWS
// KMS, Google Cloud KMS or Azure Key Vault.
#ifndef STEPCA_AUTHORITY_SIGNER_KMS_KEY_H
#define STEPCA_AUTHORITY_SIGNER_KMS_KEY_H

#include <memory>
#include <string>

#include "authority/signer/key_uri.h"
#include "authority/signer/signer.h"
#include "authority/status.h"

namespace stepca {

// ca.json's kms object as read (present false: there is none).
struct KmsSettings {
  bool present = false;
  std::string type;              // lower case: pkcs11, yubikey, awskms, cloudkms, azurekms
  std::string uri;               // kms.uri: secrets may be in it, never logged
  std::string region;            // kms.region (awskms)
  std::string profile;           // kms.profile (awskms)
  std::string credentials_file;  // kms.credentialsFile (cloudkms)
  std::string pin;               // kms.pin (pkcs11, yubikey)
};

// What the key is used for: SSH signs RSA with rsa-sha2-512.
enum class KeyUse { kX509, kSsh };

struct KmsKey {
  std::unique_ptr<Signer> signer;
  std::string description;  // "id=7331;object=intermediate-key;token=ca", "awskms:key-id=..."
  std::string place;        // "on the token", "in AWS KMS", ...
};

// The kms.type a key scheme needs ("pkcs11", "awskms", ...).
const char* KmsTypeFor(KeyScheme scheme);

// Opens key (of scheme, never kFile) with kms: reads its public key from
// the backend (a PKCS#11 module only in a child process), so an
// unreachable KMS, refused credentials, a wrong PIN or a missing key fails
// here. The message names the key and never holds a PIN, a secret or a
// token; it may name a kms field ("kms.uri ...").
Result<KmsKey> OpenKmsKey(const KmsSettings& kms, const std::string& key, KeyScheme scheme,
                          KeyUse use);

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_SIGNER_KMS_KEY_H
