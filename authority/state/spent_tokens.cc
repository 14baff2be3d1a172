#include "authority/state/spent_tokens.h"

#include <openssl/rand.h>

#include <string>

#include "authority/provisioner/token_claims.h"
#include "shared/base64.h"

namespace stepca {
namespace {
constexpr char kPrefix[] = "used_ott/";
}  // namespace

std::string SpentTokens::Key(std::string_view token_key) { return kPrefix + std::string(token_key); }

std::chrono::seconds SpentTokens::RetentionFor(TimePoint token_expiry, TimePoint now) {
  auto ttl = std::chrono::duration_cast<std::chrono::seconds>(token_expiry - now) + kTokenLeeway +
             std::chrono::seconds(60);
  return ttl < std::chrono::seconds(60) ? std::chrono::seconds(60) : ttl;
}

namespace {

// Unique per attempt, so a second look can tell our write from another's.
std::string SpendMarker() {
  unsigned char b[12];
  if (RAND_bytes(b, sizeof b) != 1) return "";
  return HexEncode(std::string(reinterpret_cast<char*>(b), sizeof b));
}

}  // namespace

StoreEntry SpentTokens::Entry(std::string_view token_key, std::string_view spent_by,
                              TimePoint token_expiry, TimePoint now) {
  return StoreEntry{Key(token_key), std::string(spent_by) + " " + SpendMarker(),
                    RetentionFor(token_expiry, now)};
}

Status SpentTokens::Spend(std::string_view token_key, std::string_view spent_by,
                          TimePoint token_expiry, TimePoint now) {
  if (token_key.empty()) return Internal("spent tokens: empty token key");
  const std::string key = Key(token_key);
  const std::string value = std::string(spent_by) + " " + SpendMarker();
  const auto ttl = RetentionFor(token_expiry, now);
  Status st = store_.PutIfAbsent(key, value, ttl);
  if (st.ok() || st.code() != Code::kUnavailable) return st;
  if (!st.maybe_applied())
    return Unavailable(st.message() + "; " + kTokenNotSpent).WithDetail(st.detail());
  // The first write may or may not have landed. The same write again, with
  // the same marker, settles it when the store answers: ours either way,
  // or someone else's (a replay).
  Status again = store_.PutIfAbsent(key, value, ttl);
  if (again.ok()) return again;
  if (again.code() == Code::kAlreadyExists) {
    auto cur = store_.Get(key);
    if (cur.ok() && cur->has_value()) return **cur == value ? Status::Ok() : again;
  }
  return MaybeSpent(st);
}

Status MaybeSpent(const Status& st) {
  return Unavailable(st.message() + "; " + kTokenMaybeSpent).WithDetail(st.detail());
}

Status BeforeSpend(const Status& st) {
  if (st.code() != Code::kUnavailable) return st;
  return Unavailable(st.message() + "; " + kTokenNotSpent).WithDetail(st.detail());
}

Status AfterSpend(const Status& st) {
  if (st.code() != Code::kUnavailable) return st;
  return Unavailable(st.message() + "; " + kTokenSpent).WithDetail(st.detail());
}

}  // namespace stepca
