#include "authority/state/store_epoch.h"

#include <cerrno>
#include <cstdlib>
#include <string>

namespace stepca {
namespace {
constexpr char kKey[] = "meta/epoch";
}  // namespace

Result<int64_t> StoreEpoch::ReadOrClaim(int64_t candidate) {
  Status st = store_.PutIfAbsent(kKey, std::to_string(candidate), std::chrono::seconds(0));
  if (st.ok()) return candidate;
  if (st.code() != Code::kAlreadyExists) return st;
  STEPCA_ASSIGN_OR_RETURN(auto v, store_.Get(kKey));
  if (!v) return Unavailable("store lost the CA epoch record");
  errno = 0;
  char* end = nullptr;
  const long long epoch = std::strtoll(v->c_str(), &end, 10);
  if (v->empty() || end == nullptr || *end != '\0' || errno != 0)
    return Unavailable("store holds a malformed CA epoch record");
  return static_cast<int64_t>(epoch);
}

}  // namespace stepca
