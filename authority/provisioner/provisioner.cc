#include "authority/provisioner/provisioner.h"

#include <openssl/sha.h>
#include <strings.h>

#include <algorithm>

#include "authority/jose/jwk.h"
#include "authority/provisioner/x5c_provisioner.h"
#include "shared/base64.h"

namespace stepca {
namespace {

struct TypeName {
  const char* name;
  ProvisionerType type;
};

constexpr TypeName kTypes[] = {
    {"JWK", ProvisionerType::kJwk},     {"OIDC", ProvisionerType::kOidc},
    {"GCP", ProvisionerType::kGcp},     {"AWS", ProvisionerType::kAws},
    {"Azure", ProvisionerType::kAzure}, {"ACME", ProvisionerType::kAcme},
    {"X5C", ProvisionerType::kX5c},     {"K8sSA", ProvisionerType::kK8sSa},
    {"SSHPOP", ProvisionerType::kSshPop}, {"SCEP", ProvisionerType::kScep},
    {"Nebula", ProvisionerType::kNebula},
};

std::string Sha256Hex(const std::string& data) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), md);
  return HexEncode(std::string(reinterpret_cast<char*>(md), sizeof md));
}

std::string Quote(const std::string& s) { return "\"" + s + "\""; }

}  // namespace

Provisioner::Provisioner(ProvisionerType type, std::string type_name, std::string name,
                         Claims claims, JsonPtr json)
    : type_(type),
      type_name_(std::move(type_name)),
      name_(std::move(name)),
      claims_(claims),
      json_(std::move(json)) {}

std::string Provisioner::id() const {
  std::string t = type_name_;
  std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return std::tolower(c); });
  return t + "/" + name_;
}

Result<SignGrant> Provisioner::AuthorizeSign(const Jws&, const TokenClaims&, const Audiences&,
                                             TimePoint) const {
  return Unauthenticated("provisioner " + Quote(name_) + " of type " + type_name_ +
                         " does not accept one-time tokens");
}

JwkProvisioner::JwkProvisioner(std::string name, Claims claims, JsonPtr json, EvpPkeyPtr key,
                               std::string kid, std::string encrypted_key)
    : Provisioner(ProvisionerType::kJwk, "JWK", std::move(name), claims, std::move(json)),
      key_(std::move(key)),
      kid_(std::move(kid)),
      encrypted_key_(std::move(encrypted_key)) {}

Result<SignGrant> JwkProvisioner::AuthorizeSign(const Jws& jws, const TokenClaims& claims,
                                                const Audiences& audiences,
                                                TimePoint now) const {
  // The signature first: nothing a forger wrote is believed before it.
  STEPCA_RETURN_IF_ERROR(VerifyJws(jws, key_.get()).Wrap("jwk.authorizeToken"));
  if (claims.issuer != name())
    return Unauthenticated("jwk.authorizeToken: invalid issuer " + Quote(claims.issuer));
  STEPCA_RETURN_IF_ERROR(CheckTimeClaims(claims, now).Wrap("jwk.authorizeToken"));
  if (!audiences.Matches(TokenMethod::kSign, claims.audience))
    return Unauthenticated("jwk.authorizeToken: invalid audience");
  if (claims.subject.empty()) return Unauthenticated("jwk.authorizeToken: token subject is empty");

  SignGrant g;
  g.subject = claims.subject;
  g.sans = claims.sans.empty() ? std::vector<std::string>{claims.subject} : claims.sans;
  g.info.type = ProvisionerType::kJwk;
  g.info.name = name();
  g.info.credential_id = kid_;
  g.provisioner_id = id();
  g.cnf_x5rt = claims.cnf_x5rt;
  const std::string jti = claims.id.empty() ? CanonicalTokenId(jws) : claims.id;
  g.token_key = Sha256Hex(id() + "\n" + jti);
  g.token_expiry = TimePoint(std::chrono::seconds(*claims.expiry));
  return g;
}

Result<std::unique_ptr<Provisioner>> ParseProvisioner(const json_t* obj, const std::string& field,
                                                      const Claims& global,
                                                      std::vector<std::string>* warnings) {
  if (!json_is_object(obj)) return InvalidArgument("field " + Quote(field) + ": not an object");
  const json_t* type_j = json_object_get(obj, "type");
  if (!json_is_string(type_j))
    return InvalidArgument("field " + Quote(field + ".type") + ": missing or not a string");
  const char* type_s = json_string_value(type_j);
  const TypeName* tn = nullptr;
  for (const auto& t : kTypes) {
    if (strcasecmp(t.name, type_s) == 0) tn = &t;
  }
  if (tn == nullptr)
    return InvalidArgument("field " + Quote(field + ".type") + ": unknown provisioner type " +
                           Quote(type_s));
  const json_t* name_j = json_object_get(obj, "name");
  if (!json_is_string(name_j) || json_string_length(name_j) == 0)
    return InvalidArgument("field " + Quote(field + ".name") + ": missing or empty");
  std::string name = json_string_value(name_j);

  STEPCA_ASSIGN_OR_RETURN(Claims claims,
                          ApplyClaims(global, json_object_get(obj, "claims"), true, field + ".claims"));
  JsonPtr json(json_deep_copy(obj));

  if (tn->type == ProvisionerType::kX5c)
    return ParseX5cProvisioner(obj, field, name, claims, std::move(json));
  if (tn->type != ProvisionerType::kJwk) {
    // ACME provisioners are served by the ACME endpoints and take no tokens.
    if (tn->type != ProvisionerType::kAcme)
      warnings->push_back(std::string(tn->name) + " provisioner " + Quote(name) + " (" + field +
                          ") is listed, but this version does not authorize requests with it yet");
    return std::unique_ptr<Provisioner>(
        new Provisioner(tn->type, tn->name, name, claims, std::move(json)));
  }

  const json_t* key_j = json_object_get(obj, "key");
  if (!json_is_object(key_j))
    return InvalidArgument("field " + Quote(field + ".key") + ": missing or not a JWK object");
  Result<Jwk> jwk = ParseJwk(key_j);
  if (!jwk.ok())
    return InvalidArgument("field " + Quote(field + ".key") + ": " + jwk.status().message());
  if (jwk->has_private)
    return InvalidArgument("field " + Quote(field + ".key") +
                           ": holds a private key; only the public key belongs here");
  std::string kid = jwk->kid;
  if (kid.empty()) {
    STEPCA_ASSIGN_OR_RETURN(kid, JwkThumbprint(jwk->key.get()));
  }
  std::string encrypted;
  const json_t* enc_j = json_object_get(obj, "encryptedKey");
  if (enc_j != nullptr && !json_is_null(enc_j)) {
    if (!json_is_string(enc_j))
      return InvalidArgument("field " + Quote(field + ".encryptedKey") + ": not a string");
    encrypted = json_string_value(enc_j);
  }
  return std::unique_ptr<Provisioner>(new JwkProvisioner(
      name, claims, std::move(json), std::move(jwk->key), kid, encrypted));
}

Status ProvisionerCollection::Add(std::unique_ptr<Provisioner> p, const std::string& field) {
  const std::string selector = p->token_selector();
  if (by_selector_.count(selector) || by_name_.count(p->name()))
    return InvalidArgument("field " + Quote(field + ".name") + ": duplicate provisioner " +
                           Quote(p->name()));
  const size_t index = list_.size();
  unsigned char md[SHA_DIGEST_LENGTH];
  const std::string id = p->id();
  SHA1(reinterpret_cast<const unsigned char*>(id.data()), id.size(), md);
  std::string uid;
  uid.push_back(static_cast<char>((index >> 24) & 0xff));
  uid.push_back(static_cast<char>((index >> 16) & 0xff));
  uid.push_back(static_cast<char>((index >> 8) & 0xff));
  uid.push_back(static_cast<char>(index & 0xff));
  uid.append(reinterpret_cast<char*>(md) + 4, 16);
  uids_.push_back(HexEncode(uid));
  by_selector_[selector] = index;
  by_name_[p->name()] = index;
  if (p->type() == ProvisionerType::kJwk)
    by_kid_[static_cast<const JwkProvisioner&>(*p).kid()] = index;
  list_.push_back(std::move(p));
  return Status::Ok();
}

const Provisioner* ProvisionerCollection::BySelector(const std::string& selector) const {
  auto it = by_selector_.find(selector);
  return it == by_selector_.end() ? nullptr : list_[it->second].get();
}

const Provisioner* ProvisionerCollection::ByName(const std::string& name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : list_[it->second].get();
}

const JwkProvisioner* ProvisionerCollection::JwkByKid(const std::string& kid) const {
  auto it = by_kid_.find(kid);
  if (it == by_kid_.end()) return nullptr;
  return static_cast<const JwkProvisioner*>(list_[it->second].get());
}

std::vector<const Provisioner*> ProvisionerCollection::Page(const std::string& cursor, size_t limit,
                                                            std::string* next_cursor) const {
  std::string padded = cursor;
  if (padded.size() < 40) padded.insert(0, 40 - padded.size(), '0');
  size_t start = 0;
  while (start < uids_.size() && uids_[start] < padded) ++start;
  std::vector<const Provisioner*> out;
  size_t i = start;
  for (; i < list_.size() && out.size() < limit; ++i) out.push_back(list_[i].get());
  next_cursor->clear();
  if (i < list_.size()) {
    const std::string& uid = uids_[i];
    size_t nz = uid.find_first_not_of('0');
    *next_cursor = nz == std::string::npos ? "0" : uid.substr(nz);
  }
  return out;
}

}  // namespace stepca
