#include "authority/ra/upstream_cas.h"

#include "authority/ra/cloud_cas.h"
#include "authority/ra/vault_cas.h"

namespace stepca {

Result<StepCasService> MakeUpstreamCas(const RaConfig& config) {
  switch (config.type) {
    case CaServiceType::kStepCas:
      return MakeStepCas(config);
    case CaServiceType::kVaultCas:
      return MakeVaultCas(config);
    case CaServiceType::kCloudCas:
      return MakeCloudCas(config);
    case CaServiceType::kLocal:
      break;
  }
  return Internal("MakeUpstreamCas: not a registration authority");
}

}  // namespace stepca
