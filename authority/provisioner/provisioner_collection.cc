#include "authority/provisioner/provisioner_collection.h"

#include <openssl/sha.h>

#include "shared/base64.h"

namespace stepca {
namespace {

std::string Quote(const std::string& s) { return "\"" + s + "\""; }

}  // namespace

Status ProvisionerCollection::Add(std::unique_ptr<Provisioner> p, const std::string& field) {
  const std::string selector = p->token_selector();
  if (by_selector_.count(selector) || by_name_.count(p->name()))
    return InvalidArgument("field " + Quote(field + ".name") + ": duplicate provisioner " +
                           Quote(p->name()));
  const size_t index = list_.size();
  unsigned char md[SHA_DIGEST_LENGTH];
  const std::string id = p->id();
  SHA1(reinterpret_cast<const unsigned char*>(id.data()), id.size(), md);
  std::string uid;
  uid.push_back(static_cast<char>((index >> 24) & 0xff));
  uid.push_back(static_cast<char>((index >> 16) & 0xff));
  uid.push_back(static_cast<char>((index >> 8) & 0xff));
  uid.push_back(static_cast<char>(index & 0xff));
  uid.append(reinterpret_cast<char*>(md) + 4, 16);
  uids_.push_back(HexEncode(uid));
  by_selector_[selector] = index;
  by_name_[p->name()] = index;
  if (const auto* jwk = dynamic_cast<const JwkProvisioner*>(p.get())) by_kid_[jwk->kid()] = jwk;
  list_.push_back(std::move(p));
  return Status::Ok();
}

const Provisioner* ProvisionerCollection::BySelector(const std::string& selector) const {
  auto it = by_selector_.find(selector);
  return it == by_selector_.end() ? nullptr : list_[it->second].get();
}

const Provisioner* ProvisionerCollection::ByName(const std::string& name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : list_[it->second].get();
}

const JwkProvisioner* ProvisionerCollection::JwkByKid(const std::string& kid) const {
  auto it = by_kid_.find(kid);
  return it == by_kid_.end() ? nullptr : it->second;
}

std::vector<const Provisioner*> ProvisionerCollection::Page(const std::string& cursor, size_t limit,
                                                            std::string* next_cursor) const {
  std::string padded = cursor;
  if (padded.size() < 40) padded.insert(0, 40 - padded.size(), '0');
  size_t start = 0;
  while (start < uids_.size() && uids_[start] < padded) ++start;
  std::vector<const Provisioner*> out;
  size_t i = start;
  for (; i < list_.size() && out.size() < limit; ++i) out.push_back(list_[i].get());
  next_cursor->clear();
  if (i < list_.size()) {
    const std::string& uid = uids_[i];
    size_t nz = uid.find_first_not_of('0');
    *next_cursor = nz == std::string::npos ? "0" : uid.substr(nz);
  }
  return out;
}

}  // namespace stepca
