// stepca renew and stepca revoke: step ca renew / step ca revoke against
// the CA, over mutual TLS or with a token.
#ifndef STEPCA_CLI_RENEW_H
#define STEPCA_CLI_RENEW_H

#include <jansson.h>

#include <ostream>
#include <string>
#include <vector>

#include "authority/ossl.h"
#include "authority/status.h"

namespace stepca {
namespace cli {

// stepca renew CRT KEY [--force] [--out FILE] [--mtls=false] [--ca-url URL]
//   [--root FILE] [--steppath DIR]. Mutual TLS by default; with
// --mtls=false, or when CRT has expired, step's x5cInsecure renew token.
int RunRenew(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err);

// stepca revoke SERIAL [--reason TEXT] [--reasonCode N]
//   [--token OTT | --provisioner NAME --provisioner-password-file FILE]
//   [--cert CRT --key KEY] [--ca-url URL] [--root FILE] [--steppath DIR]
int RunRevoke(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err);

// The renew token step builds (step ca renew --mtls=false): header
// x5cInsecure = the chain, leaf first; iss step-ca-client/1.0, sub = the
// leaf's CN, aud = <ca-url>/renew, five minutes; signed by the leaf key.
Result<std::string> BuildRenewToken(const std::vector<X509Ptr>& chain, EVP_PKEY* key,
                                    const std::string& ca_url, int64_t now);

}  // namespace cli
}  // namespace stepca

#endif  // STEPCA_CLI_RENEW_H
