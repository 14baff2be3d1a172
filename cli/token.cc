#include "cli/token.h"

#include <openssl/rand.h>
#include <strings.h>

#include "authority/jose/jwe.h"
#include "authority/jose/jws.h"
#include "cli/crypto.h"
#include "cli/files.h"
#include "cli/http.h"
#include "shared/base64.h"

namespace stepca {
namespace cli {
namespace {

std::string GetString(const json_t* obj, const char* key) {
  const char* s = json_string_value(json_object_get(obj, key));
  return s != nullptr ? s : "";
}

Result<JsonPtr> LoadJsonFile(const std::string& path) {
  STEPCA_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  json_error_t err;
  JsonPtr j(json_loadb(text.data(), text.size(), 0, &err));
  if (!j || !json_is_object(j.get())) {
    return InvalidArgument("error parsing " + path + ": " + err.text);
  }
  return j;
}

int64_t UnixSeconds(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch())
      .count();
}

}  // namespace

Result<ClientDefaults> LoadClientDefaults(const std::string& steppath) {
  ClientDefaults d;
  std::string path = JoinPath(JoinPath(steppath, "config"), "defaults.json");
  auto text = ReadFile(path);
  if (!text.ok()) return d;
  json_error_t err;
  JsonPtr j(json_loadb(text->data(), text->size(), 0, &err));
  if (!j || !json_is_object(j.get())) {
    return InvalidArgument("error parsing " + path + ": " + err.text);
  }
  d.ca_url = GetString(j.get(), "ca-url");
  d.ca_config = GetString(j.get(), "ca-config");
  d.fingerprint = GetString(j.get(), "fingerprint");
  d.root = GetString(j.get(), "root");
  return d;
}

Result<JsonPtr> BuildTokenClaims(const TokenClaimsRequest& r) {
  if (r.subject.empty()) return InvalidArgument("token subject cannot be empty");
  if (r.ca_url.empty()) return InvalidArgument("flag '--ca-url' is required");
  if (r.issuer.empty()) return InvalidArgument("provisioner name cannot be empty");
  TimePoint now = r.now == TimePoint{} ? TimePoint(Clock::now()) : r.now;
  int64_t iat = UnixSeconds(now);
  unsigned char rnd[32];
  if (RAND_bytes(rnd, sizeof rnd) != 1) return Internal("random: " + OpensslError());
  std::string jti = HexEncode(std::string_view(reinterpret_cast<char*>(rnd), sizeof rnd));
  std::string aud = NormalizeCaUrl(r.ca_url) +
                    (r.ssh ? "/1.0/ssh/sign" : r.revoke ? "/1.0/revoke" : "/1.0/sign");

  JsonPtr c(json_object());
  json_object_set_new(c.get(), "aud", json_string(aud.c_str()));
  json_object_set_new(c.get(), "exp", json_integer(iat + r.lifetime.count()));
  json_object_set_new(c.get(), "iat", json_integer(iat));
  json_object_set_new(c.get(), "iss", json_string(r.issuer.c_str()));
  json_object_set_new(c.get(), "jti", json_string(jti.c_str()));
  json_object_set_new(c.get(), "nbf", json_integer(iat));
  if (!r.revoke && r.ssh == nullptr) {
    JsonPtr sans(json_array());
    if (r.sans.empty()) {
      json_array_append_new(sans.get(), json_string(r.subject.c_str()));
    }
    for (const auto& s : r.sans) json_array_append_new(sans.get(), json_string(s.c_str()));
    json_object_set_new(c.get(), "sans", sans.release());
  }
  if (!r.root_fingerprint.empty()) {
    json_object_set_new(c.get(), "sha", json_string(r.root_fingerprint.c_str()));
  }
  if (r.ssh != nullptr) json_object_set_new(c.get(), "step", json_pack("{s:O}", "ssh", r.ssh));
  json_object_set_new(c.get(), "sub", json_string(r.subject.c_str()));
  return c;
}

Result<std::string> SignToken(const json_t* claims, EVP_PKEY* key,
                              const std::string& kid, const std::string& alg) {
  JsonPtr header(json_object());
  if (!alg.empty()) json_object_set_new(header.get(), "alg", json_string(alg.c_str()));
  json_object_set_new(header.get(), "kid", json_string(kid.c_str()));
  json_object_set_new(header.get(), "typ", json_string("JWT"));
  return SignCompactJws(header.get(), claims, key, alg);
}

Result<ProvisionerRef> FindJwkProvisioner(const json_t* provisioners,
                                          const std::string& name) {
  if (!json_is_array(provisioners)) {
    return InvalidArgument("provisioners is not an array");
  }
  std::vector<ProvisionerRef> found;
  size_t i;
  json_t* p;
  json_array_foreach(provisioners, i, p) {
    if (strcasecmp(GetString(p, "type").c_str(), "JWK") != 0) continue;
    ProvisionerRef ref;
    ref.name = GetString(p, "name");
    ref.kid = GetString(json_object_get(p, "key"), "kid");
    ref.encrypted_key = GetString(p, "encryptedKey");
    if (name.empty() || ref.name == name) found.push_back(ref);
  }
  if (found.empty()) {
    return NotFound(name.empty() ? std::string("cannot find a JWK provisioner")
                                 : "cannot find a JWK provisioner named '" + name + "'");
  }
  if (found.size() > 1 && name.empty()) {
    return InvalidArgument("there is more than one JWK provisioner: use --provisioner");
  }
  return found[0];
}

Result<ProvisionerRef> ProvisionerFromCaConfig(const std::string& ca_config,
                                               const std::string& name) {
  if (ca_config.empty()) {
    return InvalidArgument("flag '--ca-config' is required with '--offline'");
  }
  STEPCA_ASSIGN_OR_RETURN(JsonPtr config, LoadJsonFile(ca_config));
  const json_t* provs =
      json_object_get(json_object_get(config.get(), "authority"), "provisioners");
  if (provs == nullptr) {
    return InvalidArgument(ca_config + ": authority.provisioners is missing");
  }
  return FindJwkProvisioner(provs, name);
}

Result<ProvisionerRef> ProvisionerFromCa(const std::string& ca_url,
                                         const std::string& root_file,
                                         const std::string& name) {
  const std::string base = NormalizeCaUrl(ca_url);
  JsonPtr all(json_array());
  std::string cursor;
  for (int page = 0; page < 1000; ++page) {
    std::string url = base + "/provisioners?limit=100";
    if (!cursor.empty()) url += "&cursor=" + EscapePathSegment(cursor);
    STEPCA_ASSIGN_OR_RETURN(HttpResponse resp, HttpGet(url, root_file));
    STEPCA_ASSIGN_OR_RETURN(JsonPtr body, JsonBody(resp));
    json_t* list = json_object_get(body.get(), "provisioners");
    if (json_is_array(list)) json_array_extend(all.get(), list);
    cursor = GetString(body.get(), "nextCursor");
    if (cursor.empty() || !json_is_array(list) || json_array_size(list) == 0) break;
  }
  STEPCA_ASSIGN_OR_RETURN(ProvisionerRef ref, FindJwkProvisioner(all.get(), name));
  if (ref.kid.empty()) return InvalidArgument("provisioner '" + ref.name + "' has no kid");
  STEPCA_ASSIGN_OR_RETURN(
      HttpResponse resp,
      HttpGet(base + "/provisioners/" + EscapePathSegment(ref.kid) + "/encrypted-key",
              root_file));
  STEPCA_ASSIGN_OR_RETURN(JsonPtr body, JsonBody(resp));
  std::string key = GetString(body.get(), "key");
  if (key.empty()) {
    return NotFound("provisioner '" + ref.name + "' has no encrypted key");
  }
  ref.encrypted_key = key;
  return ref;
}

Result<Jwk> DecryptProvisionerKey(const ProvisionerRef& provisioner,
                                  const std::string& password) {
  if (provisioner.encrypted_key.empty()) {
    return InvalidArgument("provisioner '" + provisioner.name +
                           "' does not have an encrypted key");
  }
  auto plain = DecryptPbes2Jwe(provisioner.encrypted_key, password);
  if (!plain.ok()) {
    return Status(plain.status().code(),
                  "error decrypting the provisioner key: " + plain.status().message());
  }
  std::string text = std::move(plain).value();
  auto jwk = ParseJwkText(text);
  Wipe(text);
  if (!jwk.ok()) return jwk.status();
  if (!jwk->has_private) {
    return InvalidArgument("the provisioner key is not a private key");
  }
  return jwk;
}

Result<std::string> RootFingerprintFromFile(const std::string& path) {
  STEPCA_ASSIGN_OR_RETURN(std::string pem, ReadFile(path));
  auto certs = ParseCertificatesPem(pem);
  if (!certs.ok()) return InvalidArgument("error reading " + path + ": no certificate");
  return Fingerprint(certs.value()[0].get());
}

Result<std::string> GenerateToken(const TokenFlowOptions& o) {
  if (o.ca_url.empty()) return InvalidArgument("flag '--ca-url' is required");
  std::string fingerprint;
  if (!o.root.empty()) {
    STEPCA_ASSIGN_OR_RETURN(fingerprint, RootFingerprintFromFile(o.root));
  } else if (!o.offline) {
    return InvalidArgument("flag '--root' is required");
  } else {
    fingerprint = o.fingerprint;
  }
  ProvisionerRef ref;
  if (o.offline) {
    STEPCA_ASSIGN_OR_RETURN(ref, ProvisionerFromCaConfig(o.ca_config, o.provisioner));
  } else {
    STEPCA_ASSIGN_OR_RETURN(ref, ProvisionerFromCa(o.ca_url, o.root, o.provisioner));
  }
  STEPCA_ASSIGN_OR_RETURN(Jwk jwk, DecryptProvisionerKey(ref, o.password));
  std::string kid = !ref.kid.empty() ? ref.kid : jwk.kid;
  if (kid.empty()) {
    STEPCA_ASSIGN_OR_RETURN(kid, JwkThumbprint(jwk.key.get()));
  }
  TokenClaimsRequest req;
  req.subject = o.subject;
  req.sans = o.sans;
  req.revoke = o.revoke;
  req.ca_url = o.ca_url;
  req.root_fingerprint = fingerprint;
  req.issuer = ref.name;
  req.ssh = o.ssh;
  STEPCA_ASSIGN_OR_RETURN(JsonPtr claims, BuildTokenClaims(req));
  return SignToken(claims.get(), jwk.key.get(), kid, jwk.alg);
}

}  // namespace cli
}  // namespace stepca
