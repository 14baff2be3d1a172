#include "authority/state/store_epoch.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <optional>
#include <string>

namespace stepca {
namespace {

constexpr char kKey[] = "meta/epoch";

struct Record {
  int64_t epoch = 0;
  std::string identity;
};

std::optional<Record> Parse(const std::string& v) {
  const size_t sp = v.find(' ');
  const std::string num = v.substr(0, sp);
  errno = 0;
  char* end = nullptr;
  const long long epoch = std::strtoll(num.c_str(), &end, 10);
  if (num.empty() || end == nullptr || *end != '\0' || errno != 0) return std::nullopt;
  Record r;
  r.epoch = static_cast<int64_t>(epoch);
  if (sp != std::string::npos) r.identity = v.substr(sp + 1);
  return r;
}

std::string Encode(int64_t epoch, const std::string& identity) {
  return identity.empty() ? std::to_string(epoch) : std::to_string(epoch) + " " + identity;
}

}  // namespace

std::string StoreEpoch::Key() { return kKey; }

Result<int64_t> StoreEpoch::ReadOrClaim(int64_t candidate) {
  Status st = store_.PutIfAbsent(kKey, std::to_string(candidate), std::chrono::seconds(0));
  if (st.ok()) return candidate;
  if (st.code() != Code::kAlreadyExists) return st;
  STEPCA_ASSIGN_OR_RETURN(auto v, store_.Get(kKey));
  if (!v) return Unavailable("store lost the CA epoch record");
  auto rec = Parse(*v);
  if (!rec) return Unavailable("store holds a malformed CA epoch record");
  return rec->epoch;
}

Result<int64_t> StoreEpoch::Current(const std::string& identity, int64_t candidate, int64_t now) {
  // A few rounds: each lost compare-and-set means another worker changed the
  // record in between, and the next read sees its result.
  for (int round = 0; round < 4; ++round) {
    STEPCA_ASSIGN_OR_RETURN(auto v, store_.Get(kKey));
    if (!v) {
      Status st = store_.PutIfAbsent(kKey, Encode(candidate, identity), std::chrono::seconds(0));
      if (st.ok()) return candidate;
      if (st.code() != Code::kAlreadyExists) return st;
      continue;
    }
    auto rec = Parse(*v);
    if (!rec) return Unavailable("store holds a malformed CA epoch record");
    if (identity.empty() || rec->identity == identity) return rec->epoch;
    const int64_t moved = std::max(rec->epoch, now + 1);
    Status st = store_.CompareAndSwap(kKey, *v, Encode(moved, identity), std::chrono::seconds(0));
    if (st.ok()) return moved;
    if (st.code() != Code::kAlreadyExists) return st;
  }
  return Unavailable("store epoch record keeps changing");
}

}  // namespace stepca
