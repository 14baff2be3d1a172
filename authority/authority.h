// The composition root: loads ca.json, builds the parts (store, metrics,
// certificate authority service, policy, ACME service), wires them and owns
// their lifetimes. It decides nothing about a request: that is the policy
// part (authority/policy/), reached through policy(). HTTP routing
// (authority/api/router.h) depends on this header, never the reverse.
#ifndef STEPCA_AUTHORITY_AUTHORITY_H
#define STEPCA_AUTHORITY_AUTHORITY_H

#include <memory>
#include <string>
#include <vector>

#include "authority/acme/options.h"
#include "authority/ca/certificate_authority.h"
#include "authority/config/ca_config.h"
#include "authority/policy/certificate_policy.h"
#include "authority/policy/ssh_policy.h"
#include "authority/signer/signer.h"
#include "authority/status.h"
#include "authority/store/store.h"

namespace stepca {

struct AuthorityOptions {
  std::string ca_json;
  std::string password_file;
  std::string store_uri;  // empty: kDefaultStoreUri
  std::string version;    // empty: the build's version
  acme::AcmeOptions acme;  // checked by Load (InvalidArgument)
  std::string issuer_password_file;  // RA: the upstream provisioner's password
};

constexpr const char* kDefaultStoreUri = "lmdb:/var/lib/nginx-stepca";

namespace acme {
class Service;
}

class Metrics;  // authority/metrics.h
class CrlService;     // authority/revocation/crl_service.h
class OcspResponder;  // authority/revocation/ocsp_responder.h
namespace admin {
class AdminService;     // authority/admin/admin_service.h
class AdminAuthorizer;  // authority/admin/admin_authorizer.h
}  // namespace admin

class Authority {
 public:
  static Result<std::unique_ptr<Authority>> Load(const AuthorityOptions& options);

  const CaConfig& config() const { return config_; }
  const std::string& version() const { return version_; }
  const std::vector<std::string>& warnings() const { return config_.warnings; }
  // PEM of roots, federated roots, and the intermediates of the crt file.
  const std::vector<std::string>& root_pems() const { return root_pems_; }
  const std::vector<std::string>& federated_pems() const { return federated_pems_; }
  const std::vector<std::string>& intermediate_pems() const { return ca_->ChainPems(); }
  // The certificates answered with leaf: its own when the CA service gave
  // them (an upstream's answer), else intermediate_pems().
  const std::vector<std::string>& ChainFor(const IssuedCertificate& leaf) const {
    return leaf.chain_pems.empty() ? ca_->ChainPems() : leaf.chain_pems;
  }
  // Lower-case hex SHA-256 of each root and federated root's DER, in the
  // order of root_pems() then federated_pems().
  const std::vector<std::string>& fingerprints() const { return fingerprints_; }

  // Lifetimes (docs/ARCHITECTURE.md): master before fork, then each worker.
  Status PrepareStore(long uid, long gid);
  Status InitProcess();
  void ExitProcess();

  Store& store() { return *store_; }
  // Prometheus counters shared by all workers (authority/metrics.h).
  Metrics& metrics() const { return *metrics_; }
  // Sign, renew, revoke, issue from a CSR. Thread-safe.
  CertificatePolicy& policy() { return *policy_; }
  // Where signing happens (a local CA, or an upstream in RA mode).
  const CertificateAuthorityService& ca() const { return *ca_; }
  acme::Service& acme() { return *acme_; }
  // SSH certificates (authority/policy/ssh_policy.h); enabled() is false
  // without an "ssh" block. Thread-safe.
  SshPolicy& ssh() { return *ssh_policy_; }
  // nullptr when ca.json's crl is not enabled / nginxStepca.ocsp is absent.
  CrlService* crl() { return crl_.get(); }
  OcspResponder* ocsp() { return ocsp_.get(); }
  // nullptr unless authority.enableAdmin: the admin API's provisioners and
  // admins, and who may call it.
  admin::AdminService* admin() { return admin_.get(); }
  admin::AdminAuthorizer* admin_authorizer() { return admin_authorizer_.get(); }
  ~Authority();

 private:
  Authority() = default;

  // Declared in the order they are built; destroyed in reverse, so nothing
  // outlives what it refers to.
  CaConfig config_;
  std::string version_;
  StoreConfig store_config_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<CertificateAuthorityService> ca_;
  std::unique_ptr<CertificatePolicy> policy_;
  std::unique_ptr<acme::Service> acme_;
  std::unique_ptr<Signer> ssh_user_signer_, ssh_host_signer_;
  std::unique_ptr<SshPolicy> ssh_policy_;
  std::unique_ptr<CrlService> crl_;
  std::unique_ptr<Signer> ocsp_signer_;  // a delegated OCSP responder's key
  std::unique_ptr<OcspResponder> ocsp_;
  std::unique_ptr<admin::AdminService> admin_;
  std::unique_ptr<admin::AdminAuthorizer> admin_authorizer_;
  std::vector<std::string> root_pems_, federated_pems_, fingerprints_;
};

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_AUTHORITY_H
