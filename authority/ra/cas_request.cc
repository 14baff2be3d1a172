#include "authority/ra/cas_request.h"

#include <openssl/bn.h>
#include <openssl/crypto.h>

#include <algorithm>
#include <cctype>

namespace stepca {

Result<std::string> SerialHex(const std::string& decimal) {
  BIGNUM* bn = nullptr;
  if (decimal.empty() || BN_dec2bn(&bn, decimal.c_str()) != static_cast<int>(decimal.size())) {
    BN_free(bn);
    return InvalidArgument("not a decimal serial number: " + decimal);
  }
  char* hex = BN_bn2hex(bn);
  BN_free(bn);
  std::string h = hex ? hex : "";
  OPENSSL_free(hex);
  if (h.size() % 2) h = "0" + h;
  for (char& ch : h) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return h;
}

std::string LifetimeSeconds(TimePoint not_after) {
  const auto now = std::chrono::time_point_cast<std::chrono::nanoseconds>(Clock::now());
  const auto left = std::chrono::duration_cast<std::chrono::seconds>(not_after - now);
  return std::to_string(std::max<int64_t>(left.count(), 1)) + "s";
}

Status RaFieldError(const char* field, const std::string& msg) {
  return InvalidArgument(std::string("field \"authority.") + field + "\": " + msg);
}

std::string Described(const Status& s) {
  return s.message() + (s.detail().empty() ? "" : ": " + s.detail());
}

}  // namespace stepca
