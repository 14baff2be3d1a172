#include "authority/provisioner/k8ssa_provisioner.h"

#include <openssl/err.h>
#include <openssl/pem.h>

#include "authority/provisioner/identity_token.h"
#include "shared/base64.h"

namespace stepca {
namespace {

constexpr const char* kLegacyIssuer = "kubernetes/serviceaccount";

Status ReadOptionalString(const json_t* obj, const char* key, std::string* out) {
  const json_t* v = json_object_get(obj, key);
  if (v == nullptr || json_is_null(v)) return Status::Ok();
  if (!json_is_string(v)) return Unauthenticated(std::string("claim \"") + key + "\" is not a string");
  *out = std::string(json_string_value(v), json_string_length(v));
  return Status::Ok();
}

}  // namespace

Result<ServiceAccount> ReadServiceAccount(const json_t* payload) {
  ServiceAccount sa;
  const json_t* bound = json_object_get(payload, "kubernetes.io");
  if (bound != nullptr) {
    if (!json_is_object(bound)) return Unauthenticated("claim \"kubernetes.io\" is not an object");
    sa.bound = true;
    STEPCA_RETURN_IF_ERROR(ReadOptionalString(bound, "namespace", &sa.namespace_name));
    const json_t* acct = json_object_get(bound, "serviceaccount");
    if (!json_is_object(acct)) return Unauthenticated("claim \"kubernetes.io\".serviceaccount is not an object");
    STEPCA_RETURN_IF_ERROR(ReadOptionalString(acct, "name", &sa.name));
    STEPCA_RETURN_IF_ERROR(ReadOptionalString(acct, "uid", &sa.uid));
  } else {
    STEPCA_RETURN_IF_ERROR(ReadOptionalString(payload, "kubernetes.io/serviceaccount/namespace", &sa.namespace_name));
    STEPCA_RETURN_IF_ERROR(ReadOptionalString(payload, "kubernetes.io/serviceaccount/service-account.name", &sa.name));
    STEPCA_RETURN_IF_ERROR(ReadOptionalString(payload, "kubernetes.io/serviceaccount/service-account.uid", &sa.uid));
  }
  if (sa.namespace_name.empty() || sa.name.empty())
    return Unauthenticated("token names no service account namespace and name");
  return sa;
}

K8sSaProvisioner::K8sSaProvisioner(std::string name, Claims claims, JsonPtr json,
                                   std::vector<EvpPkeyPtr> keys)
    : ProvisionerBase(ProvisionerType::kK8sSa, "K8sSA", std::move(name), claims, std::move(json)),
      keys_(std::move(keys)) {}

Result<SignGrant> K8sSaProvisioner::AuthorizeSign(const Jws& jws, const TokenClaims& claims,
                                                  const Audiences& audiences, TimePoint now) const {
  std::vector<EVP_PKEY*> keys;
  for (const auto& k : keys_) keys.push_back(k.get());
  if (!VerifiedByOneOf(jws, keys))
    return Unauthenticated("k8ssa.authorizeToken; error validating k8sSA token and extracting claims");
  auto sa = ReadServiceAccount(jws.payload.get());
  if (!sa.ok()) return sa.status().Wrap("k8ssa.authorizeToken; invalid k8sSA token claims");
  const std::string bad = "k8ssa.authorizeToken; invalid k8sSA token claims: ";
  if (sa->bound) {
    if (claims.issuer.empty()) return Unauthenticated(bad + "bound token without issuer");
    if (!audiences.Matches(TokenMethod::kSign, claims.audience) &&
        !audiences.Matches(TokenMethod::kSign, claims.audience, id()))
      return Unauthenticated(bad + "invalid audience: a bound token must be made for this CA");
    Status t = CheckIdentityTimeClaims(claims, now);
    if (!t.ok()) return Unauthenticated(bad + t.message());
  } else {
    if (claims.issuer != kLegacyIssuer)
      return Unauthenticated(bad + "invalid issuer \"" + claims.issuer + "\"");
    const int64_t t = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
    const int64_t leeway = kTokenLeeway.count();
    if (claims.not_before && t + leeway < *claims.not_before)
      return Unauthenticated(bad + "token is not valid yet (nbf)");
    if (claims.expiry && t - leeway > *claims.expiry)
      return Unauthenticated(bad + "token is expired (exp)");
  }
  if (claims.subject.empty())
    return Unauthenticated("k8ssa.authorizeToken; k8sSA token subject cannot be empty");
  if (claims.subject != "system:serviceaccount:" + sa->namespace_name + ":" + sa->name)
    return Unauthenticated(bad + "subject does not name the token's service account");

  SignGrant g;
  g.subject = sa->name;
  g.csr_names = CsrNames::kGranted;
  g.info.type = ProvisionerType::kK8sSa;
  g.info.name = name();
  g.provisioner_id = id();
  g.token_expiry = claims.expiry ? TimePoint(std::chrono::seconds(*claims.expiry)) : now;
  return g;
}

Result<std::unique_ptr<Provisioner>> ParseK8sSaProvisioner(const json_t* obj,
                                                           const std::string& field,
                                                           const std::string& name,
                                                           const Claims& claims, JsonPtr json) {
  const std::string where = "field \"" + field + ".publicKeys\"";
  const json_t* pk = json_object_get(obj, "publicKeys");
  if (!json_is_string(pk) || json_string_length(pk) == 0)
    return InvalidArgument(where + ": K8s Service Account provisioner cannot be initialized without pub keys");
  auto pem = Base64Decode(std::string_view(json_string_value(pk), json_string_length(pk)));
  if (!pem) return InvalidArgument(where + ": not base64 (of a PEM bundle)");
  std::vector<EvpPkeyPtr> keys;
  BioPtr bio(BIO_new_mem_buf(pem->data(), static_cast<int>(pem->size())));
  if (!bio) return Internal("out of memory");
  for (;;) {
    char* pem_name = nullptr;
    char* header = nullptr;
    unsigned char* data = nullptr;
    long len = 0;
    if (PEM_read_bio(bio.get(), &pem_name, &header, &data, &len) != 1) break;
    const std::string type = pem_name;
    const unsigned char* p = data;
    EvpPkeyPtr key;
    if (type == "PUBLIC KEY") {
      key.reset(d2i_PUBKEY(nullptr, &p, len));
    } else if (type == "RSA PUBLIC KEY") {
      key.reset(d2i_PublicKey(EVP_PKEY_RSA, nullptr, &p, len));
    } else if (type == "CERTIFICATE") {
      X509Ptr cert(d2i_X509(nullptr, &p, len));
      if (cert) key.reset(X509_get_pubkey(cert.get()));
    }
    OPENSSL_free(pem_name);
    OPENSSL_free(header);
    OPENSSL_free(data);
    const int id = key ? EVP_PKEY_get_base_id(key.get()) : 0;
    if (id != EVP_PKEY_RSA && id != EVP_PKEY_EC && id != EVP_PKEY_ED25519)
      return InvalidArgument(where + ": error parsing public key in provisioner \"" + name +
                             "\" (" + type + ")");
    keys.push_back(std::move(key));
  }
  ERR_clear_error();
  if (keys.empty()) return InvalidArgument(where + ": no PEM public key in it");
  return std::unique_ptr<Provisioner>(
      new K8sSaProvisioner(name, claims, std::move(json), std::move(keys)));
}

}  // namespace stepca
