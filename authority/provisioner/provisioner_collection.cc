#include "authority/provisioner/provisioner_collection.h"

#include <openssl/sha.h>

#include <map>
#include <mutex>
#include <utility>

#include "shared/base64.h"

namespace stepca {
namespace {

std::string Quote(const std::string& s) { return "\"" + s + "\""; }

}  // namespace

struct ProvisionerCollection::Set {
  std::vector<std::shared_ptr<const Provisioner>> list;
  size_t from_config = 0;  // list[0, from_config) came from ca.json
  std::vector<std::string> uids;  // hex, 40 chars
  std::map<std::string, size_t> by_selector;
  std::map<std::string, size_t> by_name;
  std::map<std::string, const JwkProvisioner*> by_kid;

  Status Append(std::shared_ptr<const Provisioner> p, const std::string& field) {
    const std::string selector = p->token_selector();
    if (by_selector.count(selector) || by_name.count(p->name()))
      return InvalidArgument("field " + Quote(field + ".name") + ": duplicate provisioner " +
                             Quote(p->name()));
    const size_t index = list.size();
    unsigned char md[SHA_DIGEST_LENGTH];
    const std::string id = p->id();
    SHA1(reinterpret_cast<const unsigned char*>(id.data()), id.size(), md);
    std::string uid;
    uid.push_back(static_cast<char>((index >> 24) & 0xff));
    uid.push_back(static_cast<char>((index >> 16) & 0xff));
    uid.push_back(static_cast<char>((index >> 8) & 0xff));
    uid.push_back(static_cast<char>(index & 0xff));
    uid.append(reinterpret_cast<char*>(md) + 4, 16);
    uids.push_back(HexEncode(uid));
    by_selector[selector] = index;
    by_name[p->name()] = index;
    if (const auto* jwk = dynamic_cast<const JwkProvisioner*>(p.get())) by_kid[jwk->kid()] = jwk;
    list.push_back(std::move(p));
    return Status::Ok();
  }
};

struct ProvisionerCollection::State {
  mutable std::mutex mu;
  std::shared_ptr<const Set> current = std::make_shared<Set>();
  // Replaced sets, kept until no request can still hold their pointers.
  std::vector<std::pair<std::chrono::steady_clock::time_point, std::shared_ptr<const Set>>> retired;
};

ProvisionerCollection::ProvisionerCollection() : state_(std::make_unique<State>()) {}
ProvisionerCollection::~ProvisionerCollection() = default;
ProvisionerCollection::ProvisionerCollection(ProvisionerCollection&&) noexcept = default;
ProvisionerCollection& ProvisionerCollection::operator=(ProvisionerCollection&&) noexcept = default;

std::shared_ptr<const ProvisionerCollection::Set> ProvisionerCollection::Current() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  return state_->current;
}

Status ProvisionerCollection::Add(std::unique_ptr<Provisioner> p, const std::string& field) {
  std::lock_guard<std::mutex> lock(state_->mu);
  // Load time: nothing reads the set yet, and ca.json's come first.
  auto next = std::make_shared<Set>(*state_->current);
  if (next->from_config != next->list.size())
    return InvalidArgument("field " + Quote(field) + ": ca.json provisioners are added first");
  STEPCA_RETURN_IF_ERROR(next->Append(std::shared_ptr<const Provisioner>(std::move(p)), field));
  next->from_config = next->list.size();
  state_->current = std::move(next);
  return Status::Ok();
}

Status ProvisionerCollection::ReplaceManaged(std::vector<std::unique_ptr<Provisioner>> managed) {
  std::shared_ptr<const Set> base = Current();
  auto next = std::make_shared<Set>();
  for (size_t i = 0; i < base->from_config; ++i)
    STEPCA_RETURN_IF_ERROR(next->Append(base->list[i], "authority.provisioners"));
  next->from_config = base->from_config;
  for (auto& p : managed) {
    const std::string field = "admin provisioner " + Quote(p->name());
    STEPCA_RETURN_IF_ERROR(next->Append(std::shared_ptr<const Provisioner>(std::move(p)), field));
  }
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard<std::mutex> lock(state_->mu);
  auto& retired = state_->retired;
  for (size_t i = 0; i < retired.size();) {
    if (now - retired[i].first > kRetiredLifetime) retired.erase(retired.begin() + i);
    else ++i;
  }
  retired.emplace_back(now, std::move(state_->current));
  state_->current = std::move(next);
  return Status::Ok();
}

const Provisioner* ProvisionerCollection::BySelector(const std::string& selector) const {
  auto set = Current();
  auto it = set->by_selector.find(selector);
  return it == set->by_selector.end() ? nullptr : set->list[it->second].get();
}

const Provisioner* ProvisionerCollection::ByName(const std::string& name) const {
  auto set = Current();
  auto it = set->by_name.find(name);
  return it == set->by_name.end() ? nullptr : set->list[it->second].get();
}

const JwkProvisioner* ProvisionerCollection::JwkByKid(const std::string& kid) const {
  auto set = Current();
  auto it = set->by_kid.find(kid);
  return it == set->by_kid.end() ? nullptr : it->second;
}

bool ProvisionerCollection::IsFromConfig(const std::string& name) const {
  auto set = Current();
  auto it = set->by_name.find(name);
  return it != set->by_name.end() && it->second < set->from_config;
}

size_t ProvisionerCollection::size() const { return Current()->list.size(); }

const Provisioner& ProvisionerCollection::at(size_t i) const { return *Current()->list.at(i); }

std::vector<const Provisioner*> ProvisionerCollection::Page(const std::string& cursor, size_t limit,
                                                            std::string* next_cursor) const {
  auto set = Current();
  std::string padded = cursor;
  if (padded.size() < 40) padded.insert(0, 40 - padded.size(), '0');
  size_t start = 0;
  while (start < set->uids.size() && set->uids[start] < padded) ++start;
  std::vector<const Provisioner*> out;
  size_t i = start;
  for (; i < set->list.size() && out.size() < limit; ++i) out.push_back(set->list[i].get());
  next_cursor->clear();
  if (i < set->list.size()) {
    const std::string& uid = set->uids[i];
    size_t nz = uid.find_first_not_of('0');
    *next_cursor = nz == std::string::npos ? "0" : uid.substr(nz);
  }
  return out;
}

}  // namespace stepca
