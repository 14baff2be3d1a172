#include "cli/init_kms.h"

#include "authority/signer/key_uri.h"
#include "authority/signer/pkcs11_signer.h"

namespace stepca {
namespace cli {

Result<KmsKeys> CreateKmsKeys(const std::string& kms_uri, const std::string& kty, bool ssh) {
  if (kms_uri.rfind("pkcs11:", 0) != 0) {
    auto scheme = ClassifyKey(kms_uri);
    if (!scheme.ok()) return InvalidArgument("--kms: " + scheme.status().message());
    const size_t colon = kms_uri.find(':');
    const std::string scheme_name =
        kms_uri.rfind("projects/", 0) == 0 ? "cloudkms" : kms_uri.substr(0, colon == std::string::npos ? 0 : colon + 1);
    return InvalidArgument("--kms: stepca init makes keys on PKCS#11 tokens only" +
                           (scheme_name.empty() ? std::string() : ", not in " + scheme_name) +
                           " (keys made in a KMS are configured by hand in ca.json); want a pkcs11: "
                           "URI (pkcs11:module-path=...;token=...?pin-value=...)");
  }
  if (kty != "EC" && kty != "RSA")
    return InvalidArgument("--kms: --kty " + kty + " is not supported on a token (use EC or RSA)");
  auto uri = ParsePkcs11Uri(kms_uri);
  if (!uri.ok()) return InvalidArgument("--kms: " + uri.status().message());
  if (uri->module_path.empty()) return InvalidArgument("--kms: the URI names no module-path");
  auto pin = ResolvePkcs11Pin(uri.value());
  if (!pin.ok()) return InvalidArgument("--kms: " + pin.status().message());
  auto token = OpenPkcs11Token(uri.value(), std::move(pin).value());
  if (!token.ok()) return InvalidArgument("--kms: " + token.status().message());
  KmsKeys out;
  out.token = std::shared_ptr<Pkcs11Token>(std::move(token).value());
  const Pkcs11KeyRef root{"\x73\x30", "root-key"};
  const Pkcs11KeyRef intermediate{"\x73\x31", "intermediate-key"};
  for (const Pkcs11KeyRef* ref : {&root, &intermediate}) {
    auto made = out.token->GenerateKeyPair(*ref, kty, kty == "EC" ? "P-256" : "", 3072);
    if (!made.ok()) return made.status();
  }
  STEPCA_ASSIGN_OR_RETURN(out.root, MakePkcs11SignerOnToken(out.token, root, false));
  STEPCA_ASSIGN_OR_RETURN(out.intermediate, MakePkcs11SignerOnToken(out.token, intermediate, false));
  if (ssh) {
    const Pkcs11KeyRef host{"\x73\x32", "ssh-host-key"};
    const Pkcs11KeyRef user{"\x73\x33", "ssh-user-key"};
    for (const Pkcs11KeyRef* ref : {&host, &user}) {
      auto made = out.token->GenerateKeyPair(*ref, "EC", "P-256", 0);
      if (!made.ok()) return made.status();
    }
    STEPCA_ASSIGN_OR_RETURN(out.ssh_host, MakePkcs11SignerOnToken(out.token, host, false, true));
    STEPCA_ASSIGN_OR_RETURN(out.ssh_user, MakePkcs11SignerOnToken(out.token, user, false, true));
    out.ssh_host_uri = "pkcs11:id=7332;object=ssh-host-key";
    out.ssh_user_uri = "pkcs11:id=7333;object=ssh-user-key";
  }
  out.root_uri = "pkcs11:id=7330;object=root-key";
  out.intermediate_uri = "pkcs11:id=7331;object=intermediate-key";
  return out;
}

}  // namespace cli
}  // namespace stepca
