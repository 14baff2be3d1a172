// ParseCsrPem on arbitrary bytes, then the checks the sign path makes.
#include "fuzz/fuzz_csr.inc"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto csr = stepca::ParseCsrPem(std::string_view(reinterpret_cast<const char*>(data), size));
  if (csr.ok()) CheckParsed(*csr);
  return 0;
}
