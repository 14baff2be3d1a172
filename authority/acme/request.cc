#include "authority/acme/request.h"

namespace stepca {
namespace acme {

std::string Request::AccountUrl(const std::string& id) const { return base + "/account/" + id; }
std::string Request::OrderUrl(const std::string& id) const { return base + "/order/" + id; }
std::string Request::AuthzUrl(const std::string& id) const { return base + "/authz/" + id; }
std::string Request::ChallengeUrl(const std::string& az, const std::string& ch) const {
  return base + "/challenge/" + az + "/" + ch;
}
std::string Request::CertUrl(const std::string& id) const { return base + "/certificate/" + id; }

}  // namespace acme
}  // namespace stepca
