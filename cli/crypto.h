// Key, certificate and CSR helpers for the CLI: key generation as step's
// --kty/--curve/--size choose it, PEM output as step writes it, the CA
// certificates `step ca init` makes, fingerprints.
#ifndef STEPCA_CLI_CRYPTO_H
#define STEPCA_CLI_CRYPTO_H

#include <string>
#include <string_view>
#include <vector>

#include "authority/ossl.h"
#include "authority/signer/signer.h"
#include "authority/status.h"
#include "shared/duration.h"

namespace stepca {
namespace cli {

// kty "EC" (crv P-256, P-384, P-521), "OKP" (crv Ed25519), "RSA" (bits;
// 0 means 3072 as step's default). An empty crv picks P-256 / Ed25519.
Result<EvpPkeyPtr> GenerateKey(const std::string& kty, const std::string& crv,
                               int rsa_bits = 0);

// PEM of a private key as step writes it. With a password: EC and RSA in
// the legacy "Proc-Type: 4,ENCRYPTED" form with AES-256-CBC, Ed25519 as
// encrypted PKCS#8. Without: "EC PRIVATE KEY", "RSA PRIVATE KEY", or PKCS#8
// "PRIVATE KEY" for Ed25519.
Result<std::string> PrivateKeyToPem(EVP_PKEY* key, std::string_view password);

// The digest certificates and CSRs signed by key use (NULL for Ed25519).
const EVP_MD* SigningDigest(EVP_PKEY* key);

std::string Sha256Hex(std::string_view data);
std::string CertificateDer(X509* cert);
std::string CertificateToPemText(X509* cert);
// SHA-256 of the DER, lower-case hex: step's root "fingerprint".
std::string Fingerprint(X509* cert);

// Every CERTIFICATE block of a PEM text, in order; none is an error.
Result<std::vector<X509Ptr>> ParseCertificatesPem(std::string_view pem);

struct CaCertificateRequest {
  std::string organization;
  std::string common_name;
  int path_len = 0;
  EVP_PKEY* key = nullptr;           // subject key (public part used)
  X509* issuer = nullptr;            // NULL: self-signed
  EVP_PKEY* issuer_key = nullptr;    // signs
  const Signer* issuer_signer = nullptr;  // signs instead (a key on a token)
  TimePoint not_before;
  TimePoint not_after;
};

// A CA certificate as step makes them: random 128-bit serial, subject
// O=organization, CN=common_name, extensions in Go's order: keyUsage
// (critical, certSign + cRLSign), basicConstraints (critical, CA, pathlen),
// subjectKeyIdentifier, authorityKeyIdentifier (only when issued by
// another certificate).
Result<X509Ptr> MakeCaCertificate(const CaCertificateRequest& request);

struct ServerCertificateRequest {
  std::string common_name;
  std::vector<std::string> names;    // classified as DNS / IP / email / URI
  EVP_PKEY* key = nullptr;
  X509* issuer = nullptr;
  EVP_PKEY* issuer_key = nullptr;
  const Signer* issuer_signer = nullptr;  // signs instead (a key on a token)
  TimePoint not_before;
  TimePoint not_after;
};

// A TLS server certificate: keyUsage digitalSignature (+keyEncipherment for
// RSA) critical, extKeyUsage serverAuth, SKI, AKI, subjectAltName.
Result<X509Ptr> MakeServerCertificate(const ServerCertificateRequest& request);

// A CSR: subject CN=common_name (omitted when empty), subjectAltName from
// names (classified), signed by key.
Result<X509ReqPtr> MakeCsr(EVP_PKEY* key, const std::string& common_name,
                           const std::vector<std::string>& names);
std::string CsrToPem(X509_REQ* req);

// The offline signing commands' --ca, --ca-key and --ca-password-file
// (empty: none): the CA's certificates and its unlocked key, which must be
// the first certificate's. Errors name the file.
struct SigningCa {
  std::vector<X509Ptr> certs;
  EvpPkeyPtr key;
};
Result<SigningCa> ReadSigningCa(const std::string& ca_path, const std::string& key_path,
                                const std::string& password_file);

}  // namespace cli
}  // namespace stepca

#endif  // STEPCA_CLI_CRYPTO_H
