// OpenSSH certificates (PROTOCOL.certkeys): built, signed by a CA signer,
// parsed and checked. User and host certificates for ECDSA, Ed25519 and RSA
// subject keys.
#ifndef STEPCA_AUTHORITY_SSH_CERTIFICATE_H
#define STEPCA_AUTHORITY_SSH_CERTIFICATE_H

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "authority/ossl.h"
#include "authority/signer/signer.h"
#include "authority/status.h"

namespace stepca::ssh {

enum class CertType : uint32_t { kUser = 1, kHost = 2 };

// valid_before of a certificate that never expires.
constexpr uint64_t kForever = ~uint64_t{0};

struct Certificate {
  std::string nonce;     // empty when building: 32 random bytes are drawn
  std::string key_blob;  // the subject's public key, wire blob
  uint64_t serial = 0;
  CertType type = CertType::kUser;
  std::string key_id;
  std::vector<std::string> principals;
  uint64_t valid_after = 0;
  uint64_t valid_before = 0;
  // Name -> value; a flag has an empty value. The encoding sorts by name.
  std::map<std::string, std::string> critical_options;
  std::map<std::string, std::string> extensions;
  std::string signature_key;  // the CA's public key blob
  std::string signature;      // the signature blob
  std::string wire;           // every byte, once signed or parsed
};

// step-ca's extensions of a user certificate; hosts get none.
std::map<std::string, std::string> DefaultUserExtensions();

// "<key type>-cert-v01@openssh.com"; "" for a key type with no certificate.
std::string CertificateTypeName(std::string_view key_type);

// Signs cert with ca: draws the nonce when empty, sets signature_key,
// signature and wire. kInvalidArgument for a subject key it cannot certify.
Status SignCertificate(Certificate* cert, const Signer& ca);

// Parses a certificate blob (strict: every field, nothing after).
// kInvalidArgument when malformed.
Result<Certificate> ParseCertificate(std::string_view wire);

// The certificate's signature verifies with the CA key whose blob it
// names. kUnauthenticated when not.
Status VerifyCertificate(const Certificate& cert);

// The blob's key as an OpenSSL key (the subject key, or the CA key).
Result<EvpPkeyPtr> KeyOf(std::string_view blob);

// "<cert type> base64", a -cert.pub line without comment.
std::string CertificateLine(const Certificate& cert);

}  // namespace stepca::ssh

#endif  // STEPCA_AUTHORITY_SSH_CERTIFICATE_H
