#include "authority/state/acme_accounts.h"

#include "authority/state/record_json.h"

namespace stepca {
namespace {

constexpr std::chrono::seconds kForever{0};

std::string KeyIndexKey(std::string_view provisioner, std::string_view thumbprint) {
  return "acme_acct_key/" + std::string(provisioner) + "/" + std::string(thumbprint);
}

std::string EabKey(std::string_view provisioner, std::string_view kid) {
  return "acme_eab_bound/" + std::string(provisioner) + "/" + std::string(kid);
}

}  // namespace

std::string AcmeAccounts::Key(std::string_view id) { return "acme_acct/" + std::string(id); }

std::string AcmeAccounts::Encode(const acme::Account& a) {
  using namespace state_json;
  JsonPtr j(json_object());
  SetNonEmpty(j.get(), "id", a.id);
  SetNonEmpty(j.get(), "provisioner", a.provisioner);
  SetNonEmpty(j.get(), "status", a.status);
  json_object_set_new(j.get(), "contact", StringArray(a.contact));
  SetNonEmpty(j.get(), "key", a.key);
  SetNonEmpty(j.get(), "thumbprint", a.thumbprint);
  SetNonEmpty(j.get(), "createdAt", a.created_at);
  SetNonEmpty(j.get(), "eabKid", a.eab_kid);
  return Dump(j.get());
}

std::optional<acme::Account> AcmeAccounts::Decode(std::string_view bytes) {
  using namespace state_json;
  JsonPtr j = LoadObject(bytes);
  if (!j) return std::nullopt;
  acme::Account a;
  a.id = String(j.get(), "id");
  a.provisioner = String(j.get(), "provisioner");
  a.status = String(j.get(), "status");
  a.contact = Strings(j.get(), "contact");
  a.key = String(j.get(), "key");
  a.thumbprint = String(j.get(), "thumbprint");
  a.created_at = String(j.get(), "createdAt");
  a.eab_kid = String(j.get(), "eabKid");
  if (a.id.empty() || a.key.empty()) return std::nullopt;
  return a;
}

Result<std::optional<Stored<acme::Account>>> AcmeAccounts::Load(std::string_view id) {
  STEPCA_ASSIGN_OR_RETURN(auto bytes, store_.Get(Key(id)));
  if (!bytes) return std::optional<Stored<acme::Account>>();
  auto a = Decode(*bytes);
  if (!a) return Internal("acme: damaged account record " + std::string(id));
  return std::optional<Stored<acme::Account>>(Stored<acme::Account>{std::move(*a), std::move(*bytes)});
}

Result<std::optional<std::string>> AcmeAccounts::KeyHolder(std::string_view provisioner,
                                                           std::string_view thumbprint) {
  return store_.Get(KeyIndexKey(provisioner, thumbprint));
}

Result<std::optional<Stored<acme::Account>>> AcmeAccounts::FindByKey(std::string_view provisioner,
                                                                     std::string_view thumbprint) {
  STEPCA_ASSIGN_OR_RETURN(auto id, KeyHolder(provisioner, thumbprint));
  if (!id) return std::optional<Stored<acme::Account>>();
  STEPCA_ASSIGN_OR_RETURN(auto acct, Load(*id));
  if (acct && acct->record.thumbprint != thumbprint) return std::optional<Stored<acme::Account>>();
  return acct;
}

Status AcmeAccounts::Insert(const acme::Account& account) {
  return store_.PutIfAbsent(Key(account.id), Encode(account), kForever);
}

Status AcmeAccounts::BindKey(std::string_view provisioner, std::string_view thumbprint,
                             std::string_view account_id) {
  return store_.PutIfAbsent(KeyIndexKey(provisioner, thumbprint), account_id, kForever);
}

Status AcmeAccounts::UnbindKey(std::string_view provisioner, std::string_view thumbprint) {
  return store_.Delete(KeyIndexKey(provisioner, thumbprint));
}

Status AcmeAccounts::BindEab(std::string_view provisioner, std::string_view kid,
                             std::string_view account_id) {
  return store_.PutIfAbsent(EabKey(provisioner, kid), account_id, kForever);
}

Status AcmeAccounts::UnbindEab(std::string_view provisioner, std::string_view kid) {
  return store_.Delete(EabKey(provisioner, kid));
}

Status AcmeAccounts::Withdraw(std::string_view id) { return store_.Delete(Key(id)); }

Status AcmeAccounts::Replace(const Stored<acme::Account>& from, const acme::Account& next) {
  return store_.CompareAndSwap(Key(from.record.id), from.bytes, Encode(next), kForever);
}

}  // namespace stepca
