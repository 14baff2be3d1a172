#include "authority/cloud/google_service_account.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <fstream>
#include <sstream>

#include "authority/cloud/http_request.h"
#include "shared/base64.h"

namespace stepca::cloud {

Result<std::unique_ptr<GoogleServiceAccount>> GoogleServiceAccount::FromFile(
    const std::string& path, const std::string& scope) {
  std::ifstream in(path);
  if (!in) return InvalidArgument("cloudkms: cannot read the credentials file " + path);
  std::stringstream text;
  text << in.rdbuf();
  std::string body = text.str();
  JsonPtr doc(json_loadb(body.data(), body.size(), 0, nullptr));
  Wipe(body);
  if (!json_is_object(doc.get())) return InvalidArgument("cloudkms: " + path + " is not JSON");
  const char* type = json_string_value(json_object_get(doc.get(), "type"));
  if (type == nullptr || std::string(type) != "service_account")
    return InvalidArgument("cloudkms: " + path + " is not a service-account key (type must be service_account)");
  auto out = std::make_unique<GoogleServiceAccount>();
  for (auto [name, field] : {std::pair{"client_email", &out->client_email_},
                             std::pair{"private_key_id", &out->key_id_},
                             std::pair{"token_uri", &out->token_uri_}}) {
    const char* v = json_string_value(json_object_get(doc.get(), name));
    if (v != nullptr) *field = v;
  }
  if (out->client_email_.empty()) return InvalidArgument("cloudkms: " + path + " has no client_email");
  if (out->token_uri_.empty()) out->token_uri_ = "https://oauth2.googleapis.com/token";
  const char* pem = json_string_value(json_object_get(doc.get(), "private_key"));
  if (pem == nullptr) return InvalidArgument("cloudkms: " + path + " has no private_key");
  BioPtr bio(BIO_new_mem_buf(pem, -1));
  out->key_.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  json_object_del(doc.get(), "private_key");
  if (!out->key_ || EVP_PKEY_get_base_id(out->key_.get()) != EVP_PKEY_RSA) {
    OpensslError();
    return InvalidArgument("cloudkms: the private_key of " + path + " is not an RSA PEM key");
  }
  out->scope_ = scope;
  return out;
}

Result<std::string> GoogleServiceAccount::Assertion(std::time_t now) const {
  JsonPtr header(json_pack("{s:s,s:s,s:s}", "alg", "RS256", "typ", "JWT", "kid", key_id_.c_str()));
  JsonPtr claims(json_pack("{s:s,s:s,s:s,s:I,s:I}", "iss", client_email_.c_str(), "scope",
                           scope_.c_str(), "aud", token_uri_.c_str(), "iat",
                           static_cast<json_int_t>(now), "exp", static_cast<json_int_t>(now + 3600)));
  char* h = json_dumps(header.get(), JSON_COMPACT);
  char* c = json_dumps(claims.get(), JSON_COMPACT);
  const std::string input = Base64UrlEncode(h) + "." + Base64UrlEncode(c);
  free(h);
  free(c);
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  size_t len = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key_.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()),
                     input.size()) != 1)
    return Internal("cloudkms: cannot sign the token grant: " + OpensslError());
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(&sig[0]), &len,
                     reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1)
    return Internal("cloudkms: cannot sign the token grant: " + OpensslError());
  sig.resize(len);
  return input + "." + Base64UrlEncode(sig);
}

Result<std::string> GoogleServiceAccount::Token() {
  return cache_.Get([this]() -> Result<AccessToken> {
    STEPCA_ASSIGN_OR_RETURN(std::string assertion, Assertion(std::time(nullptr)));
    HttpRequest r;
    r.method = "POST";
    r.url = token_uri_;
    r.headers = {"Content-Type: application/x-www-form-urlencoded"};
    r.body = "grant_type=" + FormEscape("urn:ietf:params:oauth:grant-type:jwt-bearer") +
             "&assertion=" + assertion;
    STEPCA_ASSIGN_OR_RETURN(HttpResponse resp, SendHttp(r));
    return ParseTokenResponse(resp, "cloudkms: service account " + client_email_);
  });
}

}  // namespace stepca::cloud
