// DecryptPbes2Jwe with the fixed password. Inputs whose header asks for
// more than kFuzzMaxP2c PBKDF2 iterations are refused (-1: not added to the
// corpus) so that each run stays in the milliseconds; the seeds (from
// fuzz_seedgen) are real JWEs with p2c 1000 that decrypt, so the key
// unwrap, GCM and plaintext paths are reached.
#include <jansson.h>

#include <cstdint>
#include <cstdlib>

#include "authority/jose/jwe.h"
#include "fuzz/fuzz_common.h"
#include "shared/base64.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view jwe(reinterpret_cast<const char*>(data), size);
  size_t dot = jwe.find('.');
  if (auto header = stepca::Base64UrlDecode(jwe.substr(0, dot))) {
    json_error_t err;
    stepca::JsonPtr h(json_loadb(header->data(), header->size(), 0, &err));
    const json_t* p2c = json_object_get(h.get(), "p2c");
    if (json_is_integer(p2c) && json_integer_value(p2c) > stepca::fuzz::kFuzzMaxP2c) return -1;
  }
  auto plain = stepca::DecryptPbes2Jwe(jwe, stepca::fuzz::kJwePassword);
  if (plain.ok()) (void)stepca::ParseJwkText(*plain);  // what ca.json keys hold
  return 0;
}
