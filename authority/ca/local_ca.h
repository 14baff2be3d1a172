// The local certificate authority: our own issuer (authority/x509/issuer.h)
// signing with a Signer (file key today, PKCS#11 or KMS next).
#ifndef STEPCA_AUTHORITY_CA_LOCAL_CA_H
#define STEPCA_AUTHORITY_CA_LOCAL_CA_H

#include <memory>
#include <vector>

#include "authority/ca/certificate_authority.h"
#include "authority/ossl.h"
#include "authority/signer/signer.h"
#include "authority/status.h"

namespace stepca {

// chain: the intermediates of the crt file, the issuing certificate first;
// its public key must be the signer's (kInvalidArgument otherwise).
Result<std::unique_ptr<CertificateAuthorityService>> MakeLocalCa(
    std::vector<X509Ptr> chain, std::unique_ptr<Signer> signer);

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_CA_LOCAL_CA_H
