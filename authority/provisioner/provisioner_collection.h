// The provisioners in ca.json order, indexed for token selection and the
// paginated listing.
#ifndef STEPCA_AUTHORITY_PROVISIONER_PROVISIONER_COLLECTION_H
#define STEPCA_AUTHORITY_PROVISIONER_PROVISIONER_COLLECTION_H

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "authority/provisioner/jwk_provisioner.h"
#include "authority/provisioner/provisioner.h"
#include "authority/status.h"

namespace stepca {

class ProvisionerCollection {
 public:
  // field names the entry for errors ("authority.provisioners[1]").
  Status Add(std::unique_ptr<Provisioner> p, const std::string& field);

  const Provisioner* BySelector(const std::string& selector) const;
  const Provisioner* ByName(const std::string& name) const;
  const JwkProvisioner* JwkByKid(const std::string& kid) const;
  size_t size() const { return list_.size(); }
  const Provisioner& at(size_t i) const { return *list_[i]; }

  // step-ca's cursor pagination: items whose uid (4-byte index || last 16
  // bytes of SHA-1(id)) is >= cursor; next cursor "" at the end.
  std::vector<const Provisioner*> Page(const std::string& cursor, size_t limit,
                                       std::string* next_cursor) const;

 private:
  std::vector<std::unique_ptr<Provisioner>> list_;
  std::vector<std::string> uids_;  // hex, 40 chars
  std::map<std::string, size_t> by_selector_;
  std::map<std::string, size_t> by_name_;
  std::map<std::string, const JwkProvisioner*> by_kid_;
};

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_PROVISIONER_PROVISIONER_COLLECTION_H
