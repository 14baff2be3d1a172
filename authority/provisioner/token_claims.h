// The registered claims of a JWT as the CA reads them, and the checks that
// every provisioner shares: audiences and time claims.
#ifndef STEPCA_AUTHORITY_PROVISIONER_TOKEN_CLAIMS_H
#define STEPCA_AUTHORITY_PROVISIONER_TOKEN_CLAIMS_H

#include <jansson.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "authority/status.h"
#include "shared/duration.h"

namespace stepca {

struct TokenClaims {
  std::string issuer;
  std::string subject;
  std::string id;  // jti
  std::vector<std::string> audience;
  std::vector<std::string> sans;
  std::optional<int64_t> not_before;
  std::optional<int64_t> expiry;
  std::optional<int64_t> issued_at;
  std::string cnf_x5rt;  // cnf."x5rt#S256", base64url SHA-256 of the CSR DER
};

// Reads the claims with their JSON types checked (aud: string or array of
// strings; times: numbers; sans: array of strings). kUnauthenticated on a
// wrong type.
Result<TokenClaims> ReadTokenClaims(const json_t* payload);

constexpr std::chrono::seconds kTokenLeeway{60};
// The longest a token may live; step's CLI never mints one over an hour.
constexpr std::chrono::seconds kMaxTokenLifetime{3600};

// For tokens other parties issue (OpenID Connect, Kubernetes, cloud
// identity): exp required; nbf and iat when present; one minute of
// leeway. Unlike a step one-time token, the lifetime is the issuer's to
// choose. kUnauthenticated.
Status CheckIdentityTimeClaims(const TokenClaims& claims, TimePoint now);

// CheckIdentityTimeClaims, and exp at most kMaxTokenLifetime (+ leeway)
// ahead of now. kUnauthenticated.
Status CheckTimeClaims(const TokenClaims& claims, TimePoint now);

// What a token is for; each has its own audience paths.
enum class TokenMethod { kSign, kRevoke, kRenew, kSshSign, kSshRevoke, kSshRenew, kSshRekey };

// step-ca's audiences: https://<dnsName>/<path> for each dnsName, compared
// with the port removed from both sides, plus the legacy literal
// "step-certificate-authority" for sign and revoke.
class Audiences {
 public:
  explicit Audiences(std::vector<std::string> dns_names);

  // True when one of aud matches one of the method's audiences. With a
  // fragment ("x5c/<name>"), the audience must carry exactly "#<fragment>";
  // without, it must carry none.
  bool Matches(TokenMethod method, const std::vector<std::string>& aud,
               const std::string& fragment = "") const;

  // The fragment of the first aud that matches a method audience when the
  // fragment is ignored ("" when none has one).
  std::string Fragment(TokenMethod method,
                       const std::vector<std::string>& aud) const;

 private:
  bool MatchOne(TokenMethod method, const std::string& aud,
                std::string* fragment) const;
  std::vector<std::string> hosts_;  // lower case, without port
};

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_PROVISIONER_TOKEN_CLAIMS_H
