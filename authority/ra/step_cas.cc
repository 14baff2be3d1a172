#include "authority/ra/step_cas.h"

#include <openssl/evp.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <mutex>

#include "authority/cloud/http_request.h"
#include "authority/ra/cas_certs.h"
#include "authority/ra/cas_request.h"
#include "authority/ra/jwk_issuer.h"
#include "authority/ra/upstream_client.h"
#include "authority/ra/x5c_issuer.h"
#include "authority/x509/chain.h"
#include "authority/x509/issuer.h"

namespace stepca {
namespace {

// The first certificate of a PEM text.
Result<X509Ptr> CertFromPem(const std::string& pem) {
  auto chain = ParsePemChain(pem);
  if (!chain.ok()) return chain.status();
  return std::move(chain->front());
}

// An upstream answer that is not a success, as the client should see it:
// unavailability (503) when the upstream or the RA's own credentials are
// at fault, the upstream's reason when it refused the request itself.
// step-ca's 400 and 403 texts wrap the reason in words our own error
// answer adds again; only the reason is passed on.
std::string ReasonOf(std::string msg) {
  for (const char* prefix : {"The request was forbidden by the certificate authority: ",
                             "The request could not be completed: "}) {
    if (msg.rfind(prefix, 0) == 0) {
      msg = msg.substr(std::strlen(prefix));
      if (!msg.empty() && msg.back() == '.') msg.pop_back();
      break;
    }
  }
  return msg;
}

Status FromUpstream(const std::string& base, const std::string& what, const UpstreamResponse& r) {
  const std::string msg = UpstreamErrorMessage(r);
  if (r.status == 400)
    return InvalidArgument("the upstream CA refused to " + what + ": " + ReasonOf(msg));
  if (r.status == 403)
    return PermissionDenied("the upstream CA refused to " + what + ": " + ReasonOf(msg));
  if (r.status == 401)
    return Unavailable("the upstream CA did not accept the registration authority's credentials")
        .WithDetail(base + ": " + msg + " (check authority.certificateIssuer)");
  return Unavailable("the upstream CA could not " + what + " (HTTP " + std::to_string(r.status) + ")")
      .WithDetail(base + ": " + msg);
}

std::vector<std::string> Sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

std::string NamesText(const std::string& cn, const SanSet& names) {
  std::string out = "common name \"" + cn + "\", names [";
  bool first = true;
  for (const auto* list : {&names.dns, &names.emails, &names.ips, &names.uris})
    for (const auto& n : Sorted(*list)) {
      out += (first ? "" : " ") + n;
      first = false;
    }
  return out + "]";
}

// A rekeyed certificate keeps the old one's names, which the upstream
// takes from the token. A CSR may leave them out (step ca rekey names
// nothing); each kind it does name must be the old one's set, as step-ca
// itself checks a CSR against a token, or the upstream would refuse it or
// sign the wrong names. Refused here with both said.
Status CheckRekeyCsrNames(const Csr& csr, const std::string& cn, const SanSet& names) {
  auto same = [](const std::vector<std::string>& got, const std::vector<std::string>& want) {
    return got.empty() || Sorted(got) == Sorted(want);
  };
  if ((csr.common_name.empty() || csr.common_name == cn) && same(csr.sans.dns, names.dns) &&
      same(csr.sans.emails, names.emails) && same(csr.sans.ips, names.ips) &&
      same(csr.sans.uris, names.uris))
    return Status::Ok();
  return InvalidArgument("the CSR of a rekey through this registration authority must name what the "
                         "certificate names (" + NamesText(cn, names) + ") or nothing, not " +
                         NamesText(csr.common_name, csr.sans));
}

class StepCas : public CertificateAuthorityService {
 public:
  // intermediates: what the upstream is known to sign with at start
  // (possibly none), the issuing certificate first.
  StepCas(UpstreamClient client, std::unique_ptr<UpstreamIssuer> issuer, X509* root,
          std::vector<X509Ptr> intermediates, std::string client_cert_header)
      : client_(std::move(client)), issuer_(std::move(issuer)),
        client_cert_header_(std::move(client_cert_header)) {
    issuer_not_after_ns_ = CertNotAfter(root).time_since_epoch().count();
    for (auto& c : intermediates) chain_pems_.push_back(CertificateToPem(c.get()));
    if (!intermediates.empty()) NoteIssuer(std::move(intermediates.front()));
  }

  Status InitProcess() override { return Status::Ok(); }

  Result<IssuedCertificate> Issue(const CertificateRequest& request) const override {
    if (request.csr == nullptr) return Internal("stepcas: a certificate without a CSR");
    const Csr& csr = *request.csr;
    return SignCsr(csr, csr.common_name, csr.sans, request.leaf.validity);
  }

  // Rekey: the client's new CSR signed by the upstream under the old
  // certificate's names (policy proved the old certificate and decided the
  // lifetime). Renew keeps the key, and the upstream signs a key only for
  // whoever proves it holds it: the client's own renew token is that proof
  // and goes to the upstream's /renew. Over mutual TLS the proof stayed in
  // the TLS handshake with this RA: only an upstream that takes this RA's
  // word for it (RenewForwarded) can renew then.
  Result<IssuedCertificate> Reissue(const ReissueCertificateRequest& request) const override {
    X509* old = request.reissue.old;
    if (old == nullptr) return Internal("stepcas: a reissue without a certificate");
    if (request.csr != nullptr) {
      const std::string cn = CommonName(old);
      const SanSet names = CertificateSans(old);
      STEPCA_RETURN_IF_ERROR(CheckRekeyCsrNames(*request.csr, cn, names));
      return SignCsr(*request.csr, cn, names, request.reissue.validity);
    }
    if (request.renew_token.empty() && !client_cert_header_.empty()) return RenewForwarded(old);
    if (request.renew_token.empty())
      // 400, not 501: step shows a 4xx's message, and this one says what works.
      return InvalidArgument(
          "renewing over mutual TLS cannot be forwarded to the upstream CA, which re-signs a key only "
          "for a request the key's holder signed; renew with a renew token (step ca renew "
          "--mtls=false), or use step ca rekey (an nginx-stepca upstream that trusts this registration "
          "authority's client certificate header takes mutual TLS renewals: "
          "nginxStepca.upstream.clientCertHeader)");
    STEPCA_ASSIGN_OR_RETURN(UpstreamResponse r,
                            client_.PostJson("/1.0/renew", "", request.renew_token));
    if (r.status != 200 && r.status != 201)
      return FromUpstream(client_.base(), "renew the certificate", r);
    return ParseSignResponse(r, X509_get0_pubkey(old));
  }

  Status Revoke(const RevokeCertificateRequest& request) const override {
    UpstreamTokenRequest tr;
    tr.audience = client_.base() + "/1.0/revoke";
    tr.subject = request.serial;
    STEPCA_ASSIGN_OR_RETURN(UpstreamToken minted, issuer_->Token(tr));
    std::string& token = minted.token;
    JsonPtr body(json_object());
    json_object_set_new(body.get(), "serial", json_string(request.serial.c_str()));
    json_object_set_new(body.get(), "reasonCode", json_integer(request.reason_code));
    json_object_set_new(body.get(), "reason", json_string(request.reason.c_str()));
    json_object_set_new(body.get(), "ott", json_string(token.c_str()));
    json_object_set_new(body.get(), "passive", json_true());
    char* text = json_dumps(body.get(), JSON_COMPACT);
    std::string payload(text ? text : "");
    free(text);
    Wipe(token);
    STEPCA_ASSIGN_OR_RETURN(UpstreamResponse r, client_.PostJson("/1.0/revoke", payload));
    if (r.status != 200) return FromUpstream(client_.base(), "revoke the certificate", r);
    return Status::Ok();
  }

  bool ChoosesSerial() const override { return true; }

  // What the upstream presented at start; each sign answer carries its
  // own chain besides (IssuedCertificate::chain_pems).
  const std::vector<std::string>& ChainPems() const override { return chain_pems_; }
  X509* IssuingCertificate() const override { return issuing_.load(); }
  // The upstream signs; an RA holds no key for CRLs or OCSP answers.
  const Signer* RevocationSigner() const override { return nullptr; }
  TimePoint IssuerNotAfter() const override {
    return TimePoint(std::chrono::nanoseconds(issuer_not_after_ns_.load()));
  }

 private:
  // Renewal over mutual TLS, for an upstream nginx-stepca that lists this
  // RA among its trusted proxies: policy already proved the client's
  // certificate (its handshake with us, the upstream's chain, not revoked
  // here), so the upstream is shown that certificate as a TLS-terminating
  // proxy shows it, and checks it again itself.
  Result<IssuedCertificate> RenewForwarded(X509* old) const {
    const std::vector<std::string> headers = {
        client_cert_header_ + ": " + cloud::PercentEscape(CertificateToPem(old), "-_.~")};
    const std::string empty;
    STEPCA_ASSIGN_OR_RETURN(UpstreamResponse r, client_.Request("POST", "/1.0/renew", &empty, headers));
    // Here a 401 is about the client's certificate (revoked upstream, or
    // not the upstream's), not the RA's issuer credentials: the client is
    // refused as the upstream refused it.
    const std::string msg = UpstreamErrorMessage(r);
    if (r.status == 401)
      return Unauthenticated("the upstream CA refused to renew the certificate")
          .WithDetail(client_.base() + ": " + msg);
    // An upstream that does not trust this RA's address ignored the header
    // and saw no certificate at all: the RA's configuration, not the client.
    if (r.status == 400 && msg.find("missing client certificate") != std::string::npos)
      return Unavailable("the upstream CA did not take the client certificate this registration authority "
                         "forwarded")
          .WithDetail(client_.base() + ": " + msg + " (the upstream must list this registration authority in "
                      "stepca_trusted_proxy and read nginxStepca.upstream.clientCertHeader in its "
                      "stepca_client_cert_header)");
    if (r.status != 200 && r.status != 201)
      return FromUpstream(client_.base(), "renew the certificate", r);
    return ParseSignResponse(r, X509_get0_pubkey(old));
  }

  // step-ca's StepCAS: the token names every name, and its subject is the
  // common name (or the first name when there is none).
  Result<IssuedCertificate> SignCsr(const Csr& csr, const std::string& common_name,
                                    const SanSet& names, const Validity& validity) const {
    UpstreamTokenRequest tr;
    tr.audience = client_.base() + "/1.0/sign";
    for (const auto* list : {&names.dns, &names.emails, &names.ips, &names.uris})
      tr.sans.insert(tr.sans.end(), list->begin(), list->end());
    tr.subject = !common_name.empty() ? common_name : tr.sans.empty() ? "" : tr.sans[0];
    STEPCA_ASSIGN_OR_RETURN(UpstreamToken minted, issuer_->Token(tr));
    std::string& token = minted.token;
    TimePoint not_after = validity.not_after;
    if (minted.not_after_limit && *minted.not_after_limit < not_after) not_after = *minted.not_after_limit;

    JsonPtr body(json_object());
    json_object_set_new(body.get(), "csr", json_string(CsrToPem(csr).c_str()));
    json_object_set_new(body.get(), "ott", json_string(token.c_str()));
    const TimePoint now = std::chrono::time_point_cast<std::chrono::nanoseconds>(Clock::now());
    // A notBefore in the past is the backdate, which the upstream applies
    // itself; a later one was asked for and is passed on.
    if (validity.not_before > now)
      json_object_set_new(body.get(), "notBefore", json_string(FormatRfc3339(validity.not_before).c_str()));
    json_object_set_new(body.get(), "notAfter", json_string(FormatRfc3339(not_after).c_str()));
    char* text = json_dumps(body.get(), JSON_COMPACT);
    std::string payload(text ? text : "");
    free(text);
    Wipe(token);

    STEPCA_ASSIGN_OR_RETURN(UpstreamResponse r, client_.PostJson("/1.0/sign", payload));
    Wipe(payload);
    if (r.status != 200 && r.status != 201) return FromUpstream(client_.base(), "sign the certificate", r);
    return ParseSignResponse(r, X509_REQ_get0_pubkey(csr.req.get()));
  }

  Result<IssuedCertificate> ParseSignResponse(const UpstreamResponse& r, EVP_PKEY* csr_key) const {
    auto bad = [&](const std::string& why) {
      return Unavailable("the upstream CA gave an answer the registration authority cannot use")
          .WithDetail(client_.base() + ": " + why);
    };
    JsonPtr j(json_loadb(r.body.data(), r.body.size(), 0, nullptr));
    const json_t* crt = j ? json_object_get(j.get(), "crt") : nullptr;
    if (!json_is_string(crt)) return bad("no crt in the sign response");
    std::vector<std::string> chain_pems;
    const json_t* chain = json_object_get(j.get(), "certChain");
    size_t i;
    const json_t* e;
    json_array_foreach(chain, i, e) {
      if (i == 0 || !json_is_string(e)) continue;  // [0] is the leaf
      chain_pems.push_back(json_string_value(e));
    }
    if (chain_pems.empty()) {
      const json_t* ca = json_object_get(j.get(), "ca");
      if (json_is_string(ca)) chain_pems.push_back(json_string_value(ca));
    }
    if (chain_pems.empty()) return bad("no issuing certificate in the sign response");
    STEPCA_ASSIGN_OR_RETURN(IssuedCertificate out, CheckedIssued(json_string_value(crt), std::move(chain_pems),
                                                                 csr_key, client_.base()));
    auto issuing = CertFromPem(out.chain_pems.front());
    if (issuing.ok()) NoteIssuer(std::move(issuing).value());
    return out;
  }

  // The first issuing certificate seen is kept for IssuingCertificate();
  // leaves are capped at the earliest notAfter seen.
  void NoteIssuer(X509Ptr issuing) const {
    const int64_t na = CertNotAfter(issuing.get()).time_since_epoch().count();
    int64_t cur = issuer_not_after_ns_.load();
    while (na < cur && !issuer_not_after_ns_.compare_exchange_weak(cur, na)) {
    }
    std::lock_guard<std::mutex> lock(mu_);
    if (issuing_.load() == nullptr) {
      kept_ = std::move(issuing);
      issuing_.store(kept_.get());
    }
  }

  UpstreamClient client_;
  std::unique_ptr<UpstreamIssuer> issuer_;
  std::string client_cert_header_;  // empty: mutual TLS renewals refused
  std::vector<std::string> chain_pems_;
  mutable std::atomic<int64_t> issuer_not_after_ns_{0};
  mutable std::mutex mu_;
  mutable X509Ptr kept_;
  mutable std::atomic<X509*> issuing_{nullptr};
};

}  // namespace

Result<StepCasService> MakeStepCas(const RaConfig& config, UpstreamObserver observer) {
  UpstreamOptions once;
  once.reuse_connection = false;
  once.connect_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(config.timeouts.connect);
  once.total_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(config.timeouts.total);
  const std::string& base = config.certificate_authority;

  // Bootstrap as step does: the root by its fingerprint, over a TLS
  // connection that proves nothing until the root's hash is checked.
  UpstreamClient bootstrap(base, "", once);
  auto r = bootstrap.Get("/root/" + config.fingerprint);
  if (!r.ok())
    return RaFieldError("certificateAuthority", r.status().message() + ": " + r.status().detail());
  if (r->status == 404)
    return RaFieldError("certificateAuthorityFingerprint",
                    "the upstream CA " + base + " has no root with fingerprint " + config.fingerprint);
  if (r->status != 200)
    return RaFieldError("certificateAuthority", "the upstream CA " + base + " answered /root with " +
                                                UpstreamErrorMessage(*r));
  JsonPtr j(json_loadb(r->body.data(), r->body.size(), 0, nullptr));
  const json_t* ca = j ? json_object_get(j.get(), "ca") : nullptr;
  if (!json_is_string(ca))
    return RaFieldError("certificateAuthority", "the upstream CA " + base + " answered /root without a certificate");
  auto root = CertFromPem(json_string_value(ca));
  if (!root.ok()) return RaFieldError("certificateAuthority", "the upstream root is not a PEM certificate");
  const std::string got = CertSha256Hex(root->get());
  if (got != config.fingerprint)
    return RaFieldError("certificateAuthorityFingerprint",
                    "the upstream CA " + base + " answered with a root whose fingerprint is " + got +
                        ", not the pinned " + config.fingerprint + "; refusing to start");
  const std::string root_pem = CertificateToPem(root->get());

  // From here on the upstream's TLS certificate must chain to that root.
  UpstreamOptions first = once;
  first.peer_chain = true;
  UpstreamClient verified(base, root_pem, once);
  StepCasService out;
  auto fed = UpstreamClient(base, root_pem, first).Get("/federation");
  if (!fed.ok())
    return RaFieldError("certificateAuthority", fed.status().message() + ": " + fed.status().detail());
  if (fed->status == 200) {
    JsonPtr fj(json_loadb(fed->body.data(), fed->body.size(), 0, nullptr));
    size_t i;
    const json_t* e;
    json_array_foreach(fj ? json_object_get(fj.get(), "crts") : nullptr, i, e) {
      if (!json_is_string(e)) continue;
      auto c = CertFromPem(json_string_value(e));
      if (c.ok() && CertSha256Hex(c->get()) != got) out.federated.push_back(std::move(c).value());
    }
  }

  // step-ca 0.19 has no /intermediates; its own TLS certificate is
  // issued by the intermediate that signs leaves, so the chain it presents
  // names it. Kept only when it is a CA certificate issued by the pinned
  // root; each sign answer still carries its own chain.
  std::vector<X509Ptr> intermediates;
  for (size_t i = 1; i < fed->peer_chain_pems.size(); ++i) {
    auto c = CertFromPem(fed->peer_chain_pems[i]);
    if (!c.ok() || X509_check_ca(c->get()) == 0) continue;
    if (CertSha256Hex(c->get()) == got) continue;  // the root itself
    if (X509_check_issued(root->get(), c->get()) != X509_V_OK) continue;
    intermediates.push_back(std::move(c).value());
  }

  std::unique_ptr<UpstreamIssuer> issuer;
  if (config.issuer.type == "jwk") {
    auto made = MakeJwkIssuer(config.issuer, verified);
    if (!made.ok()) return InvalidArgument(made.status().LogText());
    issuer = std::move(made).value();
  } else {
    auto made = MakeX5cIssuer(config.issuer);
    if (!made.ok()) return made.status();
    issuer = std::move(made).value();
  }
  for (auto& i : intermediates) out.intermediates.emplace_back(X509_dup(i.get()));
  UpstreamOptions running = once;
  running.reuse_connection = true;
  running.observer = std::move(observer);
  out.service = std::make_unique<StepCas>(UpstreamClient(base, root_pem, running), std::move(issuer),
                                          root->get(), std::move(intermediates),
                                          config.client_cert_header);
  out.root = std::move(root).value();
  return out;
}

}  // namespace stepca
