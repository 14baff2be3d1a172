// ACME problem documents (RFC 8555 section 6.7, RFC 7807). Handlers return a
// Problem; it becomes an application/problem+json response only at the edge.
#ifndef STEPCA_AUTHORITY_ACME_PROBLEM_H
#define STEPCA_AUTHORITY_ACME_PROBLEM_H

#include <string>

#include "authority/api/http.h"
#include "authority/status.h"

namespace stepca {
namespace acme {

struct Problem {
  std::string type;    // the part after "urn:ietf:params:acme:error:"; empty: ok
  int status = 0;      // HTTP status
  std::string detail;  // for the client: never a key, a token or a secret
  std::string log;     // extra words for the log only

  bool ok() const { return type.empty(); }
  static Problem Ok() { return Problem(); }
};

// The RFC's types with their usual statuses.
Problem Malformed(std::string detail);                 // 400
Problem BadNonce(std::string detail);                  // 400
Problem BadSignatureAlgorithm(std::string detail);     // 400
Problem Unauthorized(std::string detail);              // 403 (RFC 8555 uses 403)
Problem AccountDoesNotExist(std::string detail);       // 400
Problem RejectedIdentifier(std::string detail);        // 400
Problem UnsupportedIdentifier(std::string detail);     // 400
Problem BadCsr(std::string detail);                    // 400
Problem OrderNotReady(std::string detail);             // 403
Problem AlreadyRevoked(std::string detail);            // 400
Problem BadRevocationReason(std::string detail);       // 400
Problem ExternalAccountRequired(std::string detail);   // 400
Problem Conflict(std::string detail);                  // 409 type malformed
Problem NotFoundProblem(std::string detail);           // 404 type malformed
Problem ServerInternal(std::string log);               // 500

// A Status from a lower layer (store, issuer): kUnavailable becomes a 503
// serverInternal (nothing was done, retry); other errors a 500.
Problem FromStatus(const Status& st);

// {"type":"urn:ietf:params:acme:error:<type>","detail":...}.
HttpResponse ProblemResponse(const Problem& p);

}  // namespace acme
}  // namespace stepca

#endif  // STEPCA_AUTHORITY_ACME_PROBLEM_H
