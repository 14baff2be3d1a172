// What the `key` of ca.json and the `kms.uri` name: a PEM file, a key on a
// PKCS#11 token (RFC 7512 URIs with step's attributes), a YubiKey PIV slot,
// a cloud KMS key, or a KMS scheme this version cannot use. Parsing only;
// nothing here opens a file or a module.
#ifndef STEPCA_AUTHORITY_SIGNER_KEY_URI_H
#define STEPCA_AUTHORITY_SIGNER_KEY_URI_H

#include <optional>
#include <string>
#include <string_view>

#include "authority/status.h"

namespace stepca {

enum class KeyScheme { kFile, kPkcs11, kYubiKey, kAwsKms, kCloudKms, kAzureKms };

// The scheme of a `key` value. A KMS URI of another kind (sshagentkms:,
// tpmkms:, any "scheme://") is kInvalidArgument naming that scheme and the
// supported ones, so it is never opened as a file path. The message never
// repeats the value: a URI may carry a PIN.
Result<KeyScheme> ClassifyKey(std::string_view key);

// The supported kinds, for messages: "a PEM file path, pkcs11:, ...".
extern const char kSupportedKeySchemes[];

struct Pkcs11Uri {
  std::string module_path;             // module-path: the PKCS#11 library
  std::string token;                   // token: the token label
  std::optional<unsigned long> slot_id;  // slot-id
  std::string serial;                  // serial: the token serial number
  std::string id;                      // id: CKA_ID, bytes
  std::string object;                  // object: CKA_LABEL of the key
  std::string pin_value;               // pin-value: secret, never logged
  std::string pin_source;              // pin-source: a file holding the PIN
};

// Parses "pkcs11:attr=value;...?attr=value&...". Values are percent-decoded;
// an `id` written without '%' that is even-length hex is hex-decoded, as
// step reads "id=7331". Unknown attributes other than RFC 7512's informative
// ones and "x-" vendor attributes, duplicates, bad escapes, a non-numeric
// slot-id and both pin-value and pin-source are kInvalidArgument; messages
// name the attribute, never a PIN.
Result<Pkcs11Uri> ParsePkcs11Uri(std::string_view uri);

// kms.uri (module, token, PIN) overlaid with the key's own URI (id, object,
// and any attribute it repeats wins).
Pkcs11Uri MergePkcs11Uri(const Pkcs11Uri& kms, const Pkcs11Uri& key);

// "id=7331;object=intermediate-key": how a key is named in messages, never
// with its PIN; the id in hex.
std::string DescribePkcs11Key(const Pkcs11Uri& uri);

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_SIGNER_KEY_URI_H
