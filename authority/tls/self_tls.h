// The CA's own TLS server certificate (nginx's "stepca_tls_certificate"),
// as step-ca keeps one: issued by the intermediate for ca.json's dnsNames
// (and IPs) with a fresh key, renewed at two thirds of its life.
//
// No record is written to the store (x509_certs/): the first certificate is
// signed by the nginx master at configuration time, before any store is
// open, and none is ever handed to a client as a credential. Its key never
// leaves the process and it carries no provisioner extension, so /renew
// and /revoke have nothing to act on.
#ifndef STEPCA_AUTHORITY_TLS_SELF_TLS_H
#define STEPCA_AUTHORITY_TLS_SELF_TLS_H

#include <string>
#include <vector>

#include "authority/ca/certificate_authority.h"
#include "authority/ossl.h"
#include "authority/status.h"
#include "shared/duration.h"

namespace stepca {

struct SelfTlsRequest {
  std::vector<std::string> dns_names;  // ca.json dnsNames: DNS names and IPs
  Duration lifetime{};                 // from now; clamped to the issuer
  Duration backdate{};                 // notBefore = now - backdate
  TimePoint now{};
};

struct SelfTlsCertificate {
  X509Ptr leaf;
  EvpPkeyPtr key;
  std::string chain_pem;  // the leaf, then the issuing chain
  std::string key_pem;    // PKCS#8, unencrypted: wipe it (Wipe) after use
  TimePoint not_before{}, not_after{};
  TimePoint renew_at{};   // two thirds of the way from not_before
};

// The shortest lifetime accepted: a renewal a few seconds apart would be
// a busy loop rather than a certificate.
constexpr Duration kMinSelfTlsLifetime = std::chrono::seconds(60);

// Why this CA cannot keep its own TLS certificate, or Ok. ca_json names the
// file in the message; dns_names empty, or a CA without a local key (an RA,
// a key on a PKCS#11 token that only workers open) are refused.
Status CheckSelfTls(const std::string& ca_json, const std::vector<std::string>& dns_names,
                    const CertificateAuthorityService& ca, bool key_on_token);

// An EC P-256 key and a leaf for it: CN the first name, every name as a
// SAN (IPs as IP SANs), serverAuth, no provisioner extension.
Result<SelfTlsCertificate> IssueSelfTls(const CertificateAuthorityService& ca,
                                        const SelfTlsRequest& request);

// A self-signed certificate that holds nginx's place at configuration time
// until the issued one replaces it (it is never served: configuration
// fails if the issued one cannot be made).
Result<SelfTlsCertificate> PlaceholderTlsCertificate(TimePoint now);

// not_before + 2/3 (not_after - not_before).
TimePoint SelfTlsRenewAt(TimePoint not_before, TimePoint not_after);

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_TLS_SELF_TLS_H
