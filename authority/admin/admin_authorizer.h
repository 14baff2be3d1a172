// Who may call the admin API: step-ca's AuthorizeAdminToken. The bearer
// token is an x5c JWT (step's admin client signs it with the key of a
// certificate this CA issued) whose leaf verifies to our roots for
// clientAuth with digitalSignature, whose signature is the leaf's, spent
// once fleet-wide, valid now (a minute of leeway), for this request's path
// (https://<dnsName>/<path>, or the bare path), issued by
// "step-admin-client/1.0" or the leaf's provisioner, with a subject; and
// one of the leaf's names (CN, DNS names, emails) is an admin of the
// provisioner that issued the leaf.
#ifndef STEPCA_AUTHORITY_ADMIN_ADMIN_AUTHORIZER_H
#define STEPCA_AUTHORITY_ADMIN_ADMIN_AUTHORIZER_H

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "authority/admin/admin_service.h"
#include "authority/ossl.h"
#include "authority/policy/client_certificate.h"
#include "authority/provisioner/provisioner_collection.h"
#include "authority/status.h"
#include "authority/store/store.h"
#include "shared/duration.h"

namespace stepca::admin {

constexpr char kAdminIssuer[] = "step-admin-client/1.0";

struct AuthorizerSettings {
  TrustAnchors anchors;
  std::vector<std::string> dns_names;
};

class AdminAuthorizer {
 public:
  AdminAuthorizer(AuthorizerSettings settings, Store& store,
                  const ProvisionerCollection& provisioners, AdminService& admins,
                  const TimeSource& clock);

  // authorization: the header's value (step's client sends the bare
  // token; "Bearer <token>" is also read). kUnauthenticated with a reason
  // for the client, never the token; kUnavailable when the store fails.
  Result<AdminRecord> Authorize(std::string_view authorization, std::string_view path);

 private:
  bool AudienceMatches(const std::vector<std::string>& aud, std::string_view path) const;

  AuthorizerSettings settings_;
  Store& store_;
  const ProvisionerCollection& provisioners_;
  AdminService& admins_;
  const TimeSource& clock_;
};

}  // namespace stepca::admin

#endif  // STEPCA_AUTHORITY_ADMIN_ADMIN_AUTHORIZER_H
