#include "authority/policy/serial_number.h"

#include <cctype>

#include "authority/ossl.h"

namespace stepca {

std::optional<std::string> ParseSerial(const std::string& text) {
  if (text.empty() || text.size() > 160) return std::nullopt;
  std::string_view s = text;
  if (s[0] == '+') s.remove_prefix(1);
  unsigned base = 10;
  if (s.size() > 1 && s[0] == '0') {
    const char p = static_cast<char>(std::tolower(static_cast<unsigned char>(s[1])));
    if (p == 'x') base = 16, s.remove_prefix(2);
    else if (p == 'b') base = 2, s.remove_prefix(2);
    else if (p == 'o') base = 8, s.remove_prefix(2);
    else base = 8, s.remove_prefix(1);
  }
  if (s.empty()) return std::nullopt;
  BignumPtr bn(BN_new());
  if (!bn) return std::nullopt;
  for (char ch : s) {
    const int c = std::tolower(static_cast<unsigned char>(ch));
    unsigned d;
    if (c >= '0' && c <= '9') d = static_cast<unsigned>(c - '0');
    else if (c >= 'a' && c <= 'f') d = static_cast<unsigned>(c - 'a' + 10);
    else return std::nullopt;
    if (d >= base) return std::nullopt;
    if (BN_mul_word(bn.get(), base) != 1 || BN_add_word(bn.get(), d) != 1) return std::nullopt;
  }
  char* dec = BN_bn2dec(bn.get());
  if (dec == nullptr) return std::nullopt;
  std::string out(dec);
  OPENSSL_free(dec);
  return out;
}

}  // namespace stepca
