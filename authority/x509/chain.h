// Verification of a client certificate chain: the peer certificate of a
// mutual-TLS request, the x5cInsecure chain of a renew token, and the x5c
// chain of an X5C provisioner token.
#ifndef STEPCA_AUTHORITY_X509_CHAIN_H
#define STEPCA_AUTHORITY_X509_CHAIN_H

#include <jansson.h>

#include <string>
#include <string_view>
#include <vector>

#include "authority/ossl.h"
#include "authority/status.h"
#include "authority/x509/csr.h"
#include "shared/duration.h"

namespace stepca {

struct ChainCheck {
  const std::vector<X509Ptr>* roots = nullptr;          // trust anchors
  const std::vector<X509Ptr>* more_roots = nullptr;     // also anchors (federated)
  const std::vector<X509Ptr>* intermediates = nullptr;  // untrusted helpers
  TimePoint at;                                         // verification time
  bool require_digital_signature = false;               // leaf keyUsage
};

// Verifies leaf up to one of the anchors at check.at, with the chain's
// extra certificates (extra, untrusted) and check.intermediates. The leaf
// must allow clientAuth (when it has an extKeyUsage). With
// require_digital_signature, the leaf must have a keyUsage with
// digitalSignature. Errors are kUnauthenticated with a reason for the log.
Status VerifyClientChain(X509* leaf, const std::vector<X509Ptr>& extra, const ChainCheck& check);

// One DER certificate; kInvalidArgument when it is not exactly one.
Result<X509Ptr> ParseCertificateDer(std::string_view der);

// A JWS header array of standard-base64 DER certificates ("x5c",
// "x5cInsecure"), leaf first; at most 10. kUnauthenticated when missing,
// empty or malformed.
Result<std::vector<X509Ptr>> ParseX5cHeader(const json_t* header, const char* name);

// The subject's first CommonName ("" when none).
std::string CommonName(X509* cert);

// The names of a certificate's subjectAltName (DNS, email, IP, URI).
SanSet CertificateSans(X509* cert);

TimePoint CertNotBefore(X509* cert);
TimePoint CertNotAfter(X509* cert);

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_X509_CHAIN_H
