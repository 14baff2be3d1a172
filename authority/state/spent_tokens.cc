#include "authority/state/spent_tokens.h"

#include <string>

#include "authority/provisioner/token_claims.h"

namespace stepca {
namespace {
constexpr char kPrefix[] = "used_ott/";
}  // namespace

std::chrono::seconds SpentTokens::RetentionFor(TimePoint token_expiry, TimePoint now) {
  auto ttl = std::chrono::duration_cast<std::chrono::seconds>(token_expiry - now) + kTokenLeeway +
             std::chrono::seconds(60);
  return ttl < std::chrono::seconds(60) ? std::chrono::seconds(60) : ttl;
}

Status SpentTokens::Spend(std::string_view token_key, std::string_view spent_by,
                          TimePoint token_expiry, TimePoint now) {
  if (token_key.empty()) return Internal("spent tokens: empty token key");
  return store_.PutIfAbsent(kPrefix + std::string(token_key), spent_by,
                            RetentionFor(token_expiry, now));
}

}  // namespace stepca
