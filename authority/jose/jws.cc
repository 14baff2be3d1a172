#include "authority/jose/jws.h"

#include <openssl/core_names.h>
#include <openssl/rsa.h>
#include <openssl/sha.h>

#include <algorithm>

#include "authority/jose/jwk.h"
#include "shared/base64.h"

namespace stepca {

namespace {

// Tokens are small; anything larger is refused before decoding.
constexpr size_t kMaxTokenSize = 64 * 1024;

enum class AlgFamily { kEcdsa, kEdDsa, kRsaPkcs1, kRsaPss };

struct AlgInfo {
  const char* name;
  AlgFamily family;
  const EVP_MD* (*md)();  // nullptr for EdDSA
};

const EVP_MD* NoMd() { return nullptr; }

constexpr AlgInfo kAlgs[] = {
    {"ES256", AlgFamily::kEcdsa, EVP_sha256},
    {"ES384", AlgFamily::kEcdsa, EVP_sha384},
    {"ES512", AlgFamily::kEcdsa, EVP_sha512},
    {"EdDSA", AlgFamily::kEdDsa, NoMd},
    {"RS256", AlgFamily::kRsaPkcs1, EVP_sha256},
    {"RS384", AlgFamily::kRsaPkcs1, EVP_sha384},
    {"RS512", AlgFamily::kRsaPkcs1, EVP_sha512},
    {"PS256", AlgFamily::kRsaPss, EVP_sha256},
    {"PS384", AlgFamily::kRsaPss, EVP_sha384},
    {"PS512", AlgFamily::kRsaPss, EVP_sha512},
};

const AlgInfo* FindAlg(std::string_view name) {
  for (const auto& a : kAlgs) {
    if (name == a.name) return &a;
  }
  return nullptr;
}

std::vector<std::string> AllowedFor(const JoseKeyInfo& info) {
  if (info.kty == "EC") {
    if (info.crv == "P-256") return {"ES256"};
    if (info.crv == "P-384") return {"ES384"};
    if (info.crv == "P-521") return {"ES512"};
    return {};
  }
  if (info.kty == "OKP" && info.crv == "Ed25519") return {"EdDSA"};
  if (info.kty == "RSA") {
    return {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"};
  }
  return {};
}

Result<JsonPtr> ParseJsonObject(const std::string& bytes, const char* what) {
  json_error_t err;
  JsonPtr v(json_loadb(bytes.data(), bytes.size(), JSON_REJECT_DUPLICATES, &err));
  if (!v) return InvalidArgument(std::string("jws: ") + what + " is not valid JSON");
  if (!json_is_object(v.get())) {
    return InvalidArgument(std::string("jws: ") + what + " is not a JSON object");
  }
  return v;
}

// Sets up ctx for RSA-PSS with salt length = hash length (RFC 7518 3.5).
Status SetupPss(EVP_PKEY_CTX* pctx) {
  if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
      EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1) {
    return Internal("jws: " + OpensslError());
  }
  return Status::Ok();
}

// JOSE r||s (each coord_size bytes) to DER ECDSA-Sig-Value.
Result<std::string> RawEcdsaToDer(const std::string& raw, size_t coord_size) {
  const auto* p = reinterpret_cast<const uint8_t*>(raw.data());
  BignumPtr r(BN_bin2bn(p, static_cast<int>(coord_size), nullptr));
  BignumPtr s(BN_bin2bn(p + coord_size, static_cast<int>(coord_size), nullptr));
  EcdsaSigPtr sig(ECDSA_SIG_new());
  if (!r || !s || !sig || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) {
    return Internal("jws: " + OpensslError());
  }
  r.release();  // now owned by sig
  s.release();
  uint8_t* der = nullptr;
  int len = i2d_ECDSA_SIG(sig.get(), &der);
  if (len <= 0) return Internal("jws: " + OpensslError());
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

// DER ECDSA-Sig-Value to JOSE r||s.
Result<std::string> DerEcdsaToRaw(const std::string& der, size_t coord_size) {
  const auto* p = reinterpret_cast<const uint8_t*>(der.data());
  EcdsaSigPtr sig(d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())));
  if (!sig) return Internal("jws: " + OpensslError());
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  std::string out(2 * coord_size, '\0');
  auto* o = reinterpret_cast<uint8_t*>(out.data());
  if (BN_bn2binpad(r, o, static_cast<int>(coord_size)) < 0 ||
      BN_bn2binpad(s, o + coord_size, static_cast<int>(coord_size)) < 0) {
    return Internal("jws: ECDSA signature value too large");
  }
  return out;
}

}  // namespace

Result<Jws> ParseCompactJws(std::string_view token) {
  if (token.empty()) return InvalidArgument("jws: empty token");
  if (token.size() > kMaxTokenSize) return InvalidArgument("jws: token too large");
  size_t dot1 = token.find('.');
  if (dot1 == std::string_view::npos) return InvalidArgument("jws: not a compact JWS");
  size_t dot2 = token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return InvalidArgument("jws: a compact JWS has exactly three parts");
  }
  std::string_view h64 = token.substr(0, dot1);
  std::string_view p64 = token.substr(dot1 + 1, dot2 - dot1 - 1);
  std::string_view s64 = token.substr(dot2 + 1);

  auto header_bytes = Base64UrlDecode(h64);
  if (!header_bytes || header_bytes->empty()) {
    return InvalidArgument("jws: header is not base64url");
  }
  auto payload_bytes = Base64UrlDecode(p64);
  if (!payload_bytes || payload_bytes->empty()) {
    return InvalidArgument("jws: payload is not base64url");
  }
  auto signature = Base64UrlDecode(s64);
  if (!signature) return InvalidArgument("jws: signature is not base64url");
  if (signature->empty()) return InvalidArgument("jws: missing signature");

  Jws jws;
  STEPCA_ASSIGN_OR_RETURN(jws.header, ParseJsonObject(*header_bytes, "header"));
  STEPCA_ASSIGN_OR_RETURN(jws.payload, ParseJsonObject(*payload_bytes, "payload"));

  const json_t* alg = json_object_get(jws.header.get(), "alg");
  if (!json_is_string(alg)) return InvalidArgument("jws: header has no \"alg\" string");
  jws.alg.assign(json_string_value(alg), json_string_length(alg));
  if (jws.alg.empty()) return InvalidArgument("jws: empty \"alg\"");
  // No extension is understood, so any "crit" makes the token unprocessable
  // (RFC 7515 4.1.11).
  if (json_object_get(jws.header.get(), "crit") != nullptr) {
    return InvalidArgument("jws: unsupported \"crit\" header");
  }

  jws.signing_input.assign(token.data(), dot2);
  jws.signature = std::move(*signature);
  jws.payload_bytes = std::move(*payload_bytes);
  return jws;
}

std::vector<std::string> AllowedAlgorithms(EVP_PKEY* key) {
  auto info = DescribeJoseKey(key);
  if (!info.ok()) return {};
  return AllowedFor(*info);
}

Status VerifyJws(const Jws& jws, EVP_PKEY* key) {
  auto info = DescribeJoseKey(key);
  if (!info.ok()) return Unauthenticated("jws: unsupported verification key");
  std::vector<std::string> allowed = AllowedFor(*info);
  if (std::find(allowed.begin(), allowed.end(), jws.alg) == allowed.end()) {
    return Unauthenticated("jws: algorithm not allowed for this key");
  }
  const AlgInfo* alg = FindAlg(jws.alg);
  if (alg == nullptr) return Unauthenticated("jws: unsupported algorithm");

  std::string sig;
  switch (alg->family) {
    case AlgFamily::kEcdsa: {
      if (jws.signature.size() != 2 * info->coord_size) {
        return Unauthenticated("jws: ECDSA signature has the wrong size");
      }
      auto der = RawEcdsaToDer(jws.signature, info->coord_size);
      if (!der.ok()) return Unauthenticated("jws: invalid ECDSA signature");
      sig = std::move(der).value();
      break;
    }
    case AlgFamily::kEdDsa:
      if (jws.signature.size() != 64) {
        return Unauthenticated("jws: EdDSA signature has the wrong size");
      }
      sig = jws.signature;
      break;
    case AlgFamily::kRsaPkcs1:
    case AlgFamily::kRsaPss:
      if (jws.signature.size() != static_cast<size_t>((info->bits + 7) / 8)) {
        return Unauthenticated("jws: RSA signature has the wrong size");
      }
      sig = jws.signature;
      break;
  }

  EvpMdCtxPtr md_ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;  // owned by md_ctx
  if (!md_ctx ||
      EVP_DigestVerifyInit(md_ctx.get(), &pctx, alg->md(), nullptr, key) != 1) {
    OpensslError();
    return Unauthenticated("jws: cannot verify with this key");
  }
  if (alg->family == AlgFamily::kRsaPss) {
    Status st = SetupPss(pctx);
    if (!st.ok()) return Unauthenticated(st.message());
  }
  int rc = EVP_DigestVerify(
      md_ctx.get(), reinterpret_cast<const uint8_t*>(sig.data()), sig.size(),
      reinterpret_cast<const uint8_t*>(jws.signing_input.data()),
      jws.signing_input.size());
  if (rc != 1) {
    OpensslError();
    return Unauthenticated("jws: invalid signature");
  }
  return Status::Ok();
}

Result<std::string> SignCompactJws(const json_t* header, const json_t* payload,
                                   EVP_PKEY* key, const std::string& alg_name) {
  if (header != nullptr && !json_is_object(header)) {
    return InvalidArgument("jws: header must be a JSON object");
  }
  if (!json_is_object(payload)) return InvalidArgument("jws: payload must be a JSON object");
  STEPCA_ASSIGN_OR_RETURN(JoseKeyInfo info, DescribeJoseKey(key));
  std::vector<std::string> allowed = AllowedFor(info);
  if (allowed.empty()) return InvalidArgument("jws: unsupported signing key");
  std::string chosen = alg_name.empty() ? allowed.front() : alg_name;
  if (std::find(allowed.begin(), allowed.end(), chosen) == allowed.end()) {
    return InvalidArgument("jws: algorithm not allowed for this key");
  }
  const AlgInfo* alg = FindAlg(chosen);
  if (alg == nullptr) return InvalidArgument("jws: unsupported algorithm");

  // "alg" goes first, as step writes it; other members keep their order.
  JsonPtr hdr(json_object());
  if (!hdr || json_object_set_new(hdr.get(), "alg", json_string(chosen.c_str())) != 0) {
    return Internal("jws: out of memory");
  }
  if (header != nullptr) {
    const char* k;
    json_t* v;
    json_object_foreach(const_cast<json_t*>(header), k, v) {
      if (std::string_view(k) == "alg") continue;
      if (json_object_set(hdr.get(), k, v) != 0) return Internal("jws: out of memory");
    }
  }
  char* h_text = json_dumps(hdr.get(), JSON_COMPACT);
  char* p_text = json_dumps(payload, JSON_COMPACT);
  std::string h_json = h_text ? h_text : "";
  std::string p_json = p_text ? p_text : "";
  free(h_text);
  free(p_text);
  if (h_json.empty() || p_json.empty()) return Internal("jws: cannot serialise JSON");

  std::string signing_input = Base64UrlEncode(h_json) + "." + Base64UrlEncode(p_json);

  EvpMdCtxPtr md_ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  if (!md_ctx || EVP_DigestSignInit(md_ctx.get(), &pctx, alg->md(), nullptr, key) != 1) {
    return InvalidArgument("jws: cannot sign with this key: " + OpensslError());
  }
  if (alg->family == AlgFamily::kRsaPss) STEPCA_RETURN_IF_ERROR(SetupPss(pctx));
  const auto* in = reinterpret_cast<const uint8_t*>(signing_input.data());
  size_t sig_len = 0;
  if (EVP_DigestSign(md_ctx.get(), nullptr, &sig_len, in, signing_input.size()) != 1) {
    return InvalidArgument("jws: cannot sign with this key: " + OpensslError());
  }
  std::string sig(sig_len, '\0');
  if (EVP_DigestSign(md_ctx.get(), reinterpret_cast<uint8_t*>(sig.data()), &sig_len,
                     in, signing_input.size()) != 1) {
    return InvalidArgument("jws: signing failed: " + OpensslError());
  }
  sig.resize(sig_len);
  if (alg->family == AlgFamily::kEcdsa) {
    STEPCA_ASSIGN_OR_RETURN(sig, DerEcdsaToRaw(sig, info.coord_size));
  }
  return signing_input + "." + Base64UrlEncode(sig);
}

std::string CanonicalTokenId(const Jws& jws) {
  // The signing input is canonical already (strict base64url), but decode it
  // again so the id is a function of the bytes alone. Length-prefix the
  // header so the concatenation is unambiguous.
  std::string header_bytes;
  size_t dot = jws.signing_input.find('.');
  if (dot != std::string::npos) {
    auto h = Base64UrlDecode(std::string_view(jws.signing_input).substr(0, dot));
    if (h) header_bytes = std::move(*h);
  }
  uint8_t len[8];
  uint64_t n = header_bytes.size();
  for (int i = 7; i >= 0; --i, n >>= 8) len[i] = static_cast<uint8_t>(n & 0xff);

  std::string digest(SHA256_DIGEST_LENGTH, '\0');
  EvpMdCtxPtr ctx(EVP_MD_CTX_new());
  unsigned int out_len = 0;
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), len, sizeof len) != 1 ||
      EVP_DigestUpdate(ctx.get(), header_bytes.data(), header_bytes.size()) != 1 ||
      EVP_DigestUpdate(ctx.get(), jws.payload_bytes.data(), jws.payload_bytes.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), reinterpret_cast<uint8_t*>(digest.data()), &out_len) != 1) {
    // Fall back on hashing the signing input; never an empty, shared id.
    OpensslError();
    SHA256(reinterpret_cast<const uint8_t*>(jws.signing_input.data()),
           jws.signing_input.size(), reinterpret_cast<uint8_t*>(digest.data()));
  }
  return HexEncode(digest);
}

}  // namespace stepca
