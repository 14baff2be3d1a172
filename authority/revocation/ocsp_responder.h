// An OCSP responder (RFC 6960) for the leaves of the intermediate, beyond
// step-ca: good for a certificate this CA issued and has not revoked,
// revoked (time, reason) from the revocation records, unknown otherwise
// (another issuer, a serial never issued). Responses are signed by the
// intermediate itself, carry thisUpdate/nextUpdate and echo the request's
// nonce; or by a delegated responder certificate (nginxStepca.ocsp.
// responderCert), which then travels in the answer. A response without a nonce for a single serial is kept in the
// store (state/ocsp_responses.h) until half its validity, shared by every
// node and dropped when the serial is revoked.
#ifndef STEPCA_AUTHORITY_REVOCATION_OCSP_RESPONDER_H
#define STEPCA_AUTHORITY_REVOCATION_OCSP_RESPONDER_H

#include <openssl/x509.h>

#include <string>
#include <string_view>

#include "authority/clock/time_source.h"
#include "authority/config/revocation_config.h"
#include "authority/signer/signer.h"
#include "authority/store/store.h"

namespace stepca {

struct OcspAnswer {
  // 200 for a signed answer; 400 malformedRequest, 503 tryLater, 500
  // internalError (each body an unsigned OCSPResponse with that status).
  int http_status = 200;
  std::string der;  // OCSPResponse
  // Seconds a HTTP cache may keep it (RFC 5019 max-age); 0: do not cache.
  long max_age = 0;
  std::string log_message;  // why, for the log; empty when answered
};

// The largest request accepted; a real one is about 100 bytes per serial.
constexpr size_t kMaxOcspRequestBytes = 16 * 1024;
// Serials in one request.
constexpr int kMaxOcspSerials = 16;

class OcspResponder {
 public:
  // store, issuer, signer, responder and time outlive the responder.
  // responder: a delegated responder's certificate, whose key signer holds
  // (then sent with every answer); null: signer is the issuer's key.
  OcspResponder(const OcspConfig& config, Store& store, X509* issuer, const Signer& signer,
                const TimeSource& time, X509* responder = nullptr)
      : config_(config), store_(store), issuer_(issuer), signer_(signer), time_(time),
        responder_(responder) {}

  // request: a DER OCSPRequest (POST body, or a GET path's base64 decoded).
  OcspAnswer Respond(std::string_view request) const;

  const OcspConfig& config() const { return config_; }

 private:
  OcspConfig config_;
  Store& store_;
  X509* issuer_;
  const Signer& signer_;
  const TimeSource& time_;
  X509* responder_;
};

// The unsigned OCSPResponse of an error status (1 malformedRequest,
// 2 internalError, 3 tryLater, 6 unauthorized).
std::string OcspErrorResponse(int status);

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_REVOCATION_OCSP_RESPONDER_H
