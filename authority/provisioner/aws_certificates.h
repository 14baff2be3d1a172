// The public certificates AWS publishes for verifying EC2 instance
// identity document signatures (the RSA-SHA256 "signature" endpoint), the
// set step-ca 0.19 trusts by default. Data, not code: replaceable with
// iidRoots.
#ifndef STEPCA_AUTHORITY_PROVISIONER_AWS_CERTIFICATES_H
#define STEPCA_AUTHORITY_PROVISIONER_AWS_CERTIFICATES_H

namespace stepca {

// PEM, several certificates.
const char* AwsIdentityCertificatesPem();

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_PROVISIONER_AWS_CERTIFICATES_H
