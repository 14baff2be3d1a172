#include "authority/authority.h"

#include <openssl/evp.h>

#include "authority/acme/server.h"
#include "authority/admin/admin_authorizer.h"
#include "authority/admin/admin_service.h"
#include "authority/ca/local_ca.h"
#include "authority/clock/system_time_source.h"
#include "authority/metrics.h"
#include "authority/revocation/crl_service.h"
#include "authority/revocation/ocsp_responder.h"
#include "authority/ra/upstream_cas.h"
#include "authority/signer/file_signer.h"
#include "shared/base64.h"

#ifndef STEPCA_VERSION
#define STEPCA_VERSION "0.0.0"
#endif

namespace stepca {
namespace {

std::string Fingerprint(X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  X509_digest(cert, EVP_sha256(), md, &n);
  return HexEncode(std::string(reinterpret_cast<char*>(md), n));
}

}  // namespace

Result<std::unique_ptr<Authority>> Authority::Load(const AuthorityOptions& options) {
  STEPCA_RETURN_IF_ERROR(acme::ValidateAcmeOptions(options.acme));
  std::unique_ptr<Authority> a(new Authority());
  a->version_ = options.version.empty() ? STEPCA_VERSION : options.version;

  STEPCA_ASSIGN_OR_RETURN(a->config_, LoadCaConfig({options.ca_json, options.password_file, options.issuer_password_file}));
  auto store_config = ParseStoreUri(options.store_uri.empty() ? kDefaultStoreUri : options.store_uri);
  if (!store_config.ok())
    return InvalidArgument("stepca_store: " + store_config.status().message());
  a->store_config_ = store_config.value();
  STEPCA_ASSIGN_OR_RETURN(a->store_, MakeStore(a->store_config_));
  // Counters in shared memory, mapped here in the master before fork.
  STEPCA_ASSIGN_OR_RETURN(a->metrics_, Metrics::Create(a->config_.provisioners));
  a->store_ = MeteredStore(std::move(a->store_), a->metrics_.get());

  CaConfig& c = a->config_;
  // A registration authority: its root and the service come from the
  // upstream, fetched and pinned now (configuration time, in the master).
  if (c.ra.is_ra()) {
    Metrics* m = a->metrics_.get();
    auto ra = MakeUpstreamCas(c.ra, [m](const UpstreamCallStats& s) {
      m->UpstreamCall(s.elapsed, s.result, s.new_connections);
    });
    if (!ra.ok()) return InvalidArgument(c.path + ": " + ra.status().message());
    c.roots.push_back(std::move(ra->root));
    for (auto& f : ra->federated) c.federated_roots.push_back(std::move(f));
    for (auto& i : ra->intermediates) c.intermediates.push_back(std::move(i));
    a->ca_ = std::move(ra->service);
  }
  for (auto& r : c.roots) {
    a->root_pems_.push_back(CertificateToPem(r.get()));
    a->fingerprints_.push_back(Fingerprint(r.get()));
  }
  for (auto& r : c.federated_roots) {
    a->federated_pems_.push_back(CertificateToPem(r.get()));
    a->fingerprints_.push_back(Fingerprint(r.get()));
  }

  // Where signing happens: the issuing certificate and its key.
  if (!c.ra.is_ra()) {
    std::vector<X509Ptr> chain;
    for (auto& i : c.intermediates) chain.emplace_back(X509_dup(i.get()));
    std::unique_ptr<Signer> signer = std::move(c.signer);
    if (!signer) {
      STEPCA_ASSIGN_OR_RETURN(signer, MakeFileSigner(std::move(c.key)));
    }
    STEPCA_ASSIGN_OR_RETURN(a->ca_, MakeLocalCa(std::move(chain), std::move(signer)));
  }

  // Policy: the provisioners and claims of ca.json over the store and the CA.
  PolicySettings settings;
  settings.global_claims = c.global_claims;
  settings.backdate = c.backdate;
  settings.disable_issued_at_check = c.disable_issued_at_check;
  settings.dns_names = c.dns_names;
  settings.default_subject = c.default_subject;
  settings.anchors.roots = &c.roots;
  settings.anchors.federated_roots = &c.federated_roots;
  settings.anchors.intermediates = &c.intermediates;
  settings.name_policies = c.name_policies;
  // The default leaf profile points relying parties at the CRL and the
  // OCSP responder; a provisioner's own template says what it wants.
  if (c.revocation.crl.enabled && !c.revocation.crl.idp_url.empty())
    settings.leaf_revocation.crl_distribution_points.push_back(c.revocation.crl.idp_url);
  if (c.revocation.ocsp.enabled && !c.revocation.ocsp.url.empty())
    settings.leaf_revocation.ocsp_servers.push_back(c.revocation.ocsp.url);
  a->policy_ = std::make_unique<CertificatePolicy>(std::move(settings), c.provisioners, *a->store_,
                                                   *a->ca_, SystemTime());
  a->acme_.reset(new acme::Service(*a, options));

  // SSH: the CA keys of the "ssh" block behind the same signer seam.
  a->ssh_user_signer_ = std::move(c.ssh_user_signer);
  a->ssh_host_signer_ = std::move(c.ssh_host_signer);
  if (c.ssh_user_key) {
    STEPCA_ASSIGN_OR_RETURN(a->ssh_user_signer_, MakeFileSigner(std::move(c.ssh_user_key)));
  }
  if (c.ssh_host_key) {
    STEPCA_ASSIGN_OR_RETURN(a->ssh_host_signer_, MakeFileSigner(std::move(c.ssh_host_key)));
  }
  SshPolicySettings ssh;
  ssh.backdate = c.backdate;
  ssh.disable_issued_at_check = c.disable_issued_at_check;
  ssh.dns_names = c.dns_names;
  ssh.add_user_principal = c.ssh_add_user_principal;
  ssh.add_user_command = c.ssh_add_user_command;
  ssh.name_policies = c.name_policies;
  ssh.templates = c.ssh_templates;
  a->ssh_policy_ = std::make_unique<SshPolicy>(std::move(ssh), c.provisioners, *a->store_,
                                               a->ssh_user_signer_.get(),
                                               a->ssh_host_signer_.get(), SystemTime());
  // Revocation: signed with the issuing certificate's key.
  const Signer* revocation_signer = a->ca_->RevocationSigner();
  if ((c.revocation.crl.enabled || c.revocation.ocsp.enabled) && revocation_signer == nullptr)
    return InvalidArgument(c.path + ": crl and nginxStepca.ocsp need the CA's own key");
  if (c.revocation.crl.enabled)
    a->crl_ = std::make_unique<CrlService>(c.revocation.crl, *a->store_,
                                           a->ca_->IssuingCertificate(), *revocation_signer,
                                           SystemTime());
  if (c.revocation.ocsp.enabled && c.ocsp_responder_key) {
    STEPCA_ASSIGN_OR_RETURN(a->ocsp_signer_, MakeFileSigner(std::move(c.ocsp_responder_key)));
    a->ocsp_ = std::make_unique<OcspResponder>(c.revocation.ocsp, *a->store_,
                                               a->ca_->IssuingCertificate(), *a->ocsp_signer_,
                                               SystemTime(), c.ocsp_responder_cert.get());
  } else if (c.revocation.ocsp.enabled) {
    a->ocsp_ = std::make_unique<OcspResponder>(c.revocation.ocsp, *a->store_,
                                               a->ca_->IssuingCertificate(), *revocation_signer,
                                               SystemTime());
  }
  // Remote provisioner management: the store's provisioners join ca.json's
  // in the same collection, which every part above already reads.
  if (c.enable_admin) {
    admin::AdminSettings as;
    as.global_claims = c.global_claims;
    as.config_dir = c.dir;
    for (size_t i = 0; i < c.provisioners.size(); ++i) {
      const Provisioner& p = c.provisioners.at(i);
      as.config_provisioners.emplace_back(p.id(), p.name());
      if (as.first_jwk_id.empty() && p.type() == ProvisionerType::kJwk) as.first_jwk_id = p.id();
    }
    if (as.first_jwk_id.empty())
      return InvalidArgument(c.path + ": authority.enableAdmin needs a JWK provisioner in "
                             "authority.provisioners: the first super admin (subject \"step\") "
                             "is made on the first one");
    a->admin_ = std::make_unique<admin::AdminService>(std::move(as), *a->store_, c.provisioners,
                                                      SystemTime());
    admin::AuthorizerSettings zs;
    zs.anchors.roots = &c.roots;
    zs.anchors.federated_roots = &c.federated_roots;
    zs.anchors.intermediates = &c.intermediates;
    zs.dns_names = c.dns_names;
    a->admin_authorizer_ = std::make_unique<admin::AdminAuthorizer>(
        std::move(zs), *a->store_, c.provisioners, *a->admin_, SystemTime());
  }
  return a;
}

Authority::~Authority() {
  if (crl_) crl_->Stop();
}

Status Authority::PrepareStore(long uid, long gid) {
  return ::stepca::PrepareStore(store_config_, uid, gid);
}

Status Authority::InitProcess() {
  STEPCA_RETURN_IF_ERROR(ca_->InitProcess());
  for (Signer* s : {ssh_user_signer_.get(), ssh_host_signer_.get()})
    if (s != nullptr) STEPCA_RETURN_IF_ERROR(s->InitProcess());
  STEPCA_RETURN_IF_ERROR(store_->OpenInProcess());
  // Each worker checks the CRL lease; one in the fleet generates.
  if (crl_) crl_->Start();
  return Status::Ok();
}

void Authority::ExitProcess() {
  if (acme_) acme_->Stop();
  if (crl_) crl_->Stop();
  store_->CloseInProcess();
}

}  // namespace stepca
