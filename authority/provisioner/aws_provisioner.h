// The AWS provisioner: EC2 instance identity documents, in the token step
// builds for step-ca: a JWT whose payload carries "amazon": {"document",
// "signature"} (both base64 of the metadata service's bytes), iss
// "ec2.amazonaws.com", aud this CA's sign URL with #aws/<name>, HS256
// keyed with the signature bytes. The HMAC proves nothing by itself (the
// signature travels in the token): what counts is AWS's RSA-SHA256
// signature over the document, checked against AWS's public certificates
// (step-ca's built-in ones, or the PEM file iidRoots names).
#ifndef STEPCA_AUTHORITY_PROVISIONER_AWS_PROVISIONER_H
#define STEPCA_AUTHORITY_PROVISIONER_AWS_PROVISIONER_H

#include <memory>
#include <string>
#include <vector>

#include "authority/provisioner/cloud_identity.h"
#include "authority/provisioner/provisioner_base.h"

namespace stepca {

struct AwsIdentityDocument {
  std::string account_id, instance_id, private_ip, region;
  std::optional<TimePoint> pending_time;
};
// The document's JSON; accountId, instanceId, privateIp, region required.
Result<AwsIdentityDocument> ParseAwsIdentityDocument(std::string_view json_text);

// ip-10-0-0-1.us-east-1.compute.internal
std::string AwsInternalDnsName(const AwsIdentityDocument& doc);

class AwsProvisioner : public ProvisionerBase {
 public:
  AwsProvisioner(std::string name, Claims claims, JsonPtr json, CloudSettings cloud,
                 std::vector<std::string> accounts, std::vector<X509Ptr> certs);

  Result<SignGrant> AuthorizeSign(const Jws& jws, const TokenClaims& claims,
                                  const Audiences& audiences, TimePoint now) const override;

 private:
  CloudSettings cloud_;
  std::vector<std::string> accounts_;
  std::vector<X509Ptr> certs_;
};

// iidRoots: a PEM file of certificates (relative to config_dir); without
// it, step-ca's built-in AWS certificates.
Result<std::unique_ptr<Provisioner>> ParseAwsProvisioner(const json_t* obj, const std::string& field,
                                                         const std::string& name, const Claims& claims,
                                                         JsonPtr json, const std::string& config_dir);

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_PROVISIONER_AWS_PROVISIONER_H
