// Certificate signing requests: parsed strictly, signature checked, names
// bounded and validated.
#ifndef STEPCA_AUTHORITY_X509_CSR_H
#define STEPCA_AUTHORITY_X509_CSR_H

#include <string>
#include <string_view>
#include <vector>

#include "authority/ossl.h"
#include "authority/status.h"

namespace stepca {

// Subject alternative names by kind. IPs are in canonical text form
// ("127.0.0.1", "2001:db8::1").
struct SanSet {
  std::vector<std::string> dns;
  std::vector<std::string> emails;
  std::vector<std::string> ips;
  std::vector<std::string> uris;
  bool empty() const { return dns.empty() && emails.empty() && ips.empty() && uris.empty(); }
};

struct Csr {
  X509ReqPtr req;
  std::string der;
  std::string common_name;  // empty when the subject has none
  SanSet sans;
};

// Limits on what a request can make the CA sign.
constexpr size_t kMaxSans = 100;
constexpr size_t kMaxNameLength = 253;

// Accepts one PEM block "CERTIFICATE REQUEST" (or "NEW CERTIFICATE
// REQUEST"). Checks the self-signature and that every name is printable,
// has no NUL, and is a valid DNS name / IP / email / URI; at most kMaxSans.
// Errors are kInvalidArgument, messages like step-ca's ("invalid csr: ...").
Result<Csr> ParseCsrPem(std::string_view pem);
Result<Csr> ParseCsrDer(std::string_view der);

// Key types the CA signs for: ECDSA P-256/384/521, Ed25519, RSA >= 2048.
// A smaller RSA key is kPermissionDenied (step-ca answers 403); any other
// key type is kInvalidArgument.
Status CheckPublicKey(EVP_PKEY* key);

// step-ca's classification of token "sans": a parseable IP is an IP, a value
// with a URL scheme is a URI, one containing '@' an email, anything else DNS.
SanSet ClassifySans(const std::vector<std::string>& sans);

// step-ca's default checks of a CSR against a token: the CSR CN is empty or
// one of [sub] + sans; each kind of SAN present in the CSR equals, as a set,
// the same kind from the token sans. Errors are kPermissionDenied with
// step-ca's wording.
Status CheckCsrAgainstToken(const Csr& csr, const std::string& subject,
                            const std::vector<std::string>& sans);

// Validates one DNS name (labels, length; "*." prefix allowed).
bool IsValidDnsName(std::string_view name);

// local@domain, printable ASCII local part, domain a valid DNS name.
bool IsValidEmail(std::string_view email);

// Printable ASCII without spaces, with a URL scheme ("spiffe://...").
bool IsValidUri(std::string_view uri);

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_X509_CSR_H
