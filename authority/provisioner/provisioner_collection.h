// The provisioners: ca.json's, in its order, then those kept in the store by
// the admin API (authority/admin/), indexed for token selection and the
// paginated listing.
//
// The store's part changes while requests run, so the indexes live in an
// immutable set that ReplaceManaged swaps in one step: a reader sees the
// old set or the new one, never a mix. A pointer handed out stays valid for
// kRetiredLifetime after its set is replaced (no request lasts that long),
// so a request that picked a provisioner just before its removal finishes
// with it instead of reading freed memory.
#ifndef STEPCA_AUTHORITY_PROVISIONER_PROVISIONER_COLLECTION_H
#define STEPCA_AUTHORITY_PROVISIONER_PROVISIONER_COLLECTION_H

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "authority/provisioner/jwk_provisioner.h"
#include "authority/provisioner/provisioner.h"
#include "authority/status.h"

namespace stepca {

class ProvisionerCollection {
 public:
  static constexpr std::chrono::minutes kRetiredLifetime{10};

  ProvisionerCollection();
  ~ProvisionerCollection();
  ProvisionerCollection(ProvisionerCollection&&) noexcept;
  ProvisionerCollection& operator=(ProvisionerCollection&&) noexcept;

  // A ca.json provisioner, at load. field names the entry for errors
  // ("authority.provisioners[1]").
  Status Add(std::unique_ptr<Provisioner> p, const std::string& field);

  // Replaces every provisioner added after ca.json's by these, at once.
  // A name or token selector that collides is kInvalidArgument and nothing
  // changes. Thread-safe against every reader below.
  Status ReplaceManaged(std::vector<std::unique_ptr<Provisioner>> managed);

  const Provisioner* BySelector(const std::string& selector) const;
  const Provisioner* ByName(const std::string& name) const;
  const JwkProvisioner* JwkByKid(const std::string& kid) const;
  // True when name is one of ca.json's (the admin API leaves those alone).
  bool IsFromConfig(const std::string& name) const;
  size_t size() const;
  // The i-th of the current set; i < size() of the same moment.
  const Provisioner& at(size_t i) const;

  // step-ca's cursor pagination: items whose uid (4-byte index || last 16
  // bytes of SHA-1(id)) is >= cursor; next cursor "" at the end.
  std::vector<const Provisioner*> Page(const std::string& cursor, size_t limit,
                                       std::string* next_cursor) const;

 private:
  struct Set;
  struct State;
  std::shared_ptr<const Set> Current() const;
  std::unique_ptr<State> state_;
};

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_PROVISIONER_PROVISIONER_COLLECTION_H
