#include "authority/provisioner/token_claims.h"

#include <algorithm>
#include <cctype>

namespace stepca {
namespace {

Result<std::optional<int64_t>> ReadTime(const json_t* payload, const char* name) {
  const json_t* v = json_object_get(payload, name);
  if (v == nullptr || json_is_null(v)) return std::optional<int64_t>();
  if (json_is_integer(v)) return std::optional<int64_t>(json_integer_value(v));
  if (json_is_real(v)) {
    // Converting a double outside int64's range is undefined behaviour.
    const double r = json_real_value(v);
    if (!(r >= -9223372036854775808.0 && r < 9223372036854775808.0))
      return Unauthenticated(std::string("claim \"") + name + "\" is out of range");
    return std::optional<int64_t>(static_cast<int64_t>(r));
  }
  return Unauthenticated(std::string("claim \"") + name + "\" is not a number");
}

Status ReadString(const json_t* payload, const char* name, std::string* out) {
  const json_t* v = json_object_get(payload, name);
  if (v == nullptr || json_is_null(v)) return Status::Ok();
  if (!json_is_string(v)) return Unauthenticated(std::string("claim \"") + name + "\" is not a string");
  out->assign(json_string_value(v), json_string_length(v));
  return Status::Ok();
}

Status ReadStringList(const json_t* payload, const char* name, bool allow_string,
                      std::vector<std::string>* out) {
  const json_t* v = json_object_get(payload, name);
  if (v == nullptr || json_is_null(v)) return Status::Ok();
  if (allow_string && json_is_string(v)) {
    out->emplace_back(json_string_value(v), json_string_length(v));
    return Status::Ok();
  }
  if (!json_is_array(v)) return Unauthenticated(std::string("claim \"") + name + "\" has a wrong type");
  size_t i;
  const json_t* e;
  json_array_foreach(v, i, e) {
    if (!json_is_string(e)) return Unauthenticated(std::string("claim \"") + name + "\" has a wrong type");
    out->emplace_back(json_string_value(e), json_string_length(e));
  }
  return Status::Ok();
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// "host", "host:port", "[v6]", "[v6]:port" -> host without port, lower case.
std::string StripPort(const std::string& hostport) {
  if (!hostport.empty() && hostport[0] == '[') {
    size_t close = hostport.find(']');
    if (close == std::string::npos) return Lower(hostport);
    return Lower(hostport.substr(1, close - 1));
  }
  size_t colon = hostport.find(':');
  if (colon != std::string::npos && hostport.find(':', colon + 1) == std::string::npos)
    return Lower(hostport.substr(0, colon));
  return Lower(hostport);
}

const std::vector<std::string>& PathsFor(TokenMethod method) {
  static const std::vector<std::string> sign = {"/1.0/sign", "/sign", "/1.0/ssh/sign", "/ssh/sign"};
  static const std::vector<std::string> revoke = {"/1.0/revoke", "/revoke"};
  static const std::vector<std::string> renew = {"/1.0/renew", "/renew"};
  static const std::vector<std::string> ssh_sign = {"/1.0/ssh/sign", "/ssh/sign", "/1.0/sign", "/sign"};
  static const std::vector<std::string> ssh_revoke = {"/1.0/ssh/revoke", "/ssh/revoke"};
  static const std::vector<std::string> ssh_renew = {"/1.0/ssh/renew", "/ssh/renew"};
  static const std::vector<std::string> ssh_rekey = {"/1.0/ssh/rekey", "/ssh/rekey"};
  switch (method) {
    case TokenMethod::kSign: return sign;
    case TokenMethod::kRevoke: return revoke;
    case TokenMethod::kRenew: return renew;
    case TokenMethod::kSshSign: return ssh_sign;
    case TokenMethod::kSshRevoke: return ssh_revoke;
    case TokenMethod::kSshRenew: return ssh_renew;
    case TokenMethod::kSshRekey: return ssh_rekey;
  }
  return sign;
}

}  // namespace

Result<TokenClaims> ReadTokenClaims(const json_t* payload) {
  TokenClaims c;
  STEPCA_RETURN_IF_ERROR(ReadString(payload, "iss", &c.issuer));
  STEPCA_RETURN_IF_ERROR(ReadString(payload, "sub", &c.subject));
  STEPCA_RETURN_IF_ERROR(ReadString(payload, "jti", &c.id));
  STEPCA_RETURN_IF_ERROR(ReadStringList(payload, "aud", true, &c.audience));
  STEPCA_RETURN_IF_ERROR(ReadStringList(payload, "sans", false, &c.sans));
  STEPCA_ASSIGN_OR_RETURN(c.not_before, ReadTime(payload, "nbf"));
  STEPCA_ASSIGN_OR_RETURN(c.expiry, ReadTime(payload, "exp"));
  STEPCA_ASSIGN_OR_RETURN(c.issued_at, ReadTime(payload, "iat"));
  const json_t* cnf = json_object_get(payload, "cnf");
  if (cnf != nullptr && !json_is_null(cnf)) {
    if (!json_is_object(cnf)) return Unauthenticated("claim \"cnf\" is not an object");
    STEPCA_RETURN_IF_ERROR(ReadString(cnf, "x5rt#S256", &c.cnf_x5rt));
  }
  return c;
}

Status CheckIdentityTimeClaims(const TokenClaims& claims, TimePoint now) {
  const int64_t t = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  const int64_t leeway = kTokenLeeway.count();
  if (!claims.expiry) return Unauthenticated("token has no expiry (exp)");
  if (claims.not_before && t + leeway < *claims.not_before)
    return Unauthenticated("token is not valid yet (nbf)");
  if (t - leeway > *claims.expiry) return Unauthenticated("token is expired (exp)");
  if (claims.issued_at && t + leeway < *claims.issued_at)
    return Unauthenticated("token issued in the future (iat)");
  return Status::Ok();
}

Status CheckTimeClaims(const TokenClaims& claims, TimePoint now) {
  STEPCA_RETURN_IF_ERROR(CheckIdentityTimeClaims(claims, now));
  const int64_t t = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count();
  if (*claims.expiry - t > kMaxTokenLifetime.count() + kTokenLeeway.count())
    return Unauthenticated("token lifetime is too long (exp more than 1h ahead)");
  return Status::Ok();
}

Audiences::Audiences(std::vector<std::string> dns_names) {
  for (auto& n : dns_names) hosts_.push_back(StripPort(n));
}

bool Audiences::MatchOne(TokenMethod method, const std::string& aud, std::string* fragment) const {
  fragment->clear();
  if (aud == "step-certificate-authority")
    return method == TokenMethod::kSign || method == TokenMethod::kRevoke;
  static const std::string kScheme = "https://";
  if (aud.size() <= kScheme.size() || Lower(aud.substr(0, kScheme.size())) != kScheme) return false;
  std::string rest = aud.substr(kScheme.size());
  size_t hash = rest.find('#');
  if (hash != std::string::npos) {
    *fragment = rest.substr(hash + 1);
    rest.resize(hash);
  }
  size_t slash = rest.find('/');
  if (slash == std::string::npos) return false;
  const std::string host = StripPort(rest.substr(0, slash));
  const std::string path = rest.substr(slash);
  if (std::find(hosts_.begin(), hosts_.end(), host) == hosts_.end()) return false;
  const auto& paths = PathsFor(method);
  return std::find(paths.begin(), paths.end(), path) != paths.end();
}

bool Audiences::Matches(TokenMethod method, const std::vector<std::string>& aud,
                        const std::string& fragment) const {
  std::string got;
  for (const auto& a : aud) {
    if (MatchOne(method, a, &got) && got == fragment) return true;
  }
  return false;
}

std::string Audiences::Fragment(TokenMethod method, const std::vector<std::string>& aud) const {
  std::string got;
  for (const auto& a : aud) {
    if (MatchOne(method, a, &got)) return got;
  }
  return "";
}

}  // namespace stepca
