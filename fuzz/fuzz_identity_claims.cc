// The claims of tokens other parties issue, read after their signature is
// verified (but a compromised or odd issuer still writes them): the OIDC
// claims, a Kubernetes service account (legacy and bound), GCP's
// google.compute_engine, Azure's xms_mirid. The input is a JSON payload.
#include <jansson.h>

#include <cstdint>
#include <cstdlib>

#include "authority/ossl.h"
#include "authority/provisioner/azure_provisioner.h"
#include "authority/provisioner/gcp_provisioner.h"
#include "authority/provisioner/k8ssa_provisioner.h"
#include "authority/provisioner/oidc_provisioner.h"
#include "authority/provisioner/token_claims.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  stepca::JsonPtr payload(json_loadb(reinterpret_cast<const char*>(data), size, 0, nullptr));
  if (!json_is_object(payload.get())) return 0;
  (void)stepca::ReadTokenClaims(payload.get());
  auto oidc = stepca::ReadOidcClaims(payload.get());
  if (oidc.ok()) (void)stepca::SanitizeEmail(oidc->email);
  auto sa = stepca::ReadServiceAccount(payload.get());
  if (sa.ok() && (sa->namespace_name.empty() || sa->name.empty())) std::abort();
  (void)stepca::ReadComputeEngine(payload.get());
  const json_t* mirid = json_object_get(payload.get(), "xms_mirid");
  if (json_is_string(mirid)) {
    auto r = stepca::ParseXmsMirId(json_string_value(mirid));
    if (r.ok() && (r->subscription.empty() || r->group.empty() || r->name.empty())) std::abort();
  }
  return 0;
}
