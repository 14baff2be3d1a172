// ACME accounts, the index from an account key to its account, and the
// binding of an external account binding (EAB) key to the account it made.
//
//   acme_acct/<id>                     the account, JSON, kept forever:
//       id, provisioner, status ("valid", "deactivated", "revoked"),
//       contact [mailto URLs], key (the JWK, compact JSON), thumbprint
//       (RFC 7638, base64url), createdAt (RFC 3339), eabKid (when bound)
//   acme_acct_key/<prov>/<thumbprint>  the id of the account holding that
//                                      key; kept forever. Set-if-absent, so
//                                      one key makes one account.
//   acme_eab_bound/<prov>/<kid>        the id of the account an EAB key
//                                      made; kept forever. Set-if-absent, so
//                                      an EAB key makes one account.
//
// The account is written before its key index, so a reader that finds the
// index finds the account. Changes to an account are compare-and-sets from
// the bytes read (Stored<Account>).
#ifndef STEPCA_AUTHORITY_STATE_ACME_ACCOUNTS_H
#define STEPCA_AUTHORITY_STATE_ACME_ACCOUNTS_H

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "authority/state/stored.h"
#include "authority/status.h"
#include "authority/store/store.h"

namespace stepca {
namespace acme {

struct Account {
  std::string id;
  std::string provisioner;
  std::string status = "valid";   // valid, deactivated, revoked
  std::vector<std::string> contact;
  std::string key;                // the JWK, compact JSON
  std::string thumbprint;
  std::string created_at;
  std::string eab_kid;
};

}  // namespace acme

class AcmeAccounts {
 public:
  explicit AcmeAccounts(Store& store) : store_(store) {}

  // nullopt when absent. A damaged record is kInternal.
  [[nodiscard]] Result<std::optional<Stored<acme::Account>>> Load(std::string_view id);

  // The account holding the key with this thumbprint under provisioner;
  // nullopt when none (or when the index names an account that is gone or
  // no longer has that key: a key change's leftover).
  [[nodiscard]] Result<std::optional<Stored<acme::Account>>> FindByKey(
      std::string_view provisioner, std::string_view thumbprint);
  // The account id the index names, without reading the account.
  [[nodiscard]] Result<std::optional<std::string>> KeyHolder(std::string_view provisioner,
                                                             std::string_view thumbprint);

  // Writes a new account under its (fresh) id. kAlreadyExists if the id is
  // taken.
  [[nodiscard]] Status Insert(const acme::Account& account);
  // Binds thumbprint to account_id. kAlreadyExists when the key is bound.
  [[nodiscard]] Status BindKey(std::string_view provisioner, std::string_view thumbprint,
                               std::string_view account_id);
  [[nodiscard]] Status UnbindKey(std::string_view provisioner, std::string_view thumbprint);
  // Binds an EAB key id to account_id. kAlreadyExists when it is bound.
  [[nodiscard]] Status BindEab(std::string_view provisioner, std::string_view kid,
                               std::string_view account_id);
  [[nodiscard]] Status UnbindEab(std::string_view provisioner, std::string_view kid);
  // Removes an account nobody can reach yet (its key index was lost to
  // another account).
  [[nodiscard]] Status Withdraw(std::string_view id);

  // from -> next by compare-and-set; kAlreadyExists when the record is no
  // longer from.bytes (the caller re-reads).
  [[nodiscard]] Status Replace(const Stored<acme::Account>& from, const acme::Account& next);

  static std::string Encode(const acme::Account& account);
  // nullopt when the bytes are not an account (not JSON, no id or key).
  static std::optional<acme::Account> Decode(std::string_view bytes);
  static std::string Key(std::string_view id);

 private:
  Store& store_;
};

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_STATE_ACME_ACCOUNTS_H
