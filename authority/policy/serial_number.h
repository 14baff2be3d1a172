// Serial numbers as clients send them (POST /revoke).
#ifndef STEPCA_AUTHORITY_POLICY_SERIAL_NUMBER_H
#define STEPCA_AUTHORITY_POLICY_SERIAL_NUMBER_H

#include <optional>
#include <string>

namespace stepca {

// Go's big.Int SetString(s, 0) for non-negative values without
// underscores: 0x/0o/0b prefixes, a leading 0 for octal, else decimal.
// The decimal form, or nullopt when text is not a number.
std::optional<std::string> ParseSerial(const std::string& text);

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_POLICY_SERIAL_NUMBER_H
