// One ACME request as the resource handlers see it: where it came in (the
// provisioner, its settings, the URLs it is answered with) and, once
// authenticate.h has run, who sent it. Built by the router (router.h).
#ifndef STEPCA_AUTHORITY_ACME_REQUEST_H
#define STEPCA_AUTHORITY_ACME_REQUEST_H

#include <string>

#include "authority/acme/jws.h"
#include "authority/api/http.h"
#include "authority/ossl.h"
#include "authority/state/acme_accounts.h"
#include "authority/store/store.h"

namespace stepca {

class Provisioner;

namespace acme {

class Service;
struct ProvisionerSettings;

struct Request {
  Request(Service& s, Store& st, const HttpRequest& r) : service(s), store(st), http(r) {}

  Service& service;
  Store& store;
  const HttpRequest& http;
  const Provisioner* provisioner = nullptr;
  const ProvisionerSettings* settings = nullptr;
  std::string origin;  // "https://host[:port]"
  std::string base;    // origin + "/acme/<provisioner>" (or /2.0/acme/...)

  // Set by Authenticate.
  FlatJws jws;
  Stored<Account> account;  // with a kid: the account and its stored bytes
  EvpPkeyPtr account_key;

  bool PostAsGet() const { return jws.payload.empty(); }

  std::string AccountUrl(const std::string& id) const;
  std::string OrderUrl(const std::string& id) const;
  std::string AuthzUrl(const std::string& id) const;
  std::string ChallengeUrl(const std::string& authz, const std::string& challenge) const;
  std::string CertUrl(const std::string& id) const;
};

}  // namespace acme
}  // namespace stepca

#endif  // STEPCA_AUTHORITY_ACME_REQUEST_H
