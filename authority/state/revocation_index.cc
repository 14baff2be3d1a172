#include "authority/state/revocation_index.h"

#include <cstdlib>

namespace stepca {
namespace {

constexpr char kSlotPrefix[] = "revoked_index/";
constexpr char kNextKey[] = "revoked_index_next";
// A hint is at most a few slots behind; this only bounds a damaged store.
constexpr int kMaxProbes = 100000;

}  // namespace

std::string RevocationIndex::SlotKey(uint64_t n) { return kSlotPrefix + std::to_string(n); }

Result<uint64_t> RevocationIndex::Append(std::string_view serial) {
  if (serial.empty()) return Internal("revocation index: empty serial");
  STEPCA_ASSIGN_OR_RETURN(auto hint, store_.Get(kNextKey));
  uint64_t n = 0;
  if (hint) n = std::strtoull(hint->c_str(), nullptr, 10);
  for (int i = 0; i < kMaxProbes; ++i, ++n) {
    Status st = store_.PutIfAbsent(SlotKey(n), serial, std::chrono::seconds(0));
    if (st.code() == Code::kAlreadyExists) continue;
    STEPCA_RETURN_IF_ERROR(st);
    // A stale (lower) hint written by a slower writer only costs probes.
    (void)store_.Put(kNextKey, std::to_string(n + 1), std::chrono::seconds(0));
    return n;
  }
  return Internal("revocation index: no free slot after " + std::to_string(kMaxProbes) + " probes");
}

Result<std::vector<std::string>> RevocationIndex::ReadFrom(uint64_t from, size_t max) {
  std::vector<std::string> out;
  for (uint64_t n = from; out.size() < max; ++n) {
    STEPCA_ASSIGN_OR_RETURN(auto v, store_.Get(SlotKey(n)));
    if (!v) break;
    out.push_back(std::move(*v));
  }
  return out;
}

}  // namespace stepca
