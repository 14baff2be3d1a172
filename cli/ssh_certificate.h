// stepca ssh certificate: `step ssh certificate` against the CA's
// /ssh/sign with a JWK provisioner's SSH token, for users and (--host)
// hosts, with a new key or (--sign) an existing public key.
#ifndef STEPCA_CLI_SSH_CERTIFICATE_H
#define STEPCA_CLI_SSH_CERTIFICATE_H

#include <jansson.h>

#include <ostream>
#include <string>
#include <vector>

#include "authority/ossl.h"
#include "authority/status.h"

namespace stepca {
namespace cli {

// stepca ssh certificate KEY_ID KEY_FILE [--host] [--sign]
//   [--principal P ...] [--not-before T] [--not-after T] [--kty EC|RSA]
//   [--curve C] [--size BITS] [--force] --provisioner NAME
//   --provisioner-password-file FILE [--ca-url URL --root FILE | --offline
//   --ca-config ca.json] [--steppath DIR]
// Without --sign: writes KEY_FILE (the private key, PEM, 0600),
// KEY_FILE.pub and KEY_FILE-cert.pub. With --sign, KEY_FILE is a public key
// (.pub) and the certificate goes beside it as <name without .pub>-cert.pub.
int RunSsh(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err);

// The token's "step.ssh" claim as step writes it: certType, keyID,
// principals, validAfter, validBefore (empty strings when unset).
JsonPtr SshTokenClaim(bool host, const std::string& key_id,
                      const std::vector<std::string>& principals,
                      const std::string& valid_after, const std::string& valid_before);

// step's default principals: a host's name, or for a user the local part
// of an email subject and the subject itself.
std::vector<std::string> DefaultSshPrincipals(bool host, const std::string& subject);

// The /ssh/sign body: publicKey (base64 of the wire blob), ott, certType,
// keyID, principals and the validity when given.
std::string BuildSshSignBody(const std::string& key_blob, const std::string& ott, bool host,
                             const std::string& key_id, const std::vector<std::string>& principals,
                             const std::string& valid_after, const std::string& valid_before);

// "<name without .pub>-cert.pub" for --sign, "<key>-cert.pub" otherwise.
std::string SshCertificatePath(const std::string& key_file, bool sign);

}  // namespace cli
}  // namespace stepca

#endif  // STEPCA_CLI_SSH_CERTIFICATE_H
