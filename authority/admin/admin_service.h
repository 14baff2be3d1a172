// step-ca's remote provisioner management (authority.enableAdmin): the
// admins and the provisioners kept in the store (state/managed_config.h),
// merged after ca.json's into the one ProvisionerCollection that every
// request reads, and the operations of /admin/admins and
// /admin/provisioners. No HTTP here (admin_routes.h); who may call is
// admin_authorizer.h.
//
// Every node calls Refresh at the start of each request: one read of the
// generation counter, and a rebuild of the store's part of the collection
// only when it moved, so a change made on any node is live on all of them
// from their next request, without a reload.
//
// The first super admin: when the store holds no record yet, subject
// "step" on the first JWK provisioner of ca.json, written with
// compare-and-set from absent so that the fleet's nodes, starting together,
// agree on one. (step-ca 0.19 instead generates a new "Admin JWK"
// provisioner, because under enableAdmin it ignores ca.json's provisioners;
// here ca.json's stay, as the issue asks.)
#ifndef STEPCA_AUTHORITY_ADMIN_ADMIN_SERVICE_H
#define STEPCA_AUTHORITY_ADMIN_ADMIN_SERVICE_H

#include <jansson.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "authority/admin/linkedca.h"
#include "authority/clock/time_source.h"
#include "authority/ossl.h"
#include "authority/provisioner/provisioner_collection.h"
#include "authority/status.h"
#include "authority/store/store.h"
#include "authority/x509/claims.h"
#include "shared/duration.h"

namespace stepca::admin {

constexpr char kDefaultAuthorityId[] = "00000000-0000-0000-0000-000000000000";
constexpr char kFirstAdminSubject[] = "step";

struct AdminSettings {
  Claims global_claims;        // for parsing stored provisioners
  std::string config_dir;      // where relative template files resolve
  // ca.json's provisioners as (id, name), in order: admins may name them.
  std::vector<std::pair<std::string, std::string>> config_provisioners;
  std::string first_jwk_id;    // the first super admin's provisioner
};

// An admin as the API answers it (linkedca.Admin).
struct AdminRecord {
  std::string id;
  std::string subject;
  std::string provisioner_id;
  AdminType type = AdminType::kUnknown;
  std::string created_at;  // RFC 3339
};

class AdminService {
 public:
  AdminService(AdminSettings settings, Store& store, ProvisionerCollection& provisioners,
               const TimeSource& clock);

  // Picks up a change made by any node (see above). On a store error the
  // current set stays and the error is returned for the log.
  Status Refresh();

  // The admin with subject (one of the leaf's names) on provisioner name.
  Result<AdminRecord> FindAdmin(const std::vector<std::string>& subjects,
                                const std::string& provisioner_name);

  // Admins, ordered by id; cursor: the first id to return.
  Result<std::vector<AdminRecord>> ListAdmins(const std::string& cursor, size_t limit,
                                              std::string* next_cursor);
  Result<AdminRecord> GetAdmin(const std::string& id);
  Result<AdminRecord> CreateAdmin(const std::string& subject, const std::string& provisioner,
                                  AdminType type);
  Result<AdminRecord> UpdateAdmin(const std::string& id, AdminType type);
  Status RemoveAdmin(const std::string& id);

  // The stored linkedca provisioner (a copy), by name or by id; ca.json's
  // are answered as {id, type, name}.
  Result<JsonPtr> GetProvisioner(const std::string& name, const std::string& id);
  // body: a linkedca Provisioner. Returns the stored one (id, authorityId,
  // createdAt set).
  Result<JsonPtr> CreateProvisioner(const json_t* body);
  Result<JsonPtr> UpdateProvisioner(const std::string& name, const json_t* body);
  Status RemoveProvisioner(const std::string& name, const std::string& id);

  // protojson of an admin (single answers) and Go's encoding/json of it
  // (the list, as step-ca's GetAdminsResponse is written).
  static JsonPtr AdminProtoJson(const AdminRecord& a);
  static JsonPtr AdminGoJson(const AdminRecord& a);

 private:
  // Runs change over the record read now, then writes it by
  // compare-and-set, again from a fresh read if another writer won; then
  // rebuilds the collection at once.
  Status Mutate(const std::function<Status(json_t* provisioners, json_t* admins)>& change);
  Status Rebuild(const json_t* provisioners);
  Status Bootstrap();
  std::string ProvisionerNameOf(const json_t* provisioners, const std::string& id) const;

  AdminSettings settings_;
  Store& store_;
  ProvisionerCollection& provisioners_;
  const TimeSource& clock_;

  // Read without the lock by every request's Refresh.
  std::atomic<bool> bootstrapped_{false};
  std::atomic<int64_t> seen_counter_{-1};    // admin/generation at the last full read
  std::atomic<int64_t> last_full_read_{0};   // steady clock, nanoseconds

  std::mutex mu_;  // guards what follows; held while rebuilding
  int64_t generation_ = -1;  // of the record loaded
  JsonPtr admins_;  // the admins of the generation loaded
  JsonPtr stored_provisioners_;
};

}  // namespace stepca::admin

#endif  // STEPCA_AUTHORITY_ADMIN_ADMIN_SERVICE_H
