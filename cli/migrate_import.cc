#include "cli/migrate_import.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <ctime>
#include <set>

#include "authority/jose/jwk.h"
#include "authority/ossl.h"
#include "authority/state/acme_accounts.h"
#include "authority/state/revocations.h"
#include "authority/state/ssh_certificates.h"
#include "authority/x509/issuer.h"

namespace stepca {
namespace cli {
namespace {

bool IsDecimalSerial(const std::string& s) {
  if (s.empty() || s.size() > 80 || (s.size() > 1 && s[0] == '0')) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

std::optional<TimePoint> Asn1Time(const ASN1_TIME* t) {
  struct tm tm {};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return std::nullopt;
  return TimePoint(std::chrono::seconds(timegm(&tm)));
}

// The names the certificate carries (CN, then DNS, e-mail, IP, URI SANs),
// each once, as our own records list them.
std::vector<std::string> CertificateNames(X509* cert) {
  std::vector<std::string> found;
  X509_NAME* subject = X509_get_subject_name(cert);
  int i = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (i >= 0) {
    const ASN1_STRING* cn = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, i));
    found.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(cn)), ASN1_STRING_length(cn));
  }
  auto* sans = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  for (int k = 0; sans != nullptr && k < sk_GENERAL_NAME_num(sans); ++k) {
    const GENERAL_NAME* g = sk_GENERAL_NAME_value(sans, k);
    const ASN1_STRING* s = nullptr;
    if (g->type == GEN_DNS || g->type == GEN_EMAIL || g->type == GEN_URI) s = g->d.ia5;
    if (s != nullptr) {
      found.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)), ASN1_STRING_length(s));
    } else if (g->type == GEN_IPADD) {
      char buf[INET6_ADDRSTRLEN] = {0};
      const int len = g->d.ip->length;
      if ((len == 4 || len == 16) &&
          inet_ntop(len == 4 ? AF_INET : AF_INET6, g->d.ip->data, buf, sizeof buf) != nullptr)
        found.emplace_back(buf);
    }
  }
  GENERAL_NAMES_free(sans);
  std::vector<std::string> out;
  for (auto& n : found)
    if (std::find(out.begin(), out.end(), n) == out.end()) out.push_back(std::move(n));
  return out;
}

class Importer {
 public:
  Importer(Store& store, const MigrationOptions& options) : store_(store), options_(options) {}

  Status Certificates(const std::vector<MigrationCertificate>& certs, KindReport* rep) {
    CertificateRecords records(store_);
    for (const auto& c : certs) {
      if (!IsDecimalSerial(c.serial)) {
        ++rep->skipped["the serial is not a decimal number"];
        continue;
      }
      const unsigned char* p = reinterpret_cast<const unsigned char*>(c.der.data());
      X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(c.der.size())));
      if (!cert || p != reinterpret_cast<const unsigned char*>(c.der.data()) + c.der.size()) {
        ++rep->skipped["the stored certificate does not parse"];
        continue;
      }
      if (SerialDecimal(cert.get()) != c.serial) {
        ++rep->skipped["the certificate's serial is not the one it is stored under"];
        continue;
      }
      CertificateRecord r;
      r.serial = c.serial;
      r.state = CertificateState::kIssued;
      r.provisioner = c.provisioner;
      r.names = CertificateNames(cert.get());
      r.not_after = Asn1Time(X509_get0_notAfter(cert.get()));
      // step-ca keeps no issue time; notBefore (backdated by a minute) is
      // the closest.
      r.issued_at = Asn1Time(X509_get0_notBefore(cert.get()));
      r.der = c.der;
      if (r.not_after) not_after_[c.serial] = *r.not_after;
      Status st = records.Import(r);
      if (st.ok()) {
        ++rep->imported;
      } else if (st.code() == Code::kAlreadyExists) {
        STEPCA_ASSIGN_OR_RETURN(auto existing, records.Find(c.serial));
        ++rep->skipped[existing && existing->der == c.der ? kAlreadyImported
                                                         : "another certificate holds this serial here"];
      } else {
        return st;
      }
    }
    return Status::Ok();
  }

  template <typename Revoke>
  Status Revocations(const std::vector<MigrationRevocation>& list, bool x509, const Revoke& revoke,
                     KindReport* rep) {
    for (const auto& r : list) {
      if (!IsDecimalSerial(r.serial)) {
        ++rep->skipped["the serial is not a decimal number"];
        continue;
      }
      auto rec = stepca::Revocations::Decode(r.info);
      if (!rec) {
        ++rep->skipped["the stored revocation is not JSON"];
        continue;
      }
      if (rec->serial.empty()) rec->serial = r.serial;
      if (rec->serial != r.serial) {
        ++rep->skipped["the revocation's Serial is not the one it is stored under"];
        continue;
      }
      if (x509 && !rec->expires_at) {
        auto it = not_after_.find(r.serial);
        if (it != not_after_.end()) rec->expires_at = it->second;
      }
      Status st = revoke(*rec);
      if (st.ok()) {
        ++rep->imported;
      } else if (st.code() == Code::kAlreadyExists) {
        ++rep->skipped[kAlreadyRevoked];
      } else {
        return st;
      }
    }
    return Status::Ok();
  }

  Status Accounts(const std::vector<MigrationAccount>& list, KindReport* rep) {
    if (options_.acme_provisioner.empty()) {
      if (!list.empty()) rep->skipped[options_.acme_skip_reason] += static_cast<int64_t>(list.size());
      return Status::Ok();
    }
    const std::string& prov = options_.acme_provisioner;
    AcmeAccounts accounts(store_);
    for (const auto& a : list) {
      auto acct = Decode(a, rep);
      if (!acct) continue;
      STEPCA_ASSIGN_OR_RETURN(auto existing, accounts.Load(acct->id));
      if (existing) {
        if (existing->record.provisioner != prov || existing->record.thumbprint != acct->thumbprint) {
          ++rep->skipped["another account holds this id here"];
          continue;
        }
        // A run stopped between the account and its key index: finish it.
        STEPCA_ASSIGN_OR_RETURN(auto holder, accounts.KeyHolder(prov, acct->thumbprint));
        if (!holder) {
          Status st = accounts.BindKey(prov, acct->thumbprint, acct->id);
          if (!st.ok() && st.code() != Code::kAlreadyExists) return st;
          if (st.ok()) {
            ++rep->imported;
            imported_accounts_.insert(acct->id);
            continue;
          }
        }
        ++rep->skipped[kAlreadyImported];
        imported_accounts_.insert(acct->id);
        continue;
      }
      STEPCA_ASSIGN_OR_RETURN(auto holder, accounts.KeyHolder(prov, acct->thumbprint));
      if (holder) {
        ++rep->skipped["another account here holds this account's key"];
        continue;
      }
      Status st = accounts.Insert(*acct);
      if (st.code() == Code::kAlreadyExists) {
        ++rep->skipped["another account holds this id here"];
        continue;
      }
      STEPCA_RETURN_IF_ERROR(st);
      st = accounts.BindKey(prov, acct->thumbprint, acct->id);
      if (st.code() == Code::kAlreadyExists) {
        // Someone bound the key in between: this account is unreachable.
        (void)accounts.Withdraw(acct->id);
        ++rep->skipped["another account here holds this account's key"];
        continue;
      }
      STEPCA_RETURN_IF_ERROR(st);
      ++rep->imported;
      imported_accounts_.insert(acct->id);
    }
    return Status::Ok();
  }

  // A bound EAB key must not make a second account here; its secret is not
  // exported, so an unbound one can only be configured again.
  Status EabKeys(const std::vector<MigrationEabKey>& list, KindReport* rep) {
    AcmeAccounts accounts(store_);
    for (const auto& k : list) {
      if (k.account_id.empty()) {
        ++rep->skipped["unbound: its HMAC key is not exported; add it to the provisioner's eabKeys"];
        continue;
      }
      if (options_.acme_provisioner.empty() || imported_accounts_.count(k.account_id) == 0) {
        ++rep->skipped["bound to an account that was not imported"];
        continue;
      }
      Status st = accounts.BindEab(options_.acme_provisioner, k.id, k.account_id);
      if (st.ok()) {
        ++rep->imported;
      } else if (st.code() == Code::kAlreadyExists) {
        ++rep->skipped[kAlreadyBound];
      } else {
        return st;
      }
    }
    return Status::Ok();
  }

 private:
  std::optional<acme::Account> Decode(const MigrationAccount& a, KindReport* rep) {
    json_error_t jerr;
    JsonPtr o(json_loadb(a.account.data(), a.account.size(), 0, &jerr));
    if (!o || !json_is_object(o.get())) {
      ++rep->skipped["the stored account is not JSON"];
      return std::nullopt;
    }
    acme::Account acct;
    const json_t* id = json_object_get(o.get(), "id");
    acct.id = json_is_string(id) ? json_string_value(id) : a.id;
    if (acct.id != a.id) {
      ++rep->skipped["the account's id is not the one it is stored under"];
      return std::nullopt;
    }
    // Our account URLs carry the id as one path segment of at most 64.
    if (acct.id.empty() || acct.id.size() > 64 || acct.id.find('/') != std::string::npos) {
      ++rep->skipped["the id cannot be an account URL here"];
      return std::nullopt;
    }
    auto jwk = ParseJwk(json_object_get(o.get(), "key"));
    if (!jwk.ok() || jwk->has_private) {
      ++rep->skipped["the account key does not parse"];
      return std::nullopt;
    }
    auto thumb = JwkThumbprint(jwk->key.get());
    auto key_json = JwkToJson(jwk->key.get(), false, "", "");
    if (!thumb.ok() || !key_json.ok()) {
      ++rep->skipped["the account key does not parse"];
      return std::nullopt;
    }
    if (!a.key_id.empty() && a.key_id != *thumb) {
      ++rep->skipped["step-ca's key index names another key for this account"];
      return std::nullopt;
    }
    acct.thumbprint = *thumb;
    char* text = json_dumps(key_json->get(), JSON_COMPACT);
    acct.key = text ? text : "";
    free(text);
    const json_t* status = json_object_get(o.get(), "status");
    acct.status = json_is_string(status) ? json_string_value(status) : "";
    if (acct.status != "valid" && acct.status != "deactivated" && acct.status != "revoked") {
      ++rep->skipped["the account status is not valid, deactivated or revoked"];
      return std::nullopt;
    }
    const json_t* contact = json_object_get(o.get(), "contact");
    for (size_t i = 0; json_is_array(contact) && i < json_array_size(contact); ++i) {
      const json_t* c = json_array_get(contact, i);
      if (json_is_string(c)) acct.contact.emplace_back(json_string_value(c));
    }
    const json_t* created = json_object_get(o.get(), "createdAt");
    if (json_is_string(created)) {
      auto t = ParseRfc3339(json_string_value(created));
      if (t) acct.created_at = FormatRfc3339(*t);
    }
    acct.provisioner = options_.acme_provisioner;
    return acct;
  }

  Store& store_;
  const MigrationOptions& options_;
  std::map<std::string, TimePoint> not_after_;
  std::set<std::string> imported_accounts_;
};

// Why a table is not imported.
std::string TableReason(const std::string& name) {
  if (name == "used_ott")
    return "spent one-time tokens: not copied; this store refuses tokens issued before its epoch (meta/epoch)";
  if (name == "ssh_certs")
    return "SSH certificates: not copied (their revocations are); /ssh/check-host and /ssh/hosts "
           "know the hosts certified here";
  if (name == "ssh_hosts" || name == "ssh_users" || name == "ssh_host_principals")
    return "an index of SSH certificates (see ssh_certs)";
  if (name == "acme_orders" || name == "acme_authzs" || name == "acme_challenges" || name == "nonces" ||
      name == "acme_account_orders_index")
    return "short-lived ACME state: clients place new orders";
  if (name == "acme_certs" || name == "acme_serial_certs_index")
    return "ACME order downloads: the certificates themselves come from x509_certs";
  if (name.rfind("acme_external_account_keyID_", 0) == 0) return "an index of EAB keys";
  return "not used here";
}

}  // namespace

Result<MigrationReport> ImportMigration(const MigrationInput& input, Store& store,
                                        const MigrationOptions& options) {
  MigrationReport report;
  for (std::string kind : {std::string("x509 certificates"), std::string("x509 revocations"),
                           std::string("SSH revocations"),
                           options.acme_provisioner.empty()
                               ? std::string("ACME accounts")
                               : "ACME accounts (into provisioner \"" + options.acme_provisioner + "\")",
                           std::string("ACME EAB bindings")}) {
    report.kinds.emplace_back();
    report.kinds.back().kind = std::move(kind);
  }
  Importer imp(store, options);
  // Certificates first: a revocation takes its ExpiresAt from them.
  STEPCA_RETURN_IF_ERROR(imp.Certificates(input.certificates, &report.kinds[0]));
  stepca::Revocations revocations(store);
  STEPCA_RETURN_IF_ERROR(imp.Revocations(
      input.revocations, true, [&](const RevocationRecord& r) { return revocations.Revoke(r); },
      &report.kinds[1]));
  SshCertificates ssh(store);
  STEPCA_RETURN_IF_ERROR(imp.Revocations(
      input.ssh_revocations, false, [&](const RevocationRecord& r) { return ssh.Revoke(r); },
      &report.kinds[2]));
  STEPCA_RETURN_IF_ERROR(imp.Accounts(input.accounts, &report.kinds[3]));
  STEPCA_RETURN_IF_ERROR(imp.EabKeys(input.eab_keys, &report.kinds[4]));
  for (const auto& t : input.tables) {
    KindReport k;
    k.kind = "table " + t.name;
    k.skipped[TableReason(t.name)] = t.count;
    report.kinds.push_back(std::move(k));
  }
  return report;
}

}  // namespace cli
}  // namespace stepca
