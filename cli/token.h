// One-time tokens as `step ca token` makes them for a JWK provisioner, and
// the ways step finds the provisioner's encrypted key (ca.json offline, the
// CA's /provisioners API online).
#ifndef STEPCA_CLI_TOKEN_H
#define STEPCA_CLI_TOKEN_H

#include <jansson.h>

#include <chrono>
#include <string>
#include <vector>

#include "authority/jose/jwk.h"
#include "authority/ossl.h"
#include "authority/status.h"
#include "shared/duration.h"

namespace stepca {
namespace cli {

// $STEPPATH/config/defaults.json; a missing file leaves everything empty.
struct ClientDefaults {
  std::string ca_url;
  std::string ca_config;
  std::string fingerprint;
  std::string root;
};
Result<ClientDefaults> LoadClientDefaults(const std::string& steppath);

struct TokenClaimsRequest {
  std::string subject;
  std::vector<std::string> sans;     // empty: [subject] (not for revoke)
  bool revoke = false;               // aud .../1.0/revoke, no sans
  std::string ca_url;
  std::string root_fingerprint;      // the "sha" claim
  std::string issuer;                // the provisioner name
  TimePoint now{};                   // zero: the current time
  std::chrono::seconds lifetime{300};
  // An SSH token (`step ca token --ssh`): the "step":{"ssh":...} claim,
  // audience .../1.0/ssh/sign, no sans. Not owned.
  const json_t* ssh = nullptr;
};

// Claims in step's (sorted) order: aud, exp, iat, iss, jti, nbf, sans, sha,
// sub. jti is 256 random bits in hex.
Result<JsonPtr> BuildTokenClaims(const TokenClaimsRequest& request);

// Header {"alg","kid","typ":"JWT"} and the compact JWS.
Result<std::string> SignToken(const json_t* claims, EVP_PKEY* key,
                              const std::string& kid, const std::string& alg);

struct ProvisionerRef {
  std::string name;
  std::string kid;
  std::string encrypted_key;   // compact JWE; may be empty in a listing
};

// Picks the JWK provisioner called name from an array of provisioner
// objects (ca.json's or /provisioners'); name empty picks the only JWK one.
Result<ProvisionerRef> FindJwkProvisioner(const json_t* provisioners,
                                          const std::string& name);

// --offline: from ca.json.
Result<ProvisionerRef> ProvisionerFromCaConfig(const std::string& ca_config,
                                               const std::string& name);

// Online: GET /provisioners (every page), then
// GET /provisioners/{kid}/encrypted-key, trusting only root_file.
Result<ProvisionerRef> ProvisionerFromCa(const std::string& ca_url,
                                         const std::string& root_file,
                                         const std::string& name);

// Decrypts the provisioner's JWE with the password into its private JWK.
Result<Jwk> DecryptProvisionerKey(const ProvisionerRef& provisioner,
                                  const std::string& password);

// Everything `step ca token` does once the flags are read.
struct TokenFlowOptions {
  std::string subject;
  std::vector<std::string> sans;
  bool revoke = false;
  std::string provisioner;
  std::string password;
  std::string ca_url;
  std::string root;
  std::string fingerprint;   // the "sha" claim when there is no root file
  std::string ca_config;
  bool offline = false;
  const json_t* ssh = nullptr;  // as TokenClaimsRequest::ssh
};
Result<std::string> GenerateToken(const TokenFlowOptions& options);

// Fingerprint of the first certificate in a PEM file.
Result<std::string> RootFingerprintFromFile(const std::string& path);

}  // namespace cli
}  // namespace stepca

#endif  // STEPCA_CLI_TOKEN_H
