// An EC2 instance identity document (its signature is checked first, but
// the parser must not trust its shape). The input is the document's JSON.
#include <cstdint>
#include <cstdlib>

#include "authority/provisioner/aws_provisioner.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto doc = stepca::ParseAwsIdentityDocument(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!doc.ok()) return 0;
  if (doc->account_id.empty() || doc->instance_id.empty() || doc->private_ip.empty() ||
      doc->region.empty())
    std::abort();
  const std::string dns = stepca::AwsInternalDnsName(*doc);
  if (dns.rfind("ip-", 0) != 0) std::abort();
  return 0;
}
