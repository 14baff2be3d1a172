// `stepca init --kms pkcs11:...`: the root and intermediate keys made on a
// token, as step-pkcs11-init makes them (root-key id 7330, intermediate-key
// id 7331, and with --ssh ssh-host-key 7332 and ssh-user-key 7333), so
// ca.json names them with the same URIs.
#ifndef STEPCA_CLI_INIT_KMS_H
#define STEPCA_CLI_INIT_KMS_H

#include <memory>
#include <string>

#include "authority/ossl.h"
#include "authority/signer/pkcs11_token.h"
#include "authority/signer/signer.h"
#include "authority/status.h"

namespace stepca {
namespace cli {

struct KmsKeys {
  std::shared_ptr<Pkcs11Token> token;
  std::unique_ptr<Signer> root, intermediate;
  std::string root_uri;          // "pkcs11:id=7330;object=root-key"
  std::string intermediate_uri;  // "pkcs11:id=7331;object=intermediate-key"
  std::unique_ptr<Signer> ssh_host, ssh_user;  // with ssh only
  std::string ssh_host_uri;      // "pkcs11:id=7332;object=ssh-host-key"
  std::string ssh_user_uri;      // "pkcs11:id=7333;object=ssh-user-key"
};

// Opens the token of kms_uri in this process and generates both keys on it.
// kty "EC" (P-256, as step) or "RSA" (3072 bits); OKP is refused since
// tokens do not sign Ed25519 here. Keys already on the token under those
// ids or labels are an error: nothing is overwritten. With ssh, the SSH
// host and user CA keys too (EC P-256, as step makes them).
Result<KmsKeys> CreateKmsKeys(const std::string& kms_uri, const std::string& kty, bool ssh = false);

}  // namespace cli
}  // namespace stepca

#endif  // STEPCA_CLI_INIT_KMS_H
