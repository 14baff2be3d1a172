// A YubiKey PIV key (`yubikey:slot-id=9c`, kms.uri
// `yubikey:management-key=...?pin-value=...`) reached through Yubico's
// PKCS#11 module (Debian's ykcs11), which shows each PIV slot as objects
// with a fixed CKA_ID.
#ifndef STEPCA_AUTHORITY_SIGNER_YUBIKEY_SLOT_H
#define STEPCA_AUTHORITY_SIGNER_YUBIKEY_SLOT_H

#include <string>
#include <string_view>

#include "authority/signer/key_uri.h"
#include "authority/signer/kms_uri.h"
#include "authority/status.h"

namespace stepca {

// Where Debian's ykcs11 package puts the module.
extern const char kYkcs11Module[];

// The CKA_ID ykcs11 gives the key of a PIV slot (hex, as step writes it):
// 9a -> 1, 9c -> 2, 9d -> 3, 9e -> 4, retired 82..95 -> 5..24. Any other
// slot (f9, the attestation key, included: it never signs for a CA) is
// kInvalidArgument naming the supported slots.
Result<unsigned char> Ykcs11ObjectId(std::string_view slot);

// The PKCS#11 URI of a YubiKey key: kms.uri's pin-value/pin-source (or
// pin), serial (the YubiKey's, which ykcs11 shows as the token serial) and
// module-path (default kYkcs11Module) over the key's slot-id. The
// management key is only needed to make keys, never to sign, and is
// dropped here.
Result<Pkcs11Uri> YubiKeyPkcs11Uri(std::string_view kms_uri, std::string_view key_uri,
                                   const std::string& pin);

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_SIGNER_YUBIKEY_SLOT_H
