// No YubiKey is attached here: the URI parsing and the PIV slot to ykcs11
// object mapping are what can be tested without one.
#include "authority/signer/yubikey_slot.h"

#include <gtest/gtest.h>

namespace stepca {
namespace {

TEST(YubiKeySlot, PivSlotsMapToYkcs11ObjectIds) {
  struct Case {
    const char* slot;
    unsigned char id;
  } cases[] = {{"9a", 1}, {"9c", 2}, {"9d", 3}, {"9e", 4}, {"9C", 2}, {"0x9c", 2},
               {"82", 5}, {"83", 6}, {"8a", 13}, {"94", 23}, {"95", 24}};
  for (const auto& c : cases) {
    auto id = Ykcs11ObjectId(c.slot);
    ASSERT_TRUE(id.ok()) << c.slot << ": " << id.status().message();
    EXPECT_EQ(id.value(), c.id) << c.slot;
  }
}

TEST(YubiKeySlot, OtherSlotsAreRefusedNamingTheSupportedOnes) {
  for (const char* slot : {"9b", "f9", "81", "96", "", "9", "9c9", "zz", "-1"}) {
    auto id = Ykcs11ObjectId(slot);
    ASSERT_FALSE(id.ok()) << slot;
    EXPECT_NE(id.status().message().find("supported: 9a, 9c, 9d, 9e and 82-95"), std::string::npos)
        << id.status().message();
  }
}

TEST(YubiKeySlot, KmsUriGivesPinAndSerialAndTheKeyGivesTheSlot) {
  auto u = YubiKeyPkcs11Uri("yubikey:management-key=010203040506070801020304050607080102030405060708?pin-value=123456",
                            "yubikey:slot-id=9c", "");
  ASSERT_TRUE(u.ok()) << u.status().message();
  EXPECT_EQ(u->module_path, kYkcs11Module);
  EXPECT_EQ(u->id, std::string(1, '\x02'));
  EXPECT_EQ(u->pin_value, "123456");
  EXPECT_TRUE(u->token.empty());

  auto s = YubiKeyPkcs11Uri("yubikey:serial=13486821;module-path=/opt/ykcs11.so?pin-source=/etc/pin",
                            "yubikey:slot-id=82", "");
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->serial, "13486821");
  EXPECT_EQ(s->module_path, "/opt/ykcs11.so");
  EXPECT_EQ(s->pin_source, "/etc/pin");
  EXPECT_EQ(s->id, std::string(1, '\x05'));

  // kms.pin when the URI has none.
  auto p = YubiKeyPkcs11Uri("", "yubikey:slot-id=9a", "654321");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->pin_value, "654321");
}

TEST(YubiKeySlot, BadUrisAreRefusedWithoutThePin) {
  for (auto [kms, key] : {std::pair{"yubikey:pin-value=999111", "yubikey:object=9c"},
                          std::pair{"yubikey:pin-value=999111", "yubikey:"},
                          std::pair{"yubikey:pin-value=999111&pin-source=/p", "yubikey:slot-id=9c"},
                          std::pair{"yubikey:pin-value=999111", "yubikey:slot-id=f9"}}) {
    auto u = YubiKeyPkcs11Uri(kms, key, "");
    ASSERT_FALSE(u.ok()) << key;
    EXPECT_EQ(u.status().message().find("999111"), std::string::npos) << u.status().message();
  }
}

}  // namespace
}  // namespace stepca
