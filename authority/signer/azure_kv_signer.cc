#include "authority/signer/azure_kv_signer.h"

#include <jansson.h>

#include "authority/cloud/http_request.h"
#include "authority/jose/jwk.h"
#include "authority/signer/kms_call.h"
#include "authority/signer/remote_signer.h"
#include "shared/base64.h"

namespace stepca {

const char kAzureKeyVaultScope[] = "https://vault.azure.net/.default";

namespace {

constexpr const char* kApiVersion = "api-version=7.4";

Result<JsonPtr> Call(const AzureKeyVaultOptions& o, const std::string& method,
                     const std::string& path, const std::string& body) {
  STEPCA_ASSIGN_OR_RETURN(std::string token, o.credentials->Token());
  auto resp = SendWithBearer(method, o.endpoint + path + "?" + kApiVersion, std::move(token), body);
  if (!resp.ok()) return resp.status();
  JsonPtr doc(json_loadb(resp->body.data(), resp->body.size(), 0, nullptr));
  if (resp->status != 200) {
    if (resp->status == 401) o.credentials->ForgetToken();
    const json_t* err = json_object_get(doc.get(), "error");
    const char* code = json_string_value(json_object_get(err, "code"));
    const char* msg = json_string_value(json_object_get(err, "message"));
    return Unavailable("azurekms: " + method + " " + path + ": HTTP " + std::to_string(resp->status) +
                       (code == nullptr ? "" : " " + std::string(code)) +
                       (msg == nullptr ? "" : ": " + std::string(msg).substr(0, 200)));
  }
  if (!json_is_object(doc.get())) return Unavailable("azurekms: the answer is not JSON");
  return doc;
}

const char* JwsAlgorithm(SignatureAlgorithm a) {
  switch (a) {
    case SignatureAlgorithm::kEcdsaSha256: return "ES256";
    case SignatureAlgorithm::kEcdsaSha384: return "ES384";
    case SignatureAlgorithm::kEcdsaSha512: return "ES512";
    case SignatureAlgorithm::kRsaPkcs1Sha256: return "RS256";
    case SignatureAlgorithm::kRsaPkcs1Sha512: return "RS512";
    case SignatureAlgorithm::kRsaPssSha256: return "PS256";
    case SignatureAlgorithm::kEd25519: break;
  }
  return "";
}

std::string Describe(const AzureKeyVaultOptions& o) {
  return "azurekms:name=" + o.name + ";vault=" + o.vault +
         (o.version.empty() ? "" : "?version=" + o.version);
}

class AzureKeyVaultSigner : public RemoteSigner {
 public:
  AzureKeyVaultSigner(EvpPkeyPtr pub, SignatureAlgorithm alg, AzureKeyVaultOptions o)
      : RemoteSigner(std::move(pub), alg), o_(std::move(o)) {}

  Status InitProcess() override { return Status::Ok(); }

 protected:
  Result<std::string> SignDigest(std::string_view digest) const override {
    JsonPtr req(json_pack("{s:s,s:s}", "alg", JwsAlgorithm(Algorithm()), "value",
                          Base64UrlEncode(digest).c_str()));
    char* text = json_dumps(req.get(), JSON_COMPACT);
    std::string body(text);
    free(text);
    STEPCA_ASSIGN_OR_RETURN(
        std::string raw,
        SignatureFromAnswer(Call(o_, "POST", "/keys/" + o_.name + "/" + o_.version + "/sign", body),
                            "value", true, Describe(o_), "sign answered without a value"));
    // JOSE gives ECDSA as r || s.
    if (EVP_PKEY_get_base_id(PublicKey()) == EVP_PKEY_EC) return EcdsaRawToDer(raw);
    return raw;
  }

 private:
  AzureKeyVaultOptions o_;
};

}  // namespace

Result<std::unique_ptr<Signer>> MakeAzureKeyVaultSigner(AzureKeyVaultOptions o) {
  if (o.name.empty() || o.vault.empty())
    return InvalidArgument("azurekms: the key URI must name the key and the vault "
                           "(azurekms:name=<key>;vault=<vault>)");
  if (!o.credentials) return InvalidArgument("azurekms: no credentials");
  if (o.endpoint.empty()) o.endpoint = "https://" + o.vault + ".vault.azure.net";
  while (!o.endpoint.empty() && o.endpoint.back() == '/') o.endpoint.pop_back();
  STEPCA_ASSIGN_OR_RETURN(
      JsonPtr doc, Call(o, "GET", "/keys/" + o.name + (o.version.empty() ? "" : "/" + o.version), ""));
  json_t* key = json_object_get(doc.get(), "key");
  if (!json_is_object(key)) return Unavailable("azurekms: the key answer has no key");
  JsonPtr jwk(json_deep_copy(key));
  // Key Vault's kty says where the key lives ("EC-HSM"); a JWK's does not.
  const char* kty = json_string_value(json_object_get(jwk.get(), "kty"));
  std::string plain = kty == nullptr ? "" : kty;
  if (plain.size() > 4 && plain.compare(plain.size() - 4, 4, "-HSM") == 0) plain.resize(plain.size() - 4);
  json_object_set_new(jwk.get(), "kty", json_string(plain.c_str()));
  for (const char* drop : {"kid", "key_ops"}) json_object_del(jwk.get(), drop);
  auto parsed = ParseJwk(jwk.get());
  if (!parsed.ok()) return Unavailable("azurekms: the key answer is not a usable JWK: " + parsed.status().message());
  if (o.version.empty()) {
    // Sign with exactly the version checked here, even if a newer one is made.
    const char* kid = json_string_value(json_object_get(key, "kid"));
    std::string k = kid == nullptr ? "" : kid;
    size_t slash = k.rfind('/');
    if (slash == std::string::npos || slash + 1 == k.size())
      return Unavailable("azurekms: the key answer has no kid with a version");
    o.version = k.substr(slash + 1);
  }
  auto alg = RemoteAlgorithmFor(parsed->key.get(), false, o.rsa_sha512);
  if (!alg.ok()) return InvalidArgument("azurekms: " + alg.status().message());
  std::unique_ptr<Signer> s =
      std::make_unique<AzureKeyVaultSigner>(std::move(parsed->key), alg.value(), std::move(o));
  return s;
}

}  // namespace stepca
