#include "authority/jose/jwk.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/param_build.h>
#include <openssl/sha.h>

#include <optional>

#include "shared/base64.h"

namespace stepca {

namespace {

using ParamBldPtr = OsslPtr<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>;
using ParamsPtr = OsslPtr<OSSL_PARAM, OSSL_PARAM_free>;

constexpr int kMinRsaBits = 2048;
constexpr int kMaxRsaBits = 8192;

struct CurveInfo {
  const char* jose_name;
  const char* ossl_name;
  size_t coord_size;
};

constexpr CurveInfo kCurves[] = {
    {"P-256", "prime256v1", 32},
    {"P-384", "secp384r1", 48},
    {"P-521", "secp521r1", 66},
};

const CurveInfo* CurveByJoseName(std::string_view name) {
  for (const auto& c : kCurves) {
    if (name == c.jose_name) return &c;
  }
  return nullptr;
}

const CurveInfo* CurveByOsslName(std::string_view name) {
  for (const auto& c : kCurves) {
    if (name == c.ossl_name) return &c;
  }
  // OpenSSL may also report NIST names.
  for (const auto& c : kCurves) {
    if (name == c.jose_name) return &c;
  }
  return nullptr;
}

// A JWK member: absent (nullopt), or a string. A present non-string is an
// error reported through *bad.
std::optional<std::string> StringMember(const json_t* obj, const char* name,
                                        bool* bad) {
  const json_t* v = json_object_get(obj, name);
  if (v == nullptr) return std::nullopt;
  if (!json_is_string(v)) {
    *bad = true;
    return std::nullopt;
  }
  return std::string(json_string_value(v), json_string_length(v));
}

// A required base64url member, decoded. exact_len 0 means any non-empty length.
Result<std::string> B64Member(const json_t* obj, const char* name,
                              size_t exact_len) {
  bool bad = false;
  auto text = StringMember(obj, name, &bad);
  if (bad || !text) {
    return InvalidArgument(std::string("jwk: missing or invalid \"") + name +
                           "\"");
  }
  auto bytes = Base64UrlDecode(*text);
  if (!bytes || bytes->empty()) {
    return InvalidArgument(std::string("jwk: \"") + name +
                           "\" is not base64url");
  }
  if (exact_len != 0 && bytes->size() != exact_len) {
    return InvalidArgument(std::string("jwk: \"") + name +
                           "\" has the wrong length");
  }
  return std::move(*bytes);
}

BignumPtr BnFromBytes(const std::string& bytes) {
  return BignumPtr(BN_bin2bn(reinterpret_cast<const uint8_t*>(bytes.data()),
                             static_cast<int>(bytes.size()), nullptr));
}

// Minimal big-endian bytes (no leading zeros), as JWK wants for n and e.
std::string BnToBytes(const BIGNUM* bn) {
  std::string out(static_cast<size_t>(BN_num_bytes(bn)), '\0');
  BN_bn2bin(bn, reinterpret_cast<uint8_t*>(out.data()));
  return out;
}

std::optional<std::string> BnToPadded(const BIGNUM* bn, size_t size) {
  std::string out(size, '\0');
  if (BN_bn2binpad(bn, reinterpret_cast<uint8_t*>(out.data()),
                   static_cast<int>(size)) < 0) {
    return std::nullopt;
  }
  return out;
}

BignumPtr GetBnParam(EVP_PKEY* key, const char* name) {
  BIGNUM* bn = nullptr;
  if (EVP_PKEY_get_bn_param(key, name, &bn) != 1) return nullptr;
  return BignumPtr(bn);
}

Result<EvpPkeyPtr> FromData(const char* type, int selection,
                            OSSL_PARAM_BLD* bld) {
  ParamsPtr params(OSSL_PARAM_BLD_to_param(bld));
  if (!params) return Internal("jwk: " + OpensslError());
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1) {
    return Internal("jwk: " + OpensslError());
  }
  EVP_PKEY* raw = nullptr;
  if (EVP_PKEY_fromdata(ctx.get(), &raw, selection, params.get()) != 1) {
    return InvalidArgument("jwk: invalid key: " + OpensslError());
  }
  return EvpPkeyPtr(raw);
}

// Full checks on an imported key: public part valid (EC: on the curve, in the
// subgroup) and, with a private part, the two belong together.
Status CheckKey(EVP_PKEY* key, bool has_private) {
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr));
  if (!ctx) return Internal("jwk: " + OpensslError());
  if (EVP_PKEY_public_check(ctx.get()) != 1) {
    OpensslError();
    return InvalidArgument("jwk: invalid public key");
  }
  if (has_private && EVP_PKEY_pairwise_check(ctx.get()) != 1) {
    OpensslError();
    return InvalidArgument("jwk: private key does not match public key");
  }
  return Status::Ok();
}

Result<Jwk> ParseEc(const json_t* obj, Jwk jwk) {
  const CurveInfo* curve = CurveByJoseName(jwk.crv);
  if (curve == nullptr) return InvalidArgument("jwk: unsupported EC curve");
  STEPCA_ASSIGN_OR_RETURN(std::string x, B64Member(obj, "x", curve->coord_size));
  STEPCA_ASSIGN_OR_RETURN(std::string y, B64Member(obj, "y", curve->coord_size));
  std::string point;
  point.reserve(1 + 2 * curve->coord_size);
  point.push_back('\x04');
  point += x;
  point += y;

  std::string d;
  if (json_object_get(obj, "d") != nullptr) {
    STEPCA_ASSIGN_OR_RETURN(d, B64Member(obj, "d", curve->coord_size));
    jwk.has_private = true;
  }
  BignumPtr priv;
  if (jwk.has_private) {
    priv = BnFromBytes(d);
    Wipe(d);
    if (!priv) return Internal("jwk: " + OpensslError());
  }

  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld ||
      !OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME,
                                       curve->ossl_name, 0) ||
      !OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY,
                                        point.data(), point.size()) ||
      (priv && !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY,
                                       priv.get()))) {
    return Internal("jwk: " + OpensslError());
  }
  int selection = jwk.has_private ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY;
  STEPCA_ASSIGN_OR_RETURN(jwk.key, FromData("EC", selection, bld.get()));
  STEPCA_RETURN_IF_ERROR(CheckKey(jwk.key.get(), jwk.has_private));
  return jwk;
}

Result<Jwk> ParseOkp(const json_t* obj, Jwk jwk) {
  if (jwk.crv != "Ed25519") return InvalidArgument("jwk: unsupported OKP curve");
  STEPCA_ASSIGN_OR_RETURN(std::string x, B64Member(obj, "x", 32));
  if (json_object_get(obj, "d") != nullptr) {
    STEPCA_ASSIGN_OR_RETURN(std::string d, B64Member(obj, "d", 32));
    jwk.has_private = true;
    jwk.key.reset(EVP_PKEY_new_raw_private_key(
        EVP_PKEY_ED25519, nullptr, reinterpret_cast<const uint8_t*>(d.data()),
        d.size()));
    Wipe(d);
    if (!jwk.key) return InvalidArgument("jwk: invalid Ed25519 key");
    // The public key is derived from d; it must be the one given as x.
    std::string derived(32, '\0');
    size_t len = derived.size();
    if (EVP_PKEY_get_raw_public_key(
            jwk.key.get(), reinterpret_cast<uint8_t*>(derived.data()), &len) != 1 ||
        len != 32 || CRYPTO_memcmp(derived.data(), x.data(), 32) != 0) {
      OpensslError();
      return InvalidArgument("jwk: private key does not match public key");
    }
  } else {
    jwk.key.reset(EVP_PKEY_new_raw_public_key(
        EVP_PKEY_ED25519, nullptr, reinterpret_cast<const uint8_t*>(x.data()),
        x.size()));
    if (!jwk.key) {
      OpensslError();
      return InvalidArgument("jwk: invalid Ed25519 key");
    }
  }
  return jwk;
}

Result<Jwk> ParseRsa(const json_t* obj, Jwk jwk) {
  if (!jwk.crv.empty()) return InvalidArgument("jwk: RSA key with \"crv\"");
  STEPCA_ASSIGN_OR_RETURN(std::string n_bytes, B64Member(obj, "n", 0));
  STEPCA_ASSIGN_OR_RETURN(std::string e_bytes, B64Member(obj, "e", 0));
  BignumPtr n = BnFromBytes(n_bytes);
  BignumPtr e = BnFromBytes(e_bytes);
  if (!n || !e) return Internal("jwk: " + OpensslError());
  int bits = BN_num_bits(n.get());
  if (bits < kMinRsaBits) return InvalidArgument("jwk: RSA modulus under 2048 bits");
  if (bits > kMaxRsaBits) return InvalidArgument("jwk: RSA modulus too large");
  if (BN_num_bits(e.get()) > 32 || !BN_is_odd(e.get()) || BN_is_one(e.get())) {
    return InvalidArgument("jwk: invalid RSA exponent");
  }

  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld || !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) ||
      !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get())) {
    return Internal("jwk: " + OpensslError());
  }

  // Private keys need d, p and q; the CRT values are computed when absent.
  BignumPtr d, p, q, dp, dq, qi;
  if (json_object_get(obj, "d") != nullptr) {
    jwk.has_private = true;
    auto load = [&](const char* name, BignumPtr* out) -> Status {
      auto r = B64Member(obj, name, 0);
      if (!r.ok()) return r.status();
      out->reset(BN_bin2bn(reinterpret_cast<const uint8_t*>(r->data()),
                           static_cast<int>(r->size()), nullptr));
      Wipe(r.value());
      if (!*out) return Internal("jwk: " + OpensslError());
      BN_set_flags(out->get(), BN_FLG_CONSTTIME);
      return Status::Ok();
    };
    STEPCA_RETURN_IF_ERROR(load("d", &d));
    STEPCA_RETURN_IF_ERROR(load("p", &p));
    STEPCA_RETURN_IF_ERROR(load("q", &q));
    bool have_dp = json_object_get(obj, "dp") != nullptr;
    bool have_dq = json_object_get(obj, "dq") != nullptr;
    bool have_qi = json_object_get(obj, "qi") != nullptr;
    if (have_dp && have_dq && have_qi) {
      STEPCA_RETURN_IF_ERROR(load("dp", &dp));
      STEPCA_RETURN_IF_ERROR(load("dq", &dq));
      STEPCA_RETURN_IF_ERROR(load("qi", &qi));
    } else if (have_dp || have_dq || have_qi) {
      return InvalidArgument("jwk: incomplete RSA CRT values");
    } else {
      OsslPtr<BN_CTX, BN_CTX_free> bn_ctx(BN_CTX_new());
      BignumPtr p1(BN_dup(p.get())), q1(BN_dup(q.get()));
      dp.reset(BN_new());
      dq.reset(BN_new());
      if (!bn_ctx || !p1 || !q1 || !dp || !dq || !BN_sub_word(p1.get(), 1) ||
          !BN_sub_word(q1.get(), 1) ||
          !BN_mod(dp.get(), d.get(), p1.get(), bn_ctx.get()) ||
          !BN_mod(dq.get(), d.get(), q1.get(), bn_ctx.get())) {
        return Internal("jwk: " + OpensslError());
      }
      qi.reset(BN_mod_inverse(nullptr, q.get(), p.get(), bn_ctx.get()));
      if (!qi) {
        OpensslError();
        return InvalidArgument("jwk: invalid RSA private key");
      }
    }
    if (!OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_D, d.get()) ||
        !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_FACTOR1, p.get()) ||
        !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_FACTOR2, q.get()) ||
        !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_EXPONENT1, dp.get()) ||
        !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_EXPONENT2, dq.get()) ||
        !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_COEFFICIENT1, qi.get())) {
      return Internal("jwk: " + OpensslError());
    }
  }
  int selection = jwk.has_private ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY;
  auto key = FromData("RSA", selection, bld.get());
  for (BignumPtr* s : {&d, &p, &q, &dp, &dq, &qi}) {
    if (*s) BN_clear(s->get());
  }
  if (!key.ok()) return key.status();
  jwk.key = std::move(key).value();
  if (jwk.has_private) {
    EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, jwk.key.get(), nullptr));
    if (!ctx) return Internal("jwk: " + OpensslError());
    if (EVP_PKEY_check(ctx.get()) != 1) {
      OpensslError();
      return InvalidArgument("jwk: invalid RSA private key");
    }
  }
  return jwk;
}

std::string Sha256(std::string_view data) {
  std::string out(SHA256_DIGEST_LENGTH, '\0');
  SHA256(reinterpret_cast<const uint8_t*>(data.data()), data.size(),
         reinterpret_cast<uint8_t*>(out.data()));
  return out;
}

// The base64url public members of a key, as JWK names them.
struct PublicMembers {
  JoseKeyInfo info;
  std::string x, y;  // EC / OKP
  std::string n, e;  // RSA
};

Result<PublicMembers> GetPublicMembers(EVP_PKEY* key) {
  PublicMembers m;
  STEPCA_ASSIGN_OR_RETURN(m.info, DescribeJoseKey(key));
  if (m.info.kty == "EC") {
    BignumPtr x = GetBnParam(key, OSSL_PKEY_PARAM_EC_PUB_X);
    BignumPtr y = GetBnParam(key, OSSL_PKEY_PARAM_EC_PUB_Y);
    if (!x || !y) return Internal("jwk: " + OpensslError());
    auto xb = BnToPadded(x.get(), m.info.coord_size);
    auto yb = BnToPadded(y.get(), m.info.coord_size);
    if (!xb || !yb) return Internal("jwk: EC coordinate too large");
    m.x = Base64UrlEncode(*xb);
    m.y = Base64UrlEncode(*yb);
  } else if (m.info.kty == "OKP") {
    std::string raw(32, '\0');
    size_t len = raw.size();
    if (EVP_PKEY_get_raw_public_key(key, reinterpret_cast<uint8_t*>(raw.data()),
                                    &len) != 1 || len != 32) {
      return Internal("jwk: " + OpensslError());
    }
    m.x = Base64UrlEncode(raw);
  } else {
    BignumPtr n = GetBnParam(key, OSSL_PKEY_PARAM_RSA_N);
    BignumPtr e = GetBnParam(key, OSSL_PKEY_PARAM_RSA_E);
    if (!n || !e) return Internal("jwk: " + OpensslError());
    m.n = Base64UrlEncode(BnToBytes(n.get()));
    m.e = Base64UrlEncode(BnToBytes(e.get()));
  }
  return m;
}

Status SetString(json_t* obj, const char* name, const std::string& value) {
  if (json_object_set_new(obj, name, json_stringn(value.data(), value.size())) != 0) {
    return Internal("jwk: out of memory");
  }
  return Status::Ok();
}

// Adds a private BIGNUM member, base64url; padded to size when size > 0.
Status SetPrivateBn(json_t* obj, EVP_PKEY* key, const char* param,
                    const char* name, size_t size) {
  BignumPtr bn = GetBnParam(key, param);
  if (!bn) return InvalidArgument("jwk: key has no private part");
  std::string bytes;
  if (size > 0) {
    auto padded = BnToPadded(bn.get(), size);
    if (!padded) return Internal("jwk: private value too large");
    bytes = std::move(*padded);
  } else {
    bytes = BnToBytes(bn.get());
  }
  BN_clear(bn.get());
  std::string text = Base64UrlEncode(bytes);
  Wipe(bytes);
  Status st = SetString(obj, name, text);
  Wipe(text);
  return st;
}

}  // namespace

Result<JoseKeyInfo> DescribeJoseKey(EVP_PKEY* key) {
  if (key == nullptr) return InvalidArgument("jwk: no key");
  JoseKeyInfo info;
  if (EVP_PKEY_is_a(key, "EC")) {
    char name[64] = {0};
    size_t len = 0;
    if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, name,
                                       sizeof name, &len) != 1) {
      OpensslError();
      return InvalidArgument("jwk: EC key without a named curve");
    }
    const CurveInfo* curve = CurveByOsslName(std::string_view(name, len));
    if (curve == nullptr) return InvalidArgument("jwk: unsupported EC curve");
    info.kty = "EC";
    info.crv = curve->jose_name;
    info.coord_size = curve->coord_size;
    info.bits = EVP_PKEY_get_bits(key);
  } else if (EVP_PKEY_is_a(key, "ED25519")) {
    info.kty = "OKP";
    info.crv = "Ed25519";
    info.bits = 256;
  } else if (EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA) {
    info.kty = "RSA";
    info.bits = EVP_PKEY_get_bits(key);
    if (info.bits < kMinRsaBits) {
      return InvalidArgument("jwk: RSA modulus under 2048 bits");
    }
  } else {
    return InvalidArgument("jwk: unsupported key type");
  }
  return info;
}

Result<Jwk> ParseJwk(const json_t* obj) {
  if (!json_is_object(obj)) return InvalidArgument("jwk: not a JSON object");
  Jwk jwk;
  bool bad = false;
  auto kty = StringMember(obj, "kty", &bad);
  auto crv = StringMember(obj, "crv", &bad);
  auto alg = StringMember(obj, "alg", &bad);
  auto kid = StringMember(obj, "kid", &bad);
  if (bad) return InvalidArgument("jwk: kty, crv, alg and kid must be strings");
  if (!kty) return InvalidArgument("jwk: missing \"kty\"");
  jwk.kty = *kty;
  if (crv) jwk.crv = *crv;
  if (alg) jwk.alg = *alg;
  if (kid) jwk.kid = *kid;

  if (jwk.kty == "EC") return ParseEc(obj, std::move(jwk));
  if (jwk.kty == "OKP") return ParseOkp(obj, std::move(jwk));
  if (jwk.kty == "RSA") return ParseRsa(obj, std::move(jwk));
  if (jwk.kty == "oct") return InvalidArgument("jwk: symmetric keys are not accepted");
  return InvalidArgument("jwk: unsupported kty");
}

Result<Jwk> ParseJwkText(std::string_view json_text) {
  json_error_t err;
  JsonPtr obj(json_loadb(json_text.data(), json_text.size(),
                         JSON_REJECT_DUPLICATES, &err));
  if (!obj) return InvalidArgument("jwk: invalid JSON");
  return ParseJwk(obj.get());
}

Result<JsonPtr> JwkToJson(EVP_PKEY* key, bool include_private,
                          const std::string& kid, const std::string& alg) {
  STEPCA_ASSIGN_OR_RETURN(PublicMembers m, GetPublicMembers(key));
  JsonPtr obj(json_object());
  if (!obj) return Internal("jwk: out of memory");
  json_t* o = obj.get();
  // Member order as step writes it: use, kty, kid, crv, alg, then key values.
  if (!alg.empty()) STEPCA_RETURN_IF_ERROR(SetString(o, "use", "sig"));
  STEPCA_RETURN_IF_ERROR(SetString(o, "kty", m.info.kty));
  if (!kid.empty()) STEPCA_RETURN_IF_ERROR(SetString(o, "kid", kid));
  if (!m.info.crv.empty()) STEPCA_RETURN_IF_ERROR(SetString(o, "crv", m.info.crv));
  if (!alg.empty()) STEPCA_RETURN_IF_ERROR(SetString(o, "alg", alg));
  if (m.info.kty == "EC") {
    STEPCA_RETURN_IF_ERROR(SetString(o, "x", m.x));
    STEPCA_RETURN_IF_ERROR(SetString(o, "y", m.y));
    if (include_private) {
      STEPCA_RETURN_IF_ERROR(SetPrivateBn(o, key, OSSL_PKEY_PARAM_PRIV_KEY, "d",
                                          m.info.coord_size));
    }
  } else if (m.info.kty == "OKP") {
    STEPCA_RETURN_IF_ERROR(SetString(o, "x", m.x));
    if (include_private) {
      std::string raw(32, '\0');
      size_t len = raw.size();
      if (EVP_PKEY_get_raw_private_key(key, reinterpret_cast<uint8_t*>(raw.data()),
                                       &len) != 1 || len != 32) {
        OpensslError();
        return InvalidArgument("jwk: key has no private part");
      }
      std::string text = Base64UrlEncode(raw);
      Wipe(raw);
      Status st = SetString(o, "d", text);
      Wipe(text);
      STEPCA_RETURN_IF_ERROR(st);
    }
  } else {
    STEPCA_RETURN_IF_ERROR(SetString(o, "n", m.n));
    STEPCA_RETURN_IF_ERROR(SetString(o, "e", m.e));
    if (include_private) {
      static const std::pair<const char*, const char*> kMembers[] = {
          {OSSL_PKEY_PARAM_RSA_D, "d"},
          {OSSL_PKEY_PARAM_RSA_FACTOR1, "p"},
          {OSSL_PKEY_PARAM_RSA_FACTOR2, "q"},
          {OSSL_PKEY_PARAM_RSA_EXPONENT1, "dp"},
          {OSSL_PKEY_PARAM_RSA_EXPONENT2, "dq"},
          {OSSL_PKEY_PARAM_RSA_COEFFICIENT1, "qi"},
      };
      for (const auto& [param, name] : kMembers) {
        STEPCA_RETURN_IF_ERROR(SetPrivateBn(o, key, param, name, 0));
      }
    }
  }
  return obj;
}

Result<std::string> JwkThumbprint(EVP_PKEY* key) {
  STEPCA_ASSIGN_OR_RETURN(PublicMembers m, GetPublicMembers(key));
  // RFC 7638 section 3.2: required members only, lexicographic order, no
  // whitespace. All values are base64url or fixed names: nothing to escape.
  std::string canonical;
  if (m.info.kty == "EC") {
    canonical = "{\"crv\":\"" + m.info.crv + "\",\"kty\":\"EC\",\"x\":\"" + m.x +
                "\",\"y\":\"" + m.y + "\"}";
  } else if (m.info.kty == "OKP") {
    canonical = "{\"crv\":\"" + m.info.crv + "\",\"kty\":\"OKP\",\"x\":\"" + m.x +
                "\"}";
  } else {
    canonical = "{\"e\":\"" + m.e + "\",\"kty\":\"RSA\",\"n\":\"" + m.n + "\"}";
  }
  return Base64UrlEncode(Sha256(canonical));
}

}  // namespace stepca
