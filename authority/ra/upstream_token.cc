#include "authority/ra/upstream_token.h"

#include <openssl/rand.h>

#include "authority/jose/jws.h"
#include "shared/base64.h"

namespace stepca {

Result<std::string> MintUpstreamToken(const json_t* header, const std::string& provisioner,
                                      const UpstreamTokenRequest& request, EVP_PKEY* key,
                                      TimePoint now) {
  unsigned char id[32];
  if (RAND_bytes(id, sizeof id) != 1) return Internal("upstream token: no randomness");
  const long long t = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  JsonPtr claims(json_object());
  json_object_set_new(claims.get(), "iss", json_string(provisioner.c_str()));
  json_object_set_new(claims.get(), "aud", json_string(request.audience.c_str()));
  json_object_set_new(claims.get(), "sub", json_string(request.subject.c_str()));
  json_object_set_new(claims.get(), "iat", json_integer(t));
  json_object_set_new(claims.get(), "nbf", json_integer(t));
  json_object_set_new(claims.get(), "exp", json_integer(t + 300));
  json_object_set_new(claims.get(), "jti",
                      json_string(HexEncode(std::string(reinterpret_cast<char*>(id), sizeof id)).c_str()));
  if (!request.sans.empty()) {
    JsonPtr sans(json_array());
    for (const auto& s : request.sans) json_array_append_new(sans.get(), json_string(s.c_str()));
    json_object_set(claims.get(), "sans", sans.get());
  }
  return SignCompactJws(header, claims.get(), key);
}

}  // namespace stepca
