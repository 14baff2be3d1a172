// A PKCS#11 module loaded into this process and the token a URI names:
// the module's lifetime (dlopen, C_Initialize, C_Finalize), a small pool of
// sessions, login, and the operations the signer and `stepca init` need.
// Only ever used in the process that opened it: a module must not cross fork.
#ifndef STEPCA_AUTHORITY_SIGNER_PKCS11_TOKEN_H
#define STEPCA_AUTHORITY_SIGNER_PKCS11_TOKEN_H

#include <memory>
#include <string>
#include <string_view>

#include "authority/ossl.h"
#include "authority/signer/key_uri.h"
#include "authority/status.h"

namespace stepca {

// A key on the token: CKA_ID and/or CKA_LABEL; empty fields match anything.
struct Pkcs11KeyRef {
  std::string id;
  std::string label;
};

// A signing mechanism the signer asks for; the token needs no others.
enum class Pkcs11Mechanism {
  kEcdsa,        // CKM_ECDSA over a digest; returns r || s
  kRsaPkcs1,     // CKM_RSA_PKCS over a DigestInfo
  kRsaPssSha256, // CKM_RSA_PKCS_PSS, SHA-256, MGF1-SHA-256, salt 32
  kRsaPssSha384, // CKM_RSA_PKCS_PSS, SHA-384, MGF1-SHA-384, salt 48
};

class Pkcs11Token {
 public:
  virtual ~Pkcs11Token() = default;

  // Reads the public key: the CKO_PUBLIC_KEY object of the same id/label,
  // or for RSA the modulus and exponent of the private key object.
  virtual Result<EvpPkeyPtr> ReadPublicKey(const Pkcs11KeyRef& key) = 0;

  // Whether a private key object matching key is on the token.
  virtual Status FindPrivateKey(const Pkcs11KeyRef& key) = 0;

  // Signs data with the private key. Lost sessions are reopened, a logged
  // out session logs in again, and a removed device reinitialises the
  // module; while the token cannot be reached this is kUnavailable.
  // Thread-safe.
  virtual Result<std::string> Sign(const Pkcs11KeyRef& key, Pkcs11Mechanism mechanism,
                                   std::string_view data) = 0;

  // Makes a key pair on the token (private: sensitive, not extractable)
  // and returns its public key. kty "EC" with crv "P-256"/"P-384", or "RSA"
  // with bits. kAlreadyExists when a key with that id or label is there.
  virtual Result<EvpPkeyPtr> GenerateKeyPair(const Pkcs11KeyRef& key, const std::string& kty,
                                             const std::string& crv, int bits) = 0;
};

// Loads uri.module_path and C_Initializes it in this process, then finds
// the slot (token label, slot-id and/or serial) and logs in with pin.
// The module is loaded even when the token is absent (kUnavailable later);
// a missing module or a rejected PIN is an error here. Messages never hold
// the PIN. A rejected PIN is never tried again by the same object, so a
// misconfiguration does not lock the token.
Result<std::unique_ptr<Pkcs11Token>> OpenPkcs11Token(const Pkcs11Uri& uri, std::string pin);

// Like OpenPkcs11Token, but a token that is absent or cannot log in yet is
// not an error: the first operation tries again. Only a module that cannot
// be loaded fails.
Result<std::unique_ptr<Pkcs11Token>> LoadPkcs11Module(const Pkcs11Uri& uri, std::string pin);

// The PIN of a URI: pin-value, or the first line of the pin-source file.
// No PIN at all is an empty string (a token may need none).
Result<std::string> ResolvePkcs11Pin(const Pkcs11Uri& uri);

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_SIGNER_PKCS11_TOKEN_H
