#include "authority/state/instance_records.h"

#include "authority/state/spent_tokens.h"

namespace stepca {
namespace {
constexpr char kPrefix[] = "tofu/";
}  // namespace

std::string InstanceRecords::Key(std::string_view instance_key) {
  return kPrefix + std::string(instance_key);
}

Status InstanceRecords::Claim(std::string_view instance_key, std::string_view provisioner_id,
                              TimePoint now) {
  if (instance_key.empty()) return Internal("instance records: empty instance key");
  const std::string key = Key(instance_key);
  const std::string value =
      std::string(provisioner_id) + " " +
      std::to_string(std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count());
  Status st = store_.PutIfAbsent(key, value, std::chrono::seconds(0));
  if (st.ok() || st.code() != Code::kUnavailable) return st;
  if (!st.maybe_applied())
    return Unavailable(st.message() + "; " + kTokenNotSpent).WithDetail(st.detail());
  // The write may have landed: ours when the stored value is ours.
  Status again = store_.PutIfAbsent(key, value, std::chrono::seconds(0));
  if (again.ok()) return again;
  if (again.code() == Code::kAlreadyExists) {
    auto cur = store_.Get(key);
    if (cur.ok() && cur->has_value()) return **cur == value ? Status::Ok() : again;
  }
  return MaybeSpent(st);
}

}  // namespace stepca
