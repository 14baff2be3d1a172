#include "authority/state/managed_config.h"

#include <cstdlib>

#include "authority/state/record_json.h"

namespace stepca {
namespace {

constexpr char kConfigKey[] = "admin/config";
constexpr char kGenerationKey[] = "admin/generation";

}  // namespace

std::string ManagedConfigRecords::ConfigKey() { return kConfigKey; }
std::string ManagedConfigRecords::GenerationKey() { return kGenerationKey; }

Result<int64_t> ManagedConfigRecords::Generation() {
  STEPCA_ASSIGN_OR_RETURN(std::optional<std::string> v, store_.Get(kGenerationKey));
  if (!v) return int64_t{0};
  char* end = nullptr;
  long long n = std::strtoll(v->c_str(), &end, 10);
  if (v->empty() || *end != '\0' || n < 0)
    return Internal("store record " + std::string(kGenerationKey) + " is not a number");
  return static_cast<int64_t>(n);
}

Result<Stored<ManagedConfig>> ManagedConfigRecords::Read() {
  STEPCA_ASSIGN_OR_RETURN(std::optional<std::string> v, store_.Get(kConfigKey));
  Stored<ManagedConfig> out;
  if (!v) {
    out.record.provisioners.reset(json_array());
    out.record.admins.reset(json_array());
    return out;
  }
  JsonPtr obj = state_json::LoadObject(*v);
  const json_t* gen = obj ? json_object_get(obj.get(), "generation") : nullptr;
  const json_t* provs = obj ? json_object_get(obj.get(), "provisioners") : nullptr;
  const json_t* admins = obj ? json_object_get(obj.get(), "admins") : nullptr;
  if (!json_is_integer(gen) || !json_is_array(provs) || !json_is_array(admins))
    return Internal("store record " + std::string(kConfigKey) + " is malformed");
  out.record.generation = json_integer_value(gen);
  out.record.provisioners.reset(json_incref(const_cast<json_t*>(provs)));
  out.record.admins.reset(json_incref(const_cast<json_t*>(admins)));
  out.bytes = std::move(*v);
  return out;
}

Result<int64_t> ManagedConfigRecords::Replace(const Stored<ManagedConfig>& read,
                                              const ManagedConfig& next) {
  const int64_t generation = read.record.generation + 1;
  JsonPtr obj(json_object());
  json_object_set_new(obj.get(), "generation", json_integer(generation));
  json_object_set(obj.get(), "provisioners", next.provisioners.get());
  json_object_set(obj.get(), "admins", next.admins.get());
  std::optional<std::string> expected;
  if (!read.bytes.empty()) expected = read.bytes;
  STEPCA_RETURN_IF_ERROR(store_.CompareAndSwap(kConfigKey, expected, state_json::Dump(obj.get()),
                                               std::chrono::seconds(0)));
  STEPCA_RETURN_IF_ERROR(
      store_.Put(kGenerationKey, std::to_string(generation), std::chrono::seconds(0)));
  return generation;
}

}  // namespace stepca
