// What the cloud KMS signers (AWS KMS, Cloud KMS, Azure Key Vault) do the
// same way around their own request and answer formats.
#ifndef STEPCA_AUTHORITY_SIGNER_KMS_CALL_H
#define STEPCA_AUTHORITY_SIGNER_KMS_CALL_H

#include <string>

#include "authority/cloud/http_request.h"
#include "authority/ossl.h"
#include "authority/status.h"

namespace stepca {

// One JSON request with "Authorization: Bearer token". The token and the
// header holding it are wiped before this returns, whatever happened.
Result<cloud::HttpResponse> SendWithBearer(const std::string& method, const std::string& url,
                                           std::string token, const std::string& body);

// The decoded signature in field of a sign answer (base64url when
// url_safe, else standard base64). A failed call or an answer without the
// field is "the CA key is unavailable"; the detail names key and, for a
// missing field, says missing.
Result<std::string> SignatureFromAnswer(const Result<JsonPtr>& answer, const char* field,
                                        bool url_safe, const std::string& key,
                                        const std::string& missing);

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_SIGNER_KMS_CALL_H
