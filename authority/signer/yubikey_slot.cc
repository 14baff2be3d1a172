#include "authority/signer/yubikey_slot.h"

#include <cctype>

namespace stepca {

const char kYkcs11Module[] = "/usr/lib/x86_64-linux-gnu/libykcs11.so.2";

namespace {

constexpr std::initializer_list<const char*> kYubiKeyAttributes = {
    "slot-id", "management-key", "pin-value", "pin-source", "serial", "module-path"};

}  // namespace

Result<unsigned char> Ykcs11ObjectId(std::string_view slot) {
  std::string s(slot);
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (s.rfind("0x", 0) == 0) s = s.substr(2);
  unsigned value = 0;
  bool hex = s.size() == 2 && std::isxdigit(static_cast<unsigned char>(s[0])) &&
             std::isxdigit(static_cast<unsigned char>(s[1]));
  if (hex) value = static_cast<unsigned>(std::stoul(s, nullptr, 16));
  // ykcs11's object ids follow the PIV slots in the order of its table:
  // the four named slots, then the twenty retired key management slots.
  if (hex) {
    switch (value) {
      case 0x9a: return static_cast<unsigned char>(1);
      case 0x9c: return static_cast<unsigned char>(2);
      case 0x9d: return static_cast<unsigned char>(3);
      case 0x9e: return static_cast<unsigned char>(4);
      default:
        if (value >= 0x82 && value <= 0x95) return static_cast<unsigned char>(value - 0x82 + 5);
    }
  }
  return InvalidArgument("yubikey: slot-id " + std::string(slot.substr(0, 8)) +
                         " is not a signing slot; supported: 9a, 9c, 9d, 9e and 82-95");
}

Result<Pkcs11Uri> YubiKeyPkcs11Uri(std::string_view kms_uri, std::string_view key_uri,
                                   const std::string& pin) {
  KmsUri kms;
  if (!kms_uri.empty()) {
    STEPCA_ASSIGN_OR_RETURN(kms, ParseKmsUri(kms_uri, "yubikey", kYubiKeyAttributes));
  }
  STEPCA_ASSIGN_OR_RETURN(KmsUri key, ParseKmsUri(key_uri, "yubikey", kYubiKeyAttributes));
  const KmsUri m = MergeKmsUri(kms, key);
  const std::string slot = m.Get("slot-id");
  if (slot.empty()) return InvalidArgument("yubikey: the key URI names no slot-id (e.g. yubikey:slot-id=9c)");
  STEPCA_ASSIGN_OR_RETURN(unsigned char id, Ykcs11ObjectId(slot));
  Pkcs11Uri out;
  out.module_path = m.Get("module-path").empty() ? kYkcs11Module : m.Get("module-path");
  out.serial = m.Get("serial");
  out.id = std::string(1, static_cast<char>(id));
  out.pin_value = m.Get("pin-value");
  out.pin_source = m.Get("pin-source");
  if (!out.pin_value.empty() && !out.pin_source.empty())
    return InvalidArgument("yubikey: give pin-value or pin-source, not both");
  if (out.pin_value.empty() && out.pin_source.empty()) out.pin_value = pin;
  return out;
}

}  // namespace stepca
