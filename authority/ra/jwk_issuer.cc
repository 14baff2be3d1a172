#include "authority/ra/jwk_issuer.h"

#include <strings.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "authority/jose/jwe.h"
#include "authority/jose/jwk.h"
#include "authority/ra/upstream_token.h"
#include "authority/signer/file_signer.h"

namespace stepca {
namespace {

class JwkIssuer : public UpstreamIssuer {
 public:
  JwkIssuer(std::string provisioner, std::string kid, EvpPkeyPtr key)
      : provisioner_(std::move(provisioner)), kid_(std::move(kid)), key_(std::move(key)) {}

  Result<UpstreamToken> Token(const UpstreamTokenRequest& request) const override {
    JsonPtr header(json_object());
    json_object_set_new(header.get(), "kid", json_string(kid_.c_str()));
    json_object_set_new(header.get(), "typ", json_string("JWT"));
    STEPCA_ASSIGN_OR_RETURN(
        std::string token,
        MintUpstreamToken(header.get(), provisioner_, request, key_.get(),
                          std::chrono::time_point_cast<std::chrono::nanoseconds>(Clock::now())));
    return UpstreamToken{std::move(token), std::nullopt};
  }

 private:
  std::string provisioner_, kid_;
  EvpPkeyPtr key_;
};

// The upstream's JWK provisioner named name: its kid and encryptedKey.
struct ListedJwk {
  std::string kid, encrypted_key;
};

Result<ListedJwk> FindProvisioner(const UpstreamClient& upstream, const std::string& name) {
  std::string cursor;
  for (int page = 0; page < 100; ++page) {  // bounded: 100 pages of 100
    std::string path = "/1.0/provisioners?limit=100";
    if (!cursor.empty()) path += "&cursor=" + cursor;
    STEPCA_ASSIGN_OR_RETURN(UpstreamResponse r, upstream.Get(path));
    if (r.status != 200)
      return Unavailable("the upstream CA " + upstream.base() + " answered /provisioners with " +
                         UpstreamErrorMessage(r));
    JsonPtr j(json_loadb(r.body.data(), r.body.size(), 0, nullptr));
    const json_t* list = j ? json_object_get(j.get(), "provisioners") : nullptr;
    if (!json_is_array(list))
      return Unavailable("the upstream CA " + upstream.base() + " answered /provisioners without a list");
    size_t i;
    const json_t* p;
    json_array_foreach(list, i, p) {
      const json_t* type = json_object_get(p, "type");
      const json_t* n = json_object_get(p, "name");
      if (!json_is_string(type) || strcasecmp(json_string_value(type), "JWK") != 0) continue;
      if (!json_is_string(n) || name != json_string_value(n)) continue;
      const json_t* kid = json_object_get(json_object_get(p, "key"), "kid");
      const json_t* ek = json_object_get(p, "encryptedKey");
      if (!json_is_string(ek) || json_string_length(ek) == 0)
        return InvalidArgument("the upstream JWK provisioner " + name +
                               " has no encryptedKey: give the RA its key in certificateIssuer.key");
      return ListedJwk{json_is_string(kid) ? json_string_value(kid) : "", json_string_value(ek)};
    }
    const json_t* next = json_object_get(j.get(), "nextCursor");
    if (!json_is_string(next) || json_string_length(next) == 0) break;
    cursor = json_string_value(next);
  }
  return InvalidArgument("the upstream CA " + upstream.base() + " has no JWK provisioner named \"" +
                         name + "\"");
}

}  // namespace

Result<std::unique_ptr<UpstreamIssuer>> MakeJwkIssuer(const StepCasIssuerConfig& config,
                                                      const UpstreamClient& upstream) {
  const std::string f = "authority.certificateIssuer";
  EvpPkeyPtr key;
  std::string kid;
  if (!config.key_path.empty()) {
    std::ifstream in(config.key_path, std::ios::binary);
    if (!in) return InvalidArgument(f + ".key: cannot read " + config.key_path + ": " + std::strerror(errno));
    std::stringstream ss;
    ss << in.rdbuf();
    std::string pem = ss.str();
    auto k = LoadPrivateKeyPem(pem, config.password);
    Wipe(pem);
    if (!k.ok()) return InvalidArgument(f + ".key: " + config.key_path + ": " + k.status().message());
    key = std::move(k).value();
    STEPCA_ASSIGN_OR_RETURN(kid, JwkThumbprint(key.get()));
  } else {
    auto listed = FindProvisioner(upstream, config.provisioner);
    if (!listed.ok()) return listed.status().Wrap(f + ".provisioner");
    auto plain = DecryptPbes2Jwe(listed->encrypted_key, config.password);
    if (!plain.ok())
      return InvalidArgument(f + ".password: cannot decrypt the encryptedKey of the upstream "
                             "provisioner \"" + config.provisioner + "\" (wrong issuer password?)");
    auto jwk = ParseJwkText(plain.value());
    Wipe(plain.value());
    if (!jwk.ok() || !jwk->has_private)
      return InvalidArgument(f + ": the upstream provisioner's encryptedKey holds no private JWK");
    key = std::move(jwk->key);
    kid = listed->kid.empty() ? jwk->kid : listed->kid;
  }
  std::unique_ptr<UpstreamIssuer> out =
      std::make_unique<JwkIssuer>(config.provisioner, kid, std::move(key));
  return out;
}

}  // namespace stepca
