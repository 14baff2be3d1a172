// Shared by the fuzz targets and the seed generator: the fixture files and
// the fixed keys the JOSE targets verify and decrypt with. Test keys only.
#ifndef STEPCA_FUZZ_FUZZ_COMMON_H
#define STEPCA_FUZZ_FUZZ_COMMON_H

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

#include "authority/jose/jwk.h"
#include "authority/ossl.h"

namespace stepca {
namespace fuzz {

// The provisioner key's password (the fixture's), used by fuzz_jwe.
constexpr const char* kJwePassword = "fixture-provisioner-password";
// fuzz_jwe skips inputs whose p2c is above this, so that one run is
// milliseconds; the parser's own floor is 1000.
constexpr long long kFuzzMaxP2c = 2000;

inline std::string FixturesDir() { return STEPCA_FIXTURES_DIR; }
inline std::string SourceDir() { return STEPCA_SOURCE_DIR; }

inline std::string ReadFileOrDie(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "fuzz: cannot read %s\n", path.c_str());
    std::abort();
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The JWK provisioner's public key (ES256) from the fixture ca.json; the
// fixture tokens in wire/*.token verify with it.
inline EvpPkeyPtr ProvisionerPublicKey() {
  json_error_t err;
  const std::string path = FixturesDir() + "/pki/config/ca.json";
  JsonPtr root(json_load_file(path.c_str(), 0, &err));
  const json_t* p = json_array_get(
      json_object_get(json_object_get(root.get(), "authority"), "provisioners"), 0);
  auto jwk = ParseJwk(json_object_get(p, "key"));
  if (!jwk.ok()) std::abort();
  return std::move(jwk.value().key);
}

// An Ed25519 key from a constant seed.
inline EvpPkeyPtr FixedEd25519Key() {
  uint8_t seed[32];
  for (int i = 0; i < 32; ++i) seed[i] = static_cast<uint8_t>(0x42 + i);
  EvpPkeyPtr k(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed, sizeof seed));
  if (!k) std::abort();
  return k;
}

// RSA-2048 from fuzz/testdata/rsa2048.pem.
inline EvpPkeyPtr FixedRsaKey() {
  const std::string pem = ReadFileOrDie(SourceDir() + "/fuzz/testdata/rsa2048.pem");
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  EvpPkeyPtr k(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!k) std::abort();
  return k;
}

}  // namespace fuzz
}  // namespace stepca

#endif  // STEPCA_FUZZ_FUZZ_COMMON_H
