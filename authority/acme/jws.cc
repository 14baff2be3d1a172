#include "authority/acme/jws.h"

#include <openssl/hmac.h>
#include <openssl/rsa.h>

#include <cstdlib>
#include <cstring>

#include "shared/base64.h"

namespace stepca {
namespace acme {
namespace {

constexpr const char* kAcmeAlgs[] = {"ES256", "ES384", "ES512", "RS256", "RS384",
                                     "RS512", "PS256", "PS384", "PS512", "EdDSA"};

const char* StringMember(const json_t* obj, const char* name) {
  const json_t* v = json_object_get(obj, name);
  return json_is_string(v) ? json_string_value(v) : nullptr;
}

Problem ParseMembers(const json_t* obj, FlatJws* out) {
  if (!json_is_object(obj)) return Malformed("the JWS is not a JSON object");
  if (json_object_get(obj, "signatures") != nullptr)
    return Malformed("the JWS must use the flattened JSON serialization");
  if (json_object_get(obj, "header") != nullptr)
    return Malformed("the JWS must not have an unprotected header");
  const char* prot = StringMember(obj, "protected");
  const char* payload = StringMember(obj, "payload");
  const char* sig = StringMember(obj, "signature");
  if (prot == nullptr || payload == nullptr || sig == nullptr)
    return Malformed("the JWS needs string members protected, payload and signature");
  if (json_object_size(obj) != 3) return Malformed("the JWS has unknown members");
  if (*prot == '\0') return Malformed("the JWS has an empty protected header");

  auto header_bytes = Base64UrlDecode(prot);
  auto payload_bytes = Base64UrlDecode(payload);
  auto sig_bytes = Base64UrlDecode(sig);
  if (!header_bytes || !payload_bytes || !sig_bytes)
    return Malformed("the JWS is not strict base64url");
  json_error_t err;
  JsonPtr header(json_loadb(header_bytes->data(), header_bytes->size(), JSON_REJECT_DUPLICATES, &err));
  if (!header || !json_is_object(header.get()))
    return Malformed("the JWS protected header is not a JSON object");
  if (json_object_get(header.get(), "crit") != nullptr)
    return Malformed("the JWS protected header has crit, which is not supported");
  const json_t* alg = json_object_get(header.get(), "alg");
  if (!json_is_string(alg)) return Malformed("the JWS protected header has no alg");

  out->jws.signing_input = std::string(prot) + "." + payload;
  out->jws.signature = std::move(*sig_bytes);
  out->jws.alg = json_string_value(alg);
  out->jws.payload_bytes = *payload_bytes;
  out->payload = std::move(*payload_bytes);
  out->jws.header = std::move(header);
  return Problem::Ok();
}

Problem ParseKeyMembers(const json_t* header, KeyMode mode, FlatJws* out) {
  const json_t* jwk = json_object_get(header, "jwk");
  const json_t* kid = json_object_get(header, "kid");
  if (jwk != nullptr && kid != nullptr)
    return Malformed("jwk and kid are mutually exclusive");
  if (jwk == nullptr && kid == nullptr) return Malformed("the JWS needs jwk or kid");
  if (jwk != nullptr) {
    if (mode == KeyMode::kKid) return Malformed("this request must be signed with the account key id (kid)");
    auto parsed = ParseJwk(jwk);
    if (!parsed.ok()) return Malformed("invalid jwk: " + parsed.status().message());
    if (parsed->has_private) return Malformed("the jwk holds a private key");
    out->jwk = std::move(parsed).value();
  } else {
    if (mode == KeyMode::kJwk) return Malformed("this request must carry the account key (jwk)");
    if (!json_is_string(kid) || json_string_length(kid) == 0) return Malformed("kid must be a string");
    out->kid = json_string_value(kid);
  }
  return Problem::Ok();
}

}  // namespace

bool IsAcmeAlgorithm(std::string_view alg) {
  for (const char* a : kAcmeAlgs)
    if (alg == a) return true;
  return false;
}

Problem ParseFlatJws(std::string_view body, KeyMode mode, FlatJws* out) {
  if (body.size() > kMaxJwsBody) return Malformed("the request body is too large");
  json_error_t err;
  JsonPtr obj(json_loadb(body.data(), body.size(), JSON_REJECT_DUPLICATES, &err));
  if (!obj) return Malformed("the request body is not JSON");
  Problem p = ParseMembers(obj.get(), out);
  if (!p.ok()) return p;
  const json_t* h = out->jws.header.get();
  if (!IsAcmeAlgorithm(out->jws.alg))
    return BadSignatureAlgorithm("unsupported JWS algorithm; use one of ES256, ES384, ES512, RS256, RS384, RS512, PS256, PS384, PS512, EdDSA");
  const json_t* nonce = json_object_get(h, "nonce");
  if (nonce != nullptr) {
    if (!json_is_string(nonce)) return Malformed("nonce must be a string");
    out->has_nonce = true;
    out->nonce = json_string_value(nonce);
  }
  const char* url = StringMember(h, "url");
  if (url == nullptr) return Malformed("the JWS protected header needs a url");
  out->url = url;
  return ParseKeyMembers(h, mode, out);
}

Problem ParseFlatJwsObject(const json_t* obj, FlatJws* out) {
  Problem p = ParseMembers(obj, out);
  if (!p.ok()) return p;
  const json_t* h = out->jws.header.get();
  const json_t* nonce = json_object_get(h, "nonce");
  if (nonce != nullptr) {
    out->has_nonce = true;
    out->nonce = json_is_string(nonce) ? json_string_value(nonce) : "";
  }
  const char* url = StringMember(h, "url");
  if (url != nullptr) out->url = url;
  const json_t* kid = json_object_get(h, "kid");
  if (json_is_string(kid)) out->kid = json_string_value(kid);
  const json_t* jwk = json_object_get(h, "jwk");
  if (jwk != nullptr) {
    auto parsed = ParseJwk(jwk);
    if (!parsed.ok()) return Malformed("invalid jwk: " + parsed.status().message());
    if (parsed->has_private) return Malformed("the jwk holds a private key");
    out->jwk = std::move(parsed).value();
  }
  return Problem::Ok();
}

Problem VerifyFlatJws(const FlatJws& jws, EVP_PKEY* key) {
  auto allowed = AllowedAlgorithms(key);
  bool ok = false;
  for (auto& a : allowed) ok = ok || a == jws.jws.alg;
  if (!ok) return BadSignatureAlgorithm("the JWS algorithm does not match the key");
  Status st = VerifyJws(jws.jws, key);
  if (!st.ok()) {
    Problem p = Malformed("JWS verification error");
    p.log = st.message();
    return p;
  }
  return Problem::Ok();
}

namespace {

const EVP_MD* DigestFor(std::string_view alg) {
  if (alg == "EdDSA") return nullptr;
  if (alg.size() == 5 && alg.substr(2) == "256") return EVP_sha256();
  if (alg.size() == 5 && alg.substr(2) == "384") return EVP_sha384();
  return EVP_sha512();
}

Result<std::string> SignRaw(const std::string& input, const std::string& alg, EVP_PKEY* key) {
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  if (!ctx || EVP_DigestSignInit(ctx.get(), &pctx, DigestFor(alg), nullptr, key) != 1)
    return InvalidArgument("acme jws: cannot sign: " + OpensslError());
  if (alg[0] == 'P') {
    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST);
  }
  const auto* in = reinterpret_cast<const unsigned char*>(input.data());
  size_t n = 0;
  if (EVP_DigestSign(ctx.get(), nullptr, &n, in, input.size()) != 1)
    return InvalidArgument("acme jws: cannot sign: " + OpensslError());
  std::string sig(n, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &n, in,
                     input.size()) != 1)
    return InvalidArgument("acme jws: cannot sign: " + OpensslError());
  sig.resize(n);
  if (alg[0] == 'E' && alg != "EdDSA") {
    const unsigned char* p = reinterpret_cast<const unsigned char*>(sig.data());
    EcdsaSigPtr es(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size())));
    if (!es) return Internal("acme jws: bad ECDSA signature");
    const size_t size = alg == "ES256" ? 32 : alg == "ES384" ? 48 : 66;
    std::string raw(2 * size, '\0');
    BN_bn2binpad(ECDSA_SIG_get0_r(es.get()), reinterpret_cast<unsigned char*>(&raw[0]), size);
    BN_bn2binpad(ECDSA_SIG_get0_s(es.get()), reinterpret_cast<unsigned char*>(&raw[size]), size);
    sig = raw;
  }
  return sig;
}

}  // namespace

std::string FlatJwsText(const std::string& protected_b64, const std::string& payload_b64,
                        const std::string& signature) {
  JsonPtr o(json_pack("{s:s,s:s,s:s}", "protected", protected_b64.c_str(), "payload",
                      payload_b64.c_str(), "signature", Base64UrlEncode(signature).c_str()));
  char* t = json_dumps(o.get(), JSON_COMPACT | JSON_PRESERVE_ORDER);
  std::string out = t ? t : "";
  std::free(t);
  return out;
}

Result<std::string> SignFlatJws(json_t* header, std::string_view payload, EVP_PKEY* key) {
  JsonPtr h(json_deep_copy(header));
  const json_t* alg = json_object_get(h.get(), "alg");
  std::string alg_s = json_is_string(alg) ? json_string_value(alg) : "";
  if (alg_s.empty()) {
    auto allowed = AllowedAlgorithms(key);
    if (allowed.empty()) return InvalidArgument("acme jws: unsupported key");
    alg_s = allowed[0];
    json_object_set_new(h.get(), "alg", json_string(alg_s.c_str()));
  }
  char* hs = json_dumps(h.get(), JSON_COMPACT | JSON_PRESERVE_ORDER);
  std::string prot = Base64UrlEncode(hs ? hs : "");
  std::free(hs);
  std::string pay = Base64UrlEncode(payload);
  STEPCA_ASSIGN_OR_RETURN(std::string sig, SignRaw(prot + "." + pay, alg_s, key));
  return FlatJwsText(prot, pay, sig);
}

std::string HmacSign(std::string_view alg, std::string_view key, std::string_view data) {
  const EVP_MD* md = alg == "HS256" ? EVP_sha256() : alg == "HS384" ? EVP_sha384()
                   : alg == "HS512" ? EVP_sha512() : nullptr;
  if (md == nullptr) return "";
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (HMAC(md, key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &n) == nullptr)
    return "";
  return std::string(reinterpret_cast<char*>(out), n);
}

}  // namespace acme
}  // namespace stepca
