// A direct reader for the common certificate request: a named-curve ECDSA
// key (P-256, P-384, P-521) signed with ECDSA and SHA-2.
//
// Why: OpenSSL 3.0's d2i_X509_REQ decodes the request's public key through
// the generic OSSL_DECODER machinery, which enumerates every provider's key
// managers and decoders on each call; that was a third of the CPU of
// issuing a certificate (bench/README.md). This reader walks the DER itself,
// builds the key from the curve and point, checks the self-signature over
// the original bytes, and assembles the X509_REQ from its parts, so nothing
// on the way asks the decoder.
#ifndef STEPCA_AUTHORITY_X509_EC_CSR_H
#define STEPCA_AUTHORITY_X509_EC_CSR_H

#include <optional>
#include <string_view>

#include "authority/ossl.h"
#include "authority/status.h"

namespace stepca {

// nullopt: not a request this reader takes (another key or signature
// algorithm, explicit curve parameters, anything it does not expect in the
// structure); the caller parses it the general way, which gives the
// general errors. An error: the request is well formed but its signature
// does not verify (kInvalidArgument, step-ca's wording). A value: the
// request, its signature verified, its public key available through
// X509_REQ_get0_pubkey.
std::optional<Result<X509ReqPtr>> ParseEcCsr(std::string_view der);

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_X509_EC_CSR_H
