// Provisioners authorize requests. One interface; each type decides what a
// token of its own proves.
#ifndef STEPCA_AUTHORITY_PROVISIONER_PROVISIONER_H
#define STEPCA_AUTHORITY_PROVISIONER_PROVISIONER_H

#include <jansson.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "authority/jose/jws.h"
#include "authority/ossl.h"
#include "authority/provisioner/token_claims.h"
#include "authority/status.h"
#include "authority/x509/claims.h"
#include "authority/x509/issuer.h"

namespace stepca {

// What a verified sign token grants.
struct SignGrant {
  std::string subject;
  std::vector<std::string> sans;  // the token's sans, [sub] when empty
  ProvisionerInfo info;           // for the provisioner extension
  std::string provisioner_id;
  std::string cnf_x5rt;           // when set, the CSR must have this hash
  std::string token_key;          // one-time-use key: "<provisioner id>/<jti>"
  TimePoint token_expiry;
  // X5C: the x5c leaf's validity, which the new certificate must not leave.
  bool has_window = false;
  TimePoint window_not_before{}, window_not_after{};
};

class Provisioner {
 public:
  // json: the provisioner object from ca.json (kept for /provisioners).
  Provisioner(ProvisionerType type, std::string type_name, std::string name,
              Claims claims, JsonPtr json);
  virtual ~Provisioner() = default;

  ProvisionerType type() const { return type_; }
  const std::string& type_name() const { return type_name_; }
  const std::string& name() const { return name_; }
  const Claims& claims() const { return claims_; }
  const json_t* json() const { return json_.get(); }

  // step-ca's provisioner ID (JWK: "<name>:<kid>", others "<type>/<name>").
  virtual std::string id() const;
  // The key tokens select this provisioner by: JWK "<name>:<kid>", others
  // the audience fragment "<type>/<name>".
  virtual std::string token_selector() const { return id(); }

  // Verifies a sign token. The default: this type has no token flow.
  virtual Result<SignGrant> AuthorizeSign(const Jws& jws, const TokenClaims& claims,
                                          const Audiences& audiences,
                                          TimePoint now) const;

  // Verifies a revoke token (audience /revoke); the caller checks that sub
  // is the serial. The default: this type has no token flow. (revoke.cc)
  virtual Result<SignGrant> AuthorizeRevoke(const Jws& jws, const TokenClaims& claims,
                                            const Audiences& audiences,
                                            TimePoint now) const;

 private:
  ProvisionerType type_;
  std::string type_name_;
  std::string name_;
  Claims claims_;
  JsonPtr json_;
};

class JwkProvisioner : public Provisioner {
 public:
  JwkProvisioner(std::string name, Claims claims, JsonPtr json, EvpPkeyPtr key,
                 std::string kid, std::string encrypted_key);

  std::string id() const override { return name() + ":" + kid_; }
  const std::string& kid() const { return kid_; }
  const std::string& encrypted_key() const { return encrypted_key_; }

  Result<SignGrant> AuthorizeSign(const Jws& jws, const TokenClaims& claims,
                                  const Audiences& audiences,
                                  TimePoint now) const override;
  Result<SignGrant> AuthorizeRevoke(const Jws& jws, const TokenClaims& claims,
                                    const Audiences& audiences,
                                    TimePoint now) const override;

 private:
  EvpPkeyPtr key_;
  std::string kid_;
  std::string encrypted_key_;
};

// Parses one entry of authority.provisioners. field is its path for
// errors ("authority.provisioners[1]"); global claims are the merged
// defaults and authority.claims. Adds a warning for types that are listed
// but cannot authorize yet.
Result<std::unique_ptr<Provisioner>> ParseProvisioner(
    const json_t* obj, const std::string& field, const Claims& global,
    std::vector<std::string>* warnings);

// The provisioners in ca.json order, indexed for token selection and the
// paginated listing.
class ProvisionerCollection {
 public:
  Status Add(std::unique_ptr<Provisioner> p, const std::string& field);

  const Provisioner* BySelector(const std::string& selector) const;
  const Provisioner* ByName(const std::string& name) const;
  const JwkProvisioner* JwkByKid(const std::string& kid) const;
  size_t size() const { return list_.size(); }
  const Provisioner& at(size_t i) const { return *list_[i]; }

  // step-ca's cursor pagination: items whose uid (4-byte index || last 16
  // bytes of SHA-1(id)) is >= cursor; next cursor "" at the end.
  std::vector<const Provisioner*> Page(const std::string& cursor, size_t limit,
                                       std::string* next_cursor) const;

 private:
  std::vector<std::unique_ptr<Provisioner>> list_;
  std::vector<std::string> uids_;  // hex, 40 chars
  std::map<std::string, size_t> by_selector_;
  std::map<std::string, size_t> by_name_;
  std::map<std::string, size_t> by_kid_;
};

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_PROVISIONER_PROVISIONER_H
