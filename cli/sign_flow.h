// POST /1.0/sign as `step ca certificate` and `step ca sign` make it, and
// what they write from the answer.
#ifndef STEPCA_CLI_SIGN_FLOW_H
#define STEPCA_CLI_SIGN_FLOW_H

#include <jansson.h>

#include <string>
#include <vector>

#include "authority/status.h"

namespace stepca {
namespace cli {

// {"csr","ott"[,"notBefore"][,"notAfter"]}, compact.
std::string BuildSignBody(const std::string& csr_pem, const std::string& ott,
                          const std::string& not_before,
                          const std::string& not_after);

// The file step writes from a SignResponse: certChain (leaf then
// intermediates) concatenated, or crt + ca when certChain is absent.
Result<std::string> ChainFromSignResponse(const json_t* response);

// Posts the request to {ca_url}/1.0/sign trusting only root_file and
// returns the chain PEM. CA errors keep the CA's message and status.
Result<std::string> SignCsr(const std::string& ca_url, const std::string& root_file,
                            const std::string& body);

// The "sub" and "sans" claims of a token (not verified), for --token.
struct TokenNames {
  std::string subject;
  std::vector<std::string> sans;
};
Result<TokenNames> TokenNamesOf(const std::string& token);

}  // namespace cli
}  // namespace stepca

#endif  // STEPCA_CLI_SIGN_FLOW_H
