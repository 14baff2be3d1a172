// Base64UrlDecode and Base64Decode on arbitrary bytes. Property (the
// header's promise, "one value has one encoding"): whatever decodes
// re-encodes to exactly the input.
#include <cstdint>
#include <cstdlib>

#include "shared/base64.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto url = stepca::Base64UrlDecode(text)) {
    if (stepca::Base64UrlEncode(*url) != text) std::abort();
  }
  if (auto std = stepca::Base64Decode(text)) {
    if (stepca::Base64Encode(*std) != text) std::abort();
  }
  // And every byte string round-trips the other way.
  auto u = stepca::Base64UrlDecode(stepca::Base64UrlEncode(text));
  auto s = stepca::Base64Decode(stepca::Base64Encode(text));
  if (!u || *u != text || !s || *s != text) std::abort();
  return 0;
}
