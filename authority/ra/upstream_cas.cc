#include "authority/ra/upstream_cas.h"

#include "authority/ra/cloud_cas.h"
#include "authority/ra/vault_cas.h"

#include <utility>

namespace stepca {

Result<StepCasService> MakeUpstreamCas(const RaConfig& config, UpstreamObserver observer) {
  switch (config.type) {
    case CaServiceType::kStepCas:
      return MakeStepCas(config, std::move(observer));
    case CaServiceType::kVaultCas:
      return MakeVaultCas(config, std::move(observer));
    case CaServiceType::kCloudCas:
      return MakeCloudCas(config, std::move(observer));
    case CaServiceType::kLocal:
      break;
  }
  return Internal("MakeUpstreamCas: not a registration authority");
}

}  // namespace stepca
