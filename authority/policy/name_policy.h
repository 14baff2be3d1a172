// Name policies: the `policy` object step-ca reads in `authority` and in
// each provisioner, deciding which names a certificate may carry.
//
//   "policy": {
//     "x509": {"allow": {"cn": [], "dns": [], "ip": [], "email": [], "uri": []},
//              "deny":  {...the same keys...},
//              "allowWildcardNames": false},
//     "ssh":  {"user": {"allow": {"dns": [], "ip": [], "email": [], "principal": []},
//                       "deny":  {...}},
//              "host": {...as user...}}
//   }
//
// Evaluation is step-ca's (its policy package, 0.20 and later; 0.19 has no
// policies): a policy without rules allows everything; otherwise every name
// is checked, deny rules first (a match refuses), then allow rules (when a
// kind has allow rules, one must match). When a policy has allow rules of
// some kind, a name of a kind with no rule at all is refused. DNS rules:
// "example.com" matches that name only, "*.example.com" exactly one more
// label; names are compared case-insensitively in their IDNA ASCII form,
// and a name that is not a valid IDNA name is refused. The subject common
// name is allowed by a matching "cn" rule, else checked as the SAN kind it
// looks like. Where step-ca lets a wildcard name past a deny rule (it only
// refuses wildcard names that no allow rule lists), this engine refuses
// every wildcard name unless allowWildcardNames is true.
#ifndef STEPCA_AUTHORITY_POLICY_NAME_POLICY_H
#define STEPCA_AUTHORITY_POLICY_NAME_POLICY_H

#include <jansson.h>

#include <memory>
#include <string>
#include <vector>

#include "authority/status.h"
#include "authority/x509/csr.h"

namespace stepca {

enum class SshCertType { kUser, kHost };

class NamePolicy {
 public:
  // policy: the `policy` object (nullptr or null: no policy). field: its
  // path in ca.json for load errors ("authority.policy"). owner: whose
  // policy it is, for refusals ("the authority policy"). A bad rule, an
  // unknown key or a value of the wrong type is kInvalidArgument naming
  // the field.
  static Result<std::unique_ptr<const NamePolicy>> Parse(const json_t* policy,
                                                         const std::string& field,
                                                         const std::string& owner);
  ~NamePolicy();

  // Refusals are kPermissionDenied; the message names the kind, the name
  // and the rule (or the missing one) in step-ca's words:
  //   dns name "a.bad.example.com" not allowed (denied by "*.bad.example.com" in the authority policy)
  // X.509: the certificate's subject common name ("" for none) and SANs.
  Status CheckX509(const std::string& common_name, const SanSet& sans) const;
  // An ACME order identifier: type "dns" (a wildcard keeps its "*.") or "ip".
  Status CheckIdentifier(const std::string& type, const std::string& value) const;
  // The principals of an SSH certificate of that type.
  Status CheckSsh(SshCertType type, const std::vector<std::string>& principals) const;

  bool has_x509() const { return x509_ != nullptr; }
  bool has_ssh() const { return ssh_user_ != nullptr || ssh_host_ != nullptr; }

  class Rules;  // name_policy.cc

 private:
  NamePolicy() = default;

  std::string owner_;
  std::unique_ptr<Rules> x509_, ssh_user_, ssh_host_;
};

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_POLICY_NAME_POLICY_H
