// step's KMS URIs other than pkcs11: ("awskms:key-id=...;region=...",
// "azurekms:name=...;vault=...?version=...", "yubikey:slot-id=9c",
// "cloudkms:credentials-file=..."): a scheme, then name=value attributes
// separated by ';' (path) or '&' (after '?'), percent-decoded.
#ifndef STEPCA_AUTHORITY_SIGNER_KMS_URI_H
#define STEPCA_AUTHORITY_SIGNER_KMS_URI_H

#include <initializer_list>
#include <map>
#include <string>
#include <string_view>

#include "authority/status.h"

namespace stepca {

struct KmsUri {
  std::string scheme;                        // lower case, without ':'
  std::map<std::string, std::string> values;
  std::string Get(const std::string& name) const {
    auto it = values.find(name);
    return it == values.end() ? std::string() : it->second;
  }
};

// Parses uri, which must start with "<scheme>:" (case-insensitive). An
// attribute outside known, a repeated one or a bad %-escape is
// kInvalidArgument naming the attribute; a message never holds a value
// (secrets travel in these URIs).
Result<KmsUri> ParseKmsUri(std::string_view uri, std::string_view scheme,
                           std::initializer_list<const char*> known);

// kms overlaid with key: an attribute the key repeats wins.
KmsUri MergeKmsUri(const KmsUri& kms, const KmsUri& key);

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_SIGNER_KMS_URI_H
