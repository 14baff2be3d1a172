#include "authority/ssh/public_key.h"

#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/sha.h>

#include <vector>

#include "authority/ssh/wire.h"
#include "shared/base64.h"

namespace stepca::ssh {
namespace {

using ParamBldPtr = OsslPtr<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>;
using ParamPtr = OsslPtr<OSSL_PARAM, OSSL_PARAM_free>;

struct Curve {
  const char* ssh_name;   // in "ecdsa-sha2-<ssh_name>"
  const char* ossl_name;  // OSSL_PKEY_PARAM_GROUP_NAME
  size_t point_size;      // uncompressed point bytes
};

constexpr Curve kCurves[] = {
    {"nistp256", "prime256v1", 65},
    {"nistp384", "secp384r1", 97},
    {"nistp521", "secp521r1", 133},
};

Result<EvpPkeyPtr> FromParams(const char* type, OSSL_PARAM_BLD* bld) {
  ParamPtr params(OSSL_PARAM_BLD_to_param(bld));
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* raw = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) != 1)
    return InvalidArgument("invalid key: " + OpensslError());
  return EvpPkeyPtr(raw);
}

Result<EvpPkeyPtr> EcKey(const Curve& c, std::string_view point) {
  if (point.size() != c.point_size || point[0] != 0x04)
    return InvalidArgument("ssh: invalid ecdsa point");
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, c.ossl_name, 0);
  OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size());
  auto key = FromParams("EC", bld.get());
  if (!key.ok()) return InvalidArgument("ssh: invalid ecdsa point");
  // fromdata does not check the point is on the curve; the public check does.
  EvpPkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, key->get(), nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1)
    return InvalidArgument("ssh: invalid ecdsa point");
  return key;
}

Result<EvpPkeyPtr> RsaKey(std::string_view e, std::string_view n) {
  if (e.empty() || n.empty()) return InvalidArgument("ssh: invalid rsa key");
  BignumPtr bn_e(BN_bin2bn(reinterpret_cast<const unsigned char*>(e.data()), e.size(), nullptr));
  BignumPtr bn_n(BN_bin2bn(reinterpret_cast<const unsigned char*>(n.data()), n.size(), nullptr));
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get());
  OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get());
  return FromParams("RSA", bld.get());
}

}  // namespace

std::string BlobType(std::string_view blob) {
  WireReader r(blob);
  std::string_view t;
  return r.String(&t) ? std::string(t) : std::string();
}

Result<PublicKey> ParsePublicKeyBlob(std::string_view blob) {
  WireReader r(blob);
  std::string_view type;
  if (!r.String(&type) || type.empty()) return InvalidArgument("ssh: short read");
  PublicKey out;
  out.type = std::string(type);
  out.blob = std::string(blob);
  if (type == "ssh-ed25519") {
    std::string_view pk;
    if (!r.String(&pk) || pk.size() != 32 || !r.empty()) return InvalidArgument("ssh: invalid ed25519 key");
    out.key.reset(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr,
                                              reinterpret_cast<const unsigned char*>(pk.data()), 32));
    if (!out.key) return InvalidArgument("ssh: invalid ed25519 key");
    return out;
  }
  if (type == "ssh-rsa") {
    std::string_view e, n;
    if (!r.MpintPositive(&e) || !r.MpintPositive(&n) || !r.empty())
      return InvalidArgument("ssh: invalid rsa key");
    STEPCA_ASSIGN_OR_RETURN(out.key, RsaKey(e, n));
    return out;
  }
  for (const Curve& c : kCurves) {
    if (type != std::string("ecdsa-sha2-") + c.ssh_name) continue;
    std::string_view curve, point;
    if (!r.String(&curve) || !r.String(&point) || !r.empty() || curve != c.ssh_name)
      return InvalidArgument("ssh: invalid ecdsa key");
    STEPCA_ASSIGN_OR_RETURN(out.key, EcKey(c, point));
    return out;
  }
  std::string shown(type.substr(0, 64));
  for (char& ch : shown)
    if (ch < 0x20 || ch > 0x7e) ch = '?';
  return InvalidArgument("ssh: unknown key algorithm: " + shown);
}

Result<PublicKey> ParseAuthorizedKey(std::string_view line) {
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  size_t sp = line.find(' ');
  if (sp == std::string_view::npos) return InvalidArgument("ssh: no key found");
  std::string_view type = line.substr(0, sp);
  std::string_view rest = line.substr(sp + 1);
  size_t end = rest.find(' ');
  std::string_view b64 = rest.substr(0, end);
  auto blob = Base64Decode(b64);
  if (!blob) return InvalidArgument("ssh: no key found");
  STEPCA_ASSIGN_OR_RETURN(PublicKey k, ParsePublicKeyBlob(*blob));
  if (k.type != type) return InvalidArgument("ssh: key type does not match its blob");
  return k;
}

Result<std::string> MarshalPublicKey(EVP_PKEY* key) {
  WireWriter w;
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_ED25519: {
      unsigned char pk[32];
      size_t n = sizeof pk;
      if (EVP_PKEY_get_raw_public_key(key, pk, &n) != 1 || n != 32)
        return InvalidArgument("ssh: cannot read ed25519 key");
      w.String("ssh-ed25519");
      w.String(std::string_view(reinterpret_cast<char*>(pk), n));
      return w.Take();
    }
    case EVP_PKEY_RSA: {
      BIGNUM* n = nullptr;
      BIGNUM* e = nullptr;
      if (EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n) != 1 ||
          EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_E, &e) != 1) {
        BN_free(n);
        BN_free(e);
        return InvalidArgument("ssh: cannot read rsa key");
      }
      BignumPtr np(n), ep(e);
      w.String("ssh-rsa");
      w.Mpint(ep.get());
      w.Mpint(np.get());
      return w.Take();
    }
    case EVP_PKEY_EC: {
      char group[64] = "";
      size_t glen = 0;
      if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group,
                                         &glen) != 1)
        return InvalidArgument("ssh: cannot read ec key");
      for (const Curve& c : kCurves) {
        if (std::string_view(group) != c.ossl_name) continue;
        std::vector<unsigned char> point(c.point_size);
        size_t plen = 0;
        if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, point.data(),
                                            point.size(), &plen) != 1 ||
            plen != c.point_size)
          return InvalidArgument("ssh: cannot read ec key");
        w.String(std::string("ecdsa-sha2-") + c.ssh_name);
        w.String(c.ssh_name);
        w.String(std::string_view(reinterpret_cast<char*>(point.data()), plen));
        return w.Take();
      }
      return InvalidArgument(std::string("ssh: unsupported curve ") + group);
    }
    default:
      return InvalidArgument("ssh: unsupported key type");
  }
}

std::string AuthorizedKeyLine(std::string_view blob) {
  return BlobType(blob) + " " + Base64Encode(blob);
}

std::string Fingerprint(std::string_view blob) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(blob.data()), blob.size(), md);
  std::string b64 = Base64Encode(std::string_view(reinterpret_cast<char*>(md), sizeof md));
  while (!b64.empty() && b64.back() == '=') b64.pop_back();
  return "SHA256:" + b64;
}

}  // namespace stepca::ssh
