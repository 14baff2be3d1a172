#include "authority/admin/admin_service.h"

#include <openssl/rand.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "authority/provisioner/parse_provisioner.h"
#include "authority/state/managed_config.h"
#include "authority/uuid.h"

namespace stepca::admin {
namespace {

constexpr int kMaxWriteAttempts = 8;

std::string Quote(const std::string& s) { return "\"" + s + "\""; }

std::string Str(const json_t* obj, const char* name) {
  const json_t* v = json_object_get(obj, name);
  return json_is_string(v) ? std::string(json_string_value(v), json_string_length(v)) : "";
}

AdminRecord ToRecord(const json_t* a) {
  AdminRecord r;
  r.id = Str(a, "id");
  r.subject = Str(a, "subject");
  r.provisioner_id = Str(a, "provisionerId");
  auto t = ReadAdminType(json_object_get(a, "type"));
  r.type = t.ok() ? t.value() : AdminType::kUnknown;
  r.created_at = Str(a, "createdAt");
  return r;
}

JsonPtr StoredAdmin(const AdminRecord& r) { return AdminService::AdminProtoJson(r); }

size_t CountSuper(const json_t* admins, const std::string& except_provisioner,
                  const std::string& except_admin) {
  size_t n = 0, i;
  const json_t* a;
  json_array_foreach(admins, i, a) {
    AdminRecord r = ToRecord(a);
    if (r.type == AdminType::kSuperAdmin && r.provisioner_id != except_provisioner &&
        r.id != except_admin)
      ++n;
  }
  return n;
}

// Index of the stored provisioner with this name (or id), or -1.
long FindProvisioner(const json_t* provisioners, const std::string& name, const std::string& id) {
  size_t i;
  const json_t* p;
  json_array_foreach(provisioners, i, p) {
    if ((!id.empty() && Str(p, "id") == id) || (id.empty() && Str(p, "name") == name))
      return static_cast<long>(i);
  }
  return -1;
}

long FindAdminIndex(const json_t* admins, const std::string& id) {
  size_t i;
  const json_t* a;
  json_array_foreach(admins, i, a) if (Str(a, "id") == id) return static_cast<long>(i);
  return -1;
}

}  // namespace

AdminService::AdminService(AdminSettings settings, Store& store,
                           ProvisionerCollection& provisioners, const TimeSource& clock)
    : settings_(std::move(settings)), store_(store), provisioners_(provisioners),
      clock_(clock), admins_(json_array()), stored_provisioners_(json_array()) {}

JsonPtr AdminService::AdminProtoJson(const AdminRecord& a) {
  JsonPtr o(json_object());
  json_object_set_new(o.get(), "id", json_string(a.id.c_str()));
  json_object_set_new(o.get(), "authorityId", json_string(kDefaultAuthorityId));
  json_object_set_new(o.get(), "subject", json_string(a.subject.c_str()));
  json_object_set_new(o.get(), "provisionerId", json_string(a.provisioner_id.c_str()));
  json_object_set_new(o.get(), "type", json_string(AdminTypeName(a.type)));
  if (!a.created_at.empty()) json_object_set_new(o.get(), "createdAt", json_string(a.created_at.c_str()));
  return o;
}

JsonPtr AdminService::AdminGoJson(const AdminRecord& a) {
  JsonPtr o(json_object());
  json_object_set_new(o.get(), "id", json_string(a.id.c_str()));
  json_object_set_new(o.get(), "authority_id", json_string(kDefaultAuthorityId));
  json_object_set_new(o.get(), "subject", json_string(a.subject.c_str()));
  json_object_set_new(o.get(), "provisioner_id", json_string(a.provisioner_id.c_str()));
  json_object_set_new(o.get(), "type", json_integer(static_cast<int>(a.type)));
  if (auto t = ParseRfc3339(a.created_at)) {
    const auto secs = std::chrono::duration_cast<std::chrono::seconds>(t->time_since_epoch());
    json_object_set_new(o.get(), "created_at", json_pack("{s:I}", "seconds",
                                                         static_cast<json_int_t>(secs.count())));
  }
  return o;
}

Status AdminService::Bootstrap() {
  ManagedConfigRecords records(store_);
  STEPCA_ASSIGN_OR_RETURN(auto read, records.Read());
  if (read.record.generation != 0) return Status::Ok();
  AdminRecord first;
  first.id = NewUuidV4();
  first.subject = kFirstAdminSubject;
  first.provisioner_id = settings_.first_jwk_id;
  first.type = AdminType::kSuperAdmin;
  first.created_at = FormatRfc3339(clock_.Now());
  ManagedConfig next;
  next.provisioners.reset(json_array());
  next.admins.reset(json_array());
  json_array_append_new(next.admins.get(), StoredAdmin(first).release());
  auto written = records.Replace(read, next);
  // Another node wrote the first record: theirs stands.
  if (!written.ok() && written.status().code() != Code::kAlreadyExists) return written.status();
  return Status::Ok();
}

Status AdminService::Refresh() {
  if (!bootstrapped_.load(std::memory_order_acquire)) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!bootstrapped_.load(std::memory_order_relaxed)) {
      STEPCA_RETURN_IF_ERROR(Bootstrap().Wrap("admin: first super admin"));
      bootstrapped_.store(true, std::memory_order_release);
    }
  }
  // The common case takes no lock: one read, and the counter is the one seen.
  ManagedConfigRecords records(store_);
  STEPCA_ASSIGN_OR_RETURN(int64_t counter, records.Generation());
  const int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                          std::chrono::steady_clock::now().time_since_epoch())
                          .count();
  const int64_t interval =
      std::chrono::nanoseconds(ManagedConfigRecords::kFullReadInterval).count();
  auto fresh = [&] {
    return counter == seen_counter_.load(std::memory_order_acquire) &&
           now - last_full_read_.load(std::memory_order_acquire) < interval;
  };
  if (fresh()) return Status::Ok();
  std::lock_guard<std::mutex> lock(mu_);
  if (fresh()) return Status::Ok();  // another thread rebuilt meanwhile
  STEPCA_ASSIGN_OR_RETURN(auto read, records.Read());
  if (read.record.generation != generation_) {
    STEPCA_RETURN_IF_ERROR(Rebuild(read.record.provisioners.get()));
    admins_ = std::move(read.record.admins);
    stored_provisioners_ = std::move(read.record.provisioners);
    generation_ = read.record.generation;
  }
  seen_counter_.store(counter, std::memory_order_release);
  last_full_read_.store(now, std::memory_order_release);
  return Status::Ok();
}

Status AdminService::Rebuild(const json_t* provisioners) {
  std::vector<std::unique_ptr<Provisioner>> list;
  size_t i;
  const json_t* p;
  json_array_foreach(provisioners, i, p) {
    const std::string name = Str(p, "name");
    auto config = ToConfigProvisioner(p);
    if (!config.ok()) return Internal("stored provisioner " + Quote(name) + ": " + config.status().message());
    std::vector<std::string> warnings;
    auto parsed = ParseProvisioner(config->get(), "admin provisioner " + Quote(name),
                                   settings_.global_claims, &warnings, settings_.config_dir);
    if (!parsed.ok()) return Internal(parsed.status().message());
    list.push_back(std::move(parsed).value());
  }
  return provisioners_.ReplaceManaged(std::move(list));
}

std::string AdminService::ProvisionerNameOf(const json_t* provisioners, const std::string& id) const {
  for (const auto& [pid, name] : settings_.config_provisioners)
    if (pid == id) return name;
  long i = FindProvisioner(provisioners, "", id);
  return i < 0 ? "" : Str(json_array_get(provisioners, i), "name");
}

Status AdminService::Mutate(const std::function<Status(json_t*, json_t*)>& change) {
  ManagedConfigRecords records(store_);
  for (int attempt = 0; attempt < kMaxWriteAttempts; ++attempt) {
    STEPCA_ASSIGN_OR_RETURN(auto read, records.Read());
    ManagedConfig next;
    next.provisioners.reset(json_deep_copy(read.record.provisioners.get()));
    next.admins.reset(json_deep_copy(read.record.admins.get()));
    STEPCA_RETURN_IF_ERROR(change(next.provisioners.get(), next.admins.get()));
    auto written = records.Replace(read, next);
    if (written.ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      // Built now so that this node answers with the change at once; a
      // failure here (a provisioner this node cannot parse) leaves the
      // next Refresh to try again.
      Status rebuilt = Rebuild(next.provisioners.get());
      if (!rebuilt.ok()) return rebuilt;
      admins_ = std::move(next.admins);
      stored_provisioners_ = std::move(next.provisioners);
      generation_ = written.value();
      seen_counter_.store(written.value(), std::memory_order_release);
      return Status::Ok();
    }
    if (written.status().code() != Code::kAlreadyExists) return written.status();
  }
  return Unavailable("store unavailable: the admin record kept changing; try again");
}

Result<AdminRecord> AdminService::FindAdmin(const std::vector<std::string>& subjects,
                                            const std::string& provisioner_name) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& s : subjects) {
    size_t i;
    const json_t* a;
    json_array_foreach(admins_.get(), i, a) {
      AdminRecord r = ToRecord(a);
      if (r.subject == s &&
          ProvisionerNameOf(stored_provisioners_.get(), r.provisioner_id) == provisioner_name)
        return r;
    }
  }
  std::string list;
  for (const auto& s : subjects) list += (list.empty() ? "" : " ") + s;
  return Unauthenticated("unable to load admin with subject(s) [" + list + "] and provisioner " +
                         Quote(provisioner_name));
}

Result<std::vector<AdminRecord>> AdminService::ListAdmins(const std::string& cursor, size_t limit,
                                                          std::string* next_cursor) {
  std::vector<AdminRecord> all;
  {
    std::lock_guard<std::mutex> lock(mu_);
    size_t i;
    const json_t* a;
    json_array_foreach(admins_.get(), i, a) all.push_back(ToRecord(a));
  }
  std::sort(all.begin(), all.end(),
            [](const AdminRecord& x, const AdminRecord& y) { return x.id < y.id; });
  std::vector<AdminRecord> out;
  next_cursor->clear();
  for (auto& r : all) {
    if (r.id < cursor) continue;
    if (out.size() == limit) {
      *next_cursor = r.id;
      break;
    }
    out.push_back(std::move(r));
  }
  return out;
}

Result<AdminRecord> AdminService::GetAdmin(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  long i = FindAdminIndex(admins_.get(), id);
  if (i < 0) return NotFound("admin " + id + " not found");
  return ToRecord(json_array_get(admins_.get(), i));
}

Result<AdminRecord> AdminService::CreateAdmin(const std::string& subject,
                                              const std::string& provisioner, AdminType type) {
  const Provisioner* p = provisioners_.ByName(provisioner);
  if (p == nullptr) return NotFound("provisioner " + provisioner + " not found");
  AdminRecord created;
  Status st = Mutate([&](json_t* provisioners, json_t* admins) -> Status {
    std::string pid;
    for (const auto& [id, name] : settings_.config_provisioners)
      if (name == provisioner) pid = id;
    if (pid.empty()) {
      long i = FindProvisioner(provisioners, provisioner, "");
      if (i < 0) return NotFound("provisioner " + provisioner + " not found");
      pid = Str(json_array_get(provisioners, i), "id");
    }
    size_t i;
    const json_t* a;
    json_array_foreach(admins, i, a) {
      AdminRecord r = ToRecord(a);
      if (r.subject == subject && r.provisioner_id == pid)
        return InvalidArgument("admin with subject " + subject + " and provisioner " +
                               provisioner + " already exists");
    }
    created = AdminRecord{NewUuidV4(), subject, pid, type, FormatRfc3339(clock_.Now())};
    json_array_append_new(admins, StoredAdmin(created).release());
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return created;
}

Result<AdminRecord> AdminService::UpdateAdmin(const std::string& id, AdminType type) {
  AdminRecord updated;
  Status st = Mutate([&](json_t*, json_t* admins) -> Status {
    long i = FindAdminIndex(admins, id);
    if (i < 0) return NotFound("admin " + id + " not found");
    updated = ToRecord(json_array_get(admins, i));
    if (updated.type == AdminType::kSuperAdmin && type != AdminType::kSuperAdmin &&
        CountSuper(admins, "", id) == 0)
      return InvalidArgument("error updating admin " + id +
                             ": cannot change role of last super admin");
    updated.type = type;
    json_array_set_new(admins, i, StoredAdmin(updated).release());
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return updated;
}

Status AdminService::RemoveAdmin(const std::string& id) {
  return Mutate([&](json_t*, json_t* admins) -> Status {
    long i = FindAdminIndex(admins, id);
    if (i < 0) return NotFound("admin " + id + " not found");
    AdminRecord r = ToRecord(json_array_get(admins, i));
    if (r.type == AdminType::kSuperAdmin && CountSuper(admins, "", id) == 0)
      return InvalidArgument("error deleting admin " + id + ": cannot remove the last super admin");
    json_array_remove(admins, i);
    return Status::Ok();
  });
}

Result<JsonPtr> AdminService::GetProvisioner(const std::string& name, const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  long i = FindProvisioner(stored_provisioners_.get(), name, id);
  if (i >= 0) return JsonPtr(json_deep_copy(json_array_get(stored_provisioners_.get(), i)));
  for (const auto& [pid, pname] : settings_.config_provisioners) {
    if ((!id.empty() && pid == id) || (id.empty() && pname == name)) {
      const Provisioner* p = provisioners_.ByName(pname);
      if (p == nullptr) break;
      return JsonPtr(json_pack("{s:s,s:s,s:s}", "id", pid.c_str(), "type",
                               p->type_name().c_str(), "name", pname.c_str()));
    }
  }
  return NotFound("provisioner " + (id.empty() ? name : id) + " not found");
}

namespace {

// The checks a new or changed provisioner passes before it is stored:
// it converts, and it parses as ca.json's would.
Status Validate(const json_t* p, const AdminSettings& s, std::string* selector, std::string* kid) {
  STEPCA_ASSIGN_OR_RETURN(JsonPtr config, ToConfigProvisioner(p));
  std::vector<std::string> warnings;
  auto parsed = ParseProvisioner(config.get(), "provisioner", s.global_claims, &warnings,
                                 s.config_dir);
  if (!parsed.ok()) return InvalidArgument(parsed.status().message());
  *selector = (*parsed)->token_selector();
  if (const auto* jwk = dynamic_cast<const JwkProvisioner*>(parsed->get())) *kid = jwk->kid();
  return Status::Ok();
}

}  // namespace

Result<JsonPtr> AdminService::CreateProvisioner(const json_t* body) {
  std::string selector, kid;
  STEPCA_RETURN_IF_ERROR(Validate(body, settings_, &selector, &kid));
  const std::string name = Str(body, "name");
  if (provisioners_.ByName(name) != nullptr)
    return InvalidArgument("provisioner with name " + name + " already exists");
  if (provisioners_.BySelector(selector) != nullptr)
    return InvalidArgument("provisioner with token ID " + selector + " already exists");
  // Tokens and /provisioners/{kid}/encrypted-key find a JWK by its kid.
  if (!kid.empty() && provisioners_.JwkByKid(kid) != nullptr)
    return InvalidArgument("provisioner with key id " + kid + " already exists");
  JsonPtr stored(json_deep_copy(body));
  json_object_set_new(stored.get(), "id", json_string(NewUuidV4().c_str()));
  json_object_set_new(stored.get(), "authorityId", json_string(kDefaultAuthorityId));
  json_object_set_new(stored.get(), "createdAt", json_string(FormatRfc3339(clock_.Now()).c_str()));
  json_object_del(stored.get(), "deletedAt");
  Status st = Mutate([&](json_t* provisioners, json_t*) -> Status {
    if (FindProvisioner(provisioners, name, "") >= 0)
      return InvalidArgument("provisioner with name " + name + " already exists");
    json_array_append(provisioners, stored.get());
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return stored;
}

Result<JsonPtr> AdminService::UpdateProvisioner(const std::string& name, const json_t* body) {
  if (provisioners_.IsFromConfig(name))
    return InvalidArgument("provisioner " + name +
                           " is configured in ca.json; change it there, not through the admin API");
  std::string selector, kid;
  STEPCA_RETURN_IF_ERROR(Validate(body, settings_, &selector, &kid));
  const std::string new_name = Str(body, "name");
  if (const JwkProvisioner* same = kid.empty() ? nullptr : provisioners_.JwkByKid(kid);
      same != nullptr && same->name() != name)
    return InvalidArgument("provisioner with key id " + kid + " already exists");
  JsonPtr stored;
  Status st = Mutate([&](json_t* provisioners, json_t*) -> Status {
    long i = FindProvisioner(provisioners, name, "");
    if (i < 0) return NotFound("provisioner " + name + " not found");
    const json_t* old = json_array_get(provisioners, i);
    if (Str(body, "id") != Str(old, "id")) return InvalidArgument("cannot change provisioner ID");
    auto old_type = ReadProvisionerType(json_object_get(old, "type"));
    auto new_type = ReadProvisionerType(json_object_get(body, "type"));
    if (!old_type.ok() || !new_type.ok() || old_type.value() != new_type.value())
      return InvalidArgument("cannot change provisioner type");
    const std::string authority = Str(body, "authorityId");
    if (!authority.empty() && authority != Str(old, "authorityId"))
      return InvalidArgument("cannot change provisioner authorityID");
    if (new_name != name) {
      if (FindProvisioner(provisioners, new_name, "") >= 0 || provisioners_.ByName(new_name))
        return InvalidArgument("provisioner with name " + new_name + " already exists");
    }
    stored.reset(json_deep_copy(body));
    json_object_set_new(stored.get(), "authorityId", json_string(Str(old, "authorityId").c_str()));
    json_object_set_new(stored.get(), "createdAt", json_string(Str(old, "createdAt").c_str()));
    json_object_del(stored.get(), "deletedAt");
    json_array_set(provisioners, i, stored.get());
    return Status::Ok();
  });
  if (!st.ok()) return st;
  return stored;
}

Status AdminService::RemoveProvisioner(const std::string& name, const std::string& id) {
  if (id.empty() && provisioners_.IsFromConfig(name))
    return InvalidArgument("provisioner " + name +
                           " is configured in ca.json; remove it there, not through the admin API");
  return Mutate([&](json_t* provisioners, json_t* admins) -> Status {
    long i = FindProvisioner(provisioners, name, id);
    if (i < 0) {
      for (const auto& [pid, pname] : settings_.config_provisioners)
        if (pid == id)
          return InvalidArgument("provisioner " + pname +
                                 " is configured in ca.json; remove it there, not through the admin API");
      return NotFound("provisioner " + (id.empty() ? name : id) + " not found");
    }
    const json_t* p = json_array_get(provisioners, i);
    const std::string pid = Str(p, "id"), pname = Str(p, "name");
    if (CountSuper(admins, pid, "") == 0)
      return InvalidArgument("cannot remove provisioner " + pname +
                             " because no super admins will remain");
    // Its admins go with it, as in step-ca.
    for (size_t j = json_array_size(admins); j-- > 0;)
      if (Str(json_array_get(admins, j), "provisionerId") == pid) json_array_remove(admins, j);
    json_array_remove(provisioners, i);
    return Status::Ok();
  });
}

}  // namespace stepca::admin
