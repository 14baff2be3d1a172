#include "authority/authority.h"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <algorithm>

#include "authority/acme/server.h"
#include "authority/jose/jws.h"
#include "authority/metrics.h"
#include "authority/provisioner/x5c_provisioner.h"
#include "authority/x509/chain.h"
#include "authority/state/certificate_records.h"
#include "authority/state/spent_tokens.h"
#include "authority/state/store_epoch.h"
#include "authority/x509/csr.h"
#include "authority/x509/validity.h"
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

int64_t Seconds(TimePoint t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

// The names a certificate is requested for, for its record: CN, then SANs.
std::vector<std::string> RequestedNames(const std::string& common_name, const SanSet& sans) {
  std::vector<std::string> out;
  auto add = [&out](const std::string& name) {
    if (!name.empty() && std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
  };
  add(common_name);
  for (const auto* list : {&sans.dns, &sans.emails, &sans.ips, &sans.uris})
    for (const auto& name : *list) add(name);
  return out;
}

}  // namespace

Result<std::unique_ptr<Authority>> Authority::Load(const AuthorityOptions& options) {
  std::unique_ptr<Authority> a(new Authority());
  a->loaded_at_ = Clock::now();
  a->version_ = options.version.empty() ? STEPCA_VERSION : options.version;

  STEPCA_ASSIGN_OR_RETURN(a->config_, LoadCaConfig({options.ca_json, options.password_file}));
  auto store_config = ParseStoreUri(options.store_uri.empty() ? kDefaultStoreUri : options.store_uri);
  if (!store_config.ok())
    return InvalidArgument("stepca_store: " + store_config.status().message());
  a->store_config_ = store_config.value();
  STEPCA_ASSIGN_OR_RETURN(a->store_, MakeStore(a->store_config_));
  // Counters in shared memory, mapped here in the master before fork.
  STEPCA_ASSIGN_OR_RETURN(a->metrics_, Metrics::Create(a->config_.provisioners));
  a->store_ = MeteredStore(std::move(a->store_), a->metrics_.get());

  CaConfig& c = a->config_;
  for (auto& r : c.roots) {
    a->root_pems_.push_back(CertificateToPem(r.get()));
    a->fingerprints_.push_back(Fingerprint(r.get()));
  }
  for (auto& r : c.federated_roots) {
    a->federated_pems_.push_back(CertificateToPem(r.get()));
    a->fingerprints_.push_back(Fingerprint(r.get()));
  }
  for (auto& i : c.intermediates) a->intermediate_pems_.push_back(CertificateToPem(i.get()));

  X509Ptr issuer_cert(X509_dup(c.intermediates[0].get()));
  STEPCA_ASSIGN_OR_RETURN(auto signer, MakeFileSigner(std::move(c.key)));
  a->issuer_.reset(new Issuer(std::move(issuer_cert), std::move(signer)));
  a->audiences_.reset(new Audiences(c.dns_names));
  a->acme_.reset(new acme::Service(*a, options));
  return a;
}

Authority::~Authority() = default;

Status Authority::PrepareStore(long uid, long gid) {
  return ::stepca::PrepareStore(store_config_, uid, gid);
}

Status Authority::InitProcess() { return store_->OpenInProcess(); }

void Authority::ExitProcess() {
  if (acme_) acme_->Stop();
  store_->CloseInProcess();
}

// step-ca refuses tokens issued before the CA process started, because its
// record of spent tokens did not survive a restart. Ours survives restarts
// and is shared by the fleet, so the moment that matters is when this store
// began recording spent tokens: a token older than that could have been
// spent in a store that is gone. The first node to reach a store writes its
// start time; every node and worker reads the same value.
Status Authority::CheckIssuedAt(const TokenClaims& claims) {
  if (config_.disable_issued_at_check || !claims.issued_at) return Status::Ok();
  int64_t epoch = store_epoch_.load(std::memory_order_relaxed);
  if (epoch < 0) {
    STEPCA_ASSIGN_OR_RETURN(epoch, StoreEpoch(*store_).ReadOrClaim(Seconds(loaded_at_)));
    store_epoch_.store(epoch, std::memory_order_relaxed);
  }
  if (*claims.issued_at < epoch)
    return Unauthenticated("authority.authorizeToken: token issued before the bootstrap of certificate authority");
  return Status::Ok();
}

Result<SignResult> Authority::Sign(const SignRequest& req, TimePoint now) {
  if (req.csr_pem.empty()) return InvalidArgument("missing csr");
  auto csr = ParseCsrPem(req.csr_pem);
  if (!csr.ok()) return InvalidArgument("invalid csr").WithDetail(csr.status().message());
  if (req.ott.empty()) return InvalidArgument("missing ott");

  // Token: structure, provisioner by audience and kid, then that
  // provisioner's own checks (signature first).
  auto jws = ParseCompactJws(req.ott);
  if (!jws.ok())
    return Unauthenticated("authority.authorizeToken: error parsing token")
        .WithDetail(jws.status().message());
  auto claims = ReadTokenClaims(jws->payload.get());
  if (!claims.ok()) return claims.status().Wrap("authority.authorizeToken");
  const std::string fragment = audiences_->Fragment(TokenMethod::kSign, claims->audience);
  std::string selector = fragment;
  if (selector.empty()) {
    const json_t* kid = json_object_get(jws->header.get(), "kid");
    selector = claims->issuer + ":" + (json_is_string(kid) ? json_string_value(kid) : "");
  }
  const Provisioner* prov = audiences_->Matches(TokenMethod::kSign, claims->audience, fragment)
                                ? config_.provisioners.BySelector(selector)
                                : nullptr;
  if (prov == nullptr)
    return Unauthenticated("authority.authorizeToken: provisioner not found or invalid audience");
  auto grant = prov->AuthorizeSign(jws.value(), claims.value(), *audiences_, now);
  if (!grant.ok()) return grant.status().Wrap("authority.authorizeSign");
  STEPCA_RETURN_IF_ERROR(CheckIssuedAt(claims.value()));

  // The request: key, names, lifetime. A client mistake here does not spend
  // the token.
  EVP_PKEY* key = X509_REQ_get0_pubkey(csr->req.get());
  STEPCA_RETURN_IF_ERROR(CheckPublicKey(key));
  if (!grant->cnf_x5rt.empty()) {
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(csr->der.data()), csr->der.size(), md);
    if (Base64UrlEncode(std::string(reinterpret_cast<char*>(md), sizeof md)) != grant->cnf_x5rt)
      return PermissionDenied("certificate request fingerprint does not match the token (cnf)");
  }
  STEPCA_RETURN_IF_ERROR(CheckCsrAgainstToken(csr.value(), grant->subject, grant->sans));
  STEPCA_ASSIGN_OR_RETURN(Validity validity,
                          ComputeValidity(now, req.not_before, req.not_after, prov->claims(),
                                          config_.backdate, issuer_->not_after()));
  STEPCA_RETURN_IF_ERROR(LimitValidityToWindow(grant.value(), req.not_before.set(),
                                               req.not_after.set(), &validity));

  // Spend the token before anything is signed: one winner in the fleet.
  Status spent = SpentTokens(*store_).Spend(grant->token_key, grant->provisioner_id,
                                           grant->token_expiry, now);
  if (spent.code() == Code::kAlreadyExists)
    return Unauthenticated("authority.authorizeToken: token already used");
  STEPCA_RETURN_IF_ERROR(spent);

  LeafRequest leaf;
  leaf.public_key = key;
  leaf.spki = X509_REQ_get_X509_PUBKEY(csr->req.get());
  leaf.common_name = grant->subject;
  leaf.sans = ClassifySans(grant->sans);
  leaf.validity = validity;
  leaf.add_provisioner_extension = !prov->claims().disable_smallstep_extensions;
  leaf.provisioner = grant->info;
  CertificateRecord intent;
  intent.provisioner =
      CertificateProvisioner{grant->provisioner_id, prov->name(), prov->type_name()};
  intent.names = RequestedNames(leaf.common_name, leaf.sans);
  intent.not_after = validity.not_after;
  auto issued = SignRecorded(std::move(intent), now, [&](const std::string& serial) {
    leaf.serial = serial;
    return issuer_->IssueLeaf(leaf);
  });
  if (!issued.ok()) return issued.status();

  SignResult result{std::move(issued).value(), prov->name()};
  return result;
}

Result<IssuedCertificate> Authority::IssueFromCsr(const CsrIssueRequest& req, TimePoint now) {
  const Provisioner* prov = req.provisioner;
  if (prov == nullptr || req.csr == nullptr) return Internal("IssueFromCsr: missing provisioner or csr");
  EVP_PKEY* key = X509_REQ_get0_pubkey(req.csr->req.get());
  STEPCA_RETURN_IF_ERROR(CheckPublicKey(key));
  STEPCA_ASSIGN_OR_RETURN(Validity validity,
                          ComputeValidity(now, req.not_before, req.not_after, prov->claims(),
                                          config_.backdate, issuer_->not_after()));
  LeafRequest leaf;
  leaf.public_key = key;
  leaf.spki = X509_REQ_get_X509_PUBKEY(req.csr->req.get());
  leaf.common_name = req.common_name;
  leaf.sans = req.sans;
  leaf.validity = validity;
  leaf.add_provisioner_extension = !prov->claims().disable_smallstep_extensions;
  leaf.provisioner.type = prov->type();
  leaf.provisioner.name = prov->name();
  CertificateRecord intent;
  intent.provisioner = CertificateProvisioner{prov->id(), prov->name(), prov->type_name()};
  intent.names = RequestedNames(leaf.common_name, leaf.sans);
  intent.not_after = validity.not_after;
  return SignRecorded(std::move(intent), now, [&](const std::string& serial) {
    leaf.serial = serial;
    return issuer_->IssueLeaf(leaf);
  });
}

Result<IssuedCertificate> Authority::SignRecorded(CertificateRecord intent, TimePoint now,
                                                  const SignWithSerial& sign) {
  std::optional<IssuedCertificate> issued;
  Status st = CertificateRecords(*store_).Issue(
      std::move(intent), now, NewSerial,
      [&](const std::string& serial) -> Result<SignedForRecord> {
        auto made = sign(serial);
        if (!made.ok()) return made.status().Wrap("error signing certificate");
        if (made->serial != serial)
          return Internal("error signing certificate: the issuer ignored the reserved serial");
        SignedForRecord out{made->der, CertNotAfter(made->cert.get())};
        issued = std::move(made).value();
        return out;
      });
  // Whatever was signed stays here unless its record is complete.
  if (!st.ok()) return st;
  return std::move(*issued);
}

}  // namespace stepca
