#include "authority/provisioner/provisioner_base.h"

#include <openssl/sha.h>

#include <algorithm>

#include "authority/x509/chain.h"
#include "shared/base64.h"

namespace stepca {

Status DefaultAuthorizeRenew(const Claims& claims, const std::string& name, X509* cert,
                             TimePoint now) {
  if (claims.disable_renewal)
    return Unauthenticated("authority.authorizeRenew: renew is disabled for provisioner \"" +
                           name + "\"");
  const TimePoint not_before = CertNotBefore(cert), not_after = CertNotAfter(cert);
  if (now < not_before)
    return Unauthenticated("authority.authorizeRenew: certificate is not yet valid");
  if (now > not_after && !claims.allow_renewal_after_expiry)
    return Unauthenticated("authority.authorizeRenew: certificate expired on " +
                           FormatRfc3339(not_after));
  return Status::Ok();
}

ProvisionerBase::ProvisionerBase(ProvisionerType type, std::string type_name, std::string name,
                                 Claims claims, JsonPtr json)
    : type_(type),
      type_name_(std::move(type_name)),
      name_(std::move(name)),
      claims_(claims),
      json_(std::move(json)) {}

std::string ProvisionerBase::id() const {
  std::string t = type_name_;
  std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return std::tolower(c); });
  return t + "/" + name_;
}

Result<SignGrant> ProvisionerBase::AuthorizeSign(const Jws&, const TokenClaims&,
                                                 const Audiences&, TimePoint) const {
  return Unauthenticated("provisioner \"" + name_ + "\" of type " + type_name_ +
                         " does not accept one-time tokens");
}

Result<SignGrant> ProvisionerBase::AuthorizeRevoke(const Jws&, const TokenClaims&,
                                                   const Audiences&, TimePoint) const {
  return Unauthenticated("provisioner \"" + name_ + "\" of type " + type_name_ +
                         " does not accept revoke tokens");
}

Status ProvisionerBase::AuthorizeRenew(X509* cert, TimePoint now) const {
  return DefaultAuthorizeRenew(claims_, name_, cert, now);
}

Result<std::string> TokenUseKey(const std::string& provisioner_id, const TokenClaims& claims,
                                const char* where) {
  if (claims.id.empty()) return Unauthenticated(std::string(where) + ": token has no jti");
  const std::string in = provisioner_id + "\n" + claims.id;
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(in.data()), in.size(), md);
  return HexEncode(std::string(reinterpret_cast<char*>(md), sizeof md));
}

}  // namespace stepca
