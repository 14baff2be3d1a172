#include "authority/ra/cloud_cas.h"

#include <openssl/rand.h>

#include <memory>
#include <utility>

#include "authority/cloud/http_request.h"
#include "authority/ra/cas_certs.h"
#include "authority/ra/cas_request.h"
#include "authority/ra/google_oauth.h"
#include "authority/ra/upstream_client.h"
#include "authority/uuid.h"
#include "shared/base64.h"

namespace stepca {
namespace {

std::string RandomHex(size_t bytes) {
  std::string b(bytes, '\0');
  RAND_bytes(reinterpret_cast<unsigned char*>(b.data()), static_cast<int>(bytes));
  return HexEncode(b);
}

// RFC 5280 reason codes as the API names them.
const char* ReasonName(int code) {
  switch (code) {
    case 1: return "KEY_COMPROMISE";
    case 2: return "CERTIFICATE_AUTHORITY_COMPROMISE";
    case 3: return "AFFILIATION_CHANGED";
    case 4: return "SUPERSEDED";
    case 5: return "CESSATION_OF_OPERATION";
    case 6: return "CERTIFICATE_HOLD";
    case 9: return "PRIVILEGE_WITHDRAWN";
    case 10: return "ATTRIBUTE_AUTHORITY_COMPROMISE";
    default: return "REVOCATION_REASON_UNSPECIFIED";
  }
}

struct CasName {
  std::string pool;   // projects/p/locations/l/caPools/x
  std::string ca_id;  // the certificateAuthorities/<id> part, or empty
};

CasName SplitName(const std::string& name) {
  CasName n;
  const std::string marker = "/certificateAuthorities/";
  const size_t at = name.find(marker);
  n.pool = at == std::string::npos ? name : name.substr(0, at);
  if (at != std::string::npos) n.ca_id = name.substr(at + marker.size());
  return n;
}

struct GoogleResponse {
  long status = 0;
  JsonPtr body;
};

std::string GoogleError(const GoogleResponse& r) {
  const json_t* e = r.body ? json_object_get(r.body.get(), "error") : nullptr;
  const json_t* m = json_object_get(e, "message");
  const json_t* s = json_object_get(e, "status");
  std::string out = json_is_string(m) ? json_string_value(m) : "HTTP " + std::to_string(r.status);
  if (json_is_string(s)) out += " (" + std::string(json_string_value(s)) + ")";
  return out;
}

// Google refusing the request itself (400, 409, 412) is the client's
// refusal with Google's reason; refused credentials (401, 403), a missing
// pool or CA (404) and Google failing are unavailability.
Status FromGoogle(const GoogleResponse& r, const std::string& what, const std::string& where) {
  const std::string why = GoogleError(r);
  if (r.status == 400 || r.status == 409 || r.status == 412)
    return InvalidArgument("Google CAS refused to " + what + ": " + why);
  if (r.status == 401 || r.status == 403)
    return Unavailable("Google CAS did not accept the registration authority's credentials")
        .WithDetail(where + ": " + why + " (check the service account's roles)");
  if (r.status == 404)
    return Unavailable("Google CAS could not " + what + " (HTTP 404)")
        .WithDetail(where + ": " + why + " (check authority.certificateAuthority)");
  return Unavailable("Google CAS could not " + what + " (HTTP " + std::to_string(r.status) + ")")
      .WithDetail(where + ": " + why);
}

class GoogleApi {
 public:
  GoogleApi(const RaConfig& config, const GoogleServiceAccount& account, bool reuse,
            UpstreamObserver observer = {})
      : endpoint_(config.cloud.endpoint), account_(account), reuse_(reuse),
        client_(config.cloud.endpoint, "", Options(config.cloud.endpoint, reuse, std::move(observer))) {}

  const std::string& endpoint() const { return endpoint_; }

  // path: after the endpoint ("/v1/..."). An access token Google refuses
  // (401) is replaced once.
  Result<GoogleResponse> Call(const std::string& path, const json_t* body) const {
    std::string payload;
    if (body != nullptr) {
      char* text = json_dumps(body, JSON_COMPACT);
      payload = text ? text : "";
      free(text);
    }
    for (int attempt = 0;; ++attempt) {
      auto token = account_.AccessToken(reuse_);
      if (!token.ok()) {
        if (token.status().code() == Code::kUnavailable) return token.status();
        return Unavailable("Google CAS did not accept the registration authority's credentials")
            .WithDetail(token.status().message());
      }
      std::vector<std::string> headers = {"Authorization: Bearer " + token.value()};
      auto r = client_.Request(body != nullptr ? "POST" : "GET", path,
                               body != nullptr ? &payload : nullptr, headers);
      Wipe(headers[0]);
      if (!r.ok())
        return Unavailable(r.status().message().find("in time") != std::string::npos
                               ? "Google CAS did not answer in time"
                               : "Google CAS did not answer")
            .WithDetail(r.status().detail());
      if (r->status == 401 && attempt == 0) {
        account_.Forget(token.value());
        Wipe(token.value());
        continue;
      }
      Wipe(token.value());
      GoogleResponse out;
      out.status = r->status;
      out.body.reset(json_loadb(r->body.data(), r->body.size(), 0, nullptr));
      return out;
    }
  }

 private:
  static UpstreamOptions Options(const std::string& endpoint, bool reuse, UpstreamObserver observer) {
    UpstreamOptions o;
    o.observer = std::move(observer);
    o.reuse_connection = reuse;
    o.system_trust = true;
    o.allow_http = IsLoopbackHttp(endpoint);
    return o;
  }

  std::string endpoint_;
  const GoogleServiceAccount& account_;
  bool reuse_;
  UpstreamClient client_;
};

class CloudCas : public CertificateAuthorityService {
 public:
  CloudCas(const RaConfig& config, std::unique_ptr<GoogleServiceAccount> account, X509* root,
           std::vector<std::string> chain, UpstreamObserver observer)
      : name_(SplitName(config.certificate_authority)),
        account_(std::move(account)),
        api_(config, *account_, true, std::move(observer)),
        chain_pems_(std::move(chain)),
        issuer_(root) {
    if (!chain_pems_.empty()) issuer_.Note(chain_pems_.front());
  }

  Status InitProcess() override { return Status::Ok(); }

  Result<IssuedCertificate> Issue(const CertificateRequest& request) const override {
    if (request.csr == nullptr) return Internal("cloudcas: a certificate without a CSR");
    JsonPtr body(json_object());
    json_object_set_new(body.get(), "pemCsr", json_string(CsrToPem(*request.csr).c_str()));
    json_object_set_new(body.get(), "lifetime",
                        json_string(LifetimeSeconds(request.leaf.validity.not_after).c_str()));
    std::string path = "/v1/" + name_.pool + "/certificates?certificateId=stepca-" + RandomHex(16) +
                       "&requestId=" + NewUuidV4();
    if (!name_.ca_id.empty()) path += "&issuingCertificateAuthorityId=" + cloud::FormEscape(name_.ca_id);
    STEPCA_ASSIGN_OR_RETURN(GoogleResponse r, api_.Call(path, body.get()));
    if (r.status != 200) return FromGoogle(r, "sign the certificate", api_.endpoint());
    const json_t* crt = r.body ? json_object_get(r.body.get(), "pemCertificate") : nullptr;
    if (!json_is_string(crt))
      return Unavailable("the upstream CA gave an answer the registration authority cannot use")
          .WithDetail(api_.endpoint() + ": no pemCertificate in the answer");
    const std::vector<X509Ptr> chain = PemArrayCerts(json_object_get(r.body.get(), "pemCertificateChain"));
    STEPCA_ASSIGN_OR_RETURN(
        IssuedCertificate out,
        CheckedIssued(json_string_value(crt), WithoutRoots(chain),
                      X509_REQ_get0_pubkey(request.csr->req.get()), api_.endpoint()));
    issuer_.Note(out.chain_pems.front());
    return out;
  }

  Result<IssuedCertificate> Reissue(const ReissueCertificateRequest&) const override {
    return Unimplemented(
        "renew and rekey through Google CAS are not supported by this registration authority; get "
        "a new certificate with a token");
  }

  Status Revoke(const RevokeCertificateRequest& request) const override {
    STEPCA_ASSIGN_OR_RETURN(std::string hex, SerialHex(request.serial));
    const std::string filter =
        "certificate_description.subject_description.hex_serial_number=\"" + hex + "\"";
    STEPCA_ASSIGN_OR_RETURN(GoogleResponse found,
                            api_.Call("/v1/" + name_.pool + "/certificates?filter=" + cloud::FormEscape(filter),
                                      nullptr));
    if (found.status != 200) return FromGoogle(found, "find the certificate", api_.endpoint());
    const json_t* list = found.body ? json_object_get(found.body.get(), "certificates") : nullptr;
    const json_t* name = json_object_get(json_array_get(list, 0), "name");
    if (!json_is_string(name))
      return InvalidArgument("Google CAS has no certificate with serial " + hex + " in " + name_.pool);
    JsonPtr body(json_object());
    json_object_set_new(body.get(), "reason", json_string(ReasonName(request.reason_code)));
    json_object_set_new(body.get(), "requestId", json_string(NewUuidV4().c_str()));
    STEPCA_ASSIGN_OR_RETURN(GoogleResponse r,
                            api_.Call("/v1/" + std::string(json_string_value(name)) + ":revoke", body.get()));
    if (r.status != 200) return FromGoogle(r, "revoke the certificate", api_.endpoint());
    return Status::Ok();
  }

  bool ChoosesSerial() const override { return true; }
  const std::vector<std::string>& ChainPems() const override { return chain_pems_; }
  X509* IssuingCertificate() const override { return issuer_.Issuing(); }
  const Signer* RevocationSigner() const override { return nullptr; }
  TimePoint IssuerNotAfter() const override { return issuer_.NotAfter(); }

 private:
  CasName name_;
  std::unique_ptr<GoogleServiceAccount> account_;
  GoogleApi api_;
  std::vector<std::string> chain_pems_;
  IssuerMemory issuer_;
};

// The CA's own chain (CA first, root last), or every chain of the pool's
// CAs, the first one first.
Result<std::vector<X509Ptr>> CaCertificates(const GoogleApi& api, const CasName& name) {
  std::vector<X509Ptr> out;
  auto add = [&](const json_t* list) {
    for (auto& x : PemArrayCerts(list)) out.push_back(std::move(x));
  };
  if (!name.ca_id.empty()) {
    STEPCA_ASSIGN_OR_RETURN(GoogleResponse r,
                            api.Call("/v1/" + name.pool + "/certificateAuthorities/" + name.ca_id, nullptr));
    if (r.status != 200) return FromGoogle(r, "give the certificate authority", api.endpoint());
    add(json_object_get(r.body.get(), "pemCaCertificates"));
  } else {
    JsonPtr body(json_object());
    json_object_set_new(body.get(), "requestId", json_string(NewUuidV4().c_str()));
    STEPCA_ASSIGN_OR_RETURN(GoogleResponse r, api.Call("/v1/" + name.pool + ":fetchCaCerts", body.get()));
    if (r.status != 200) return FromGoogle(r, "give the CA pool's certificates", api.endpoint());
    size_t i;
    const json_t* chain;
    json_array_foreach(json_object_get(r.body.get(), "caCerts"), i, chain) {
      add(json_object_get(chain, "certificates"));
    }
  }
  if (out.empty()) return Unavailable("Google CAS answered without CA certificates");
  return out;
}

}  // namespace

Result<StepCasService> MakeCloudCas(const RaConfig& config, UpstreamObserver observer) {
  auto account = GoogleServiceAccount::Load(config.cloud.credentials_file);
  if (!account.ok()) return RaFieldError("credentialsFile", account.status().message());
  const CasName name = SplitName(config.certificate_authority);
  std::vector<X509Ptr> certs;
  {
    GoogleApi once(config, *account.value(), false);
    auto got = CaCertificates(once, name);
    if (!got.ok()) {
      if (got.status().code() == Code::kUnavailable &&
          got.status().message().find("credentials") != std::string::npos)
        return RaFieldError("credentialsFile", Described(got.status()));
      return RaFieldError("certificateAuthority", Described(got.status()));
    }
    certs = std::move(got).value();
  }
  auto root = PickRoot(certs, config.fingerprint, "Google CAS " + config.certificate_authority);
  if (!root.ok()) return RaFieldError(config.fingerprint.empty() ? "certificateAuthority"
                                                             : "certificateAuthorityFingerprint",
                                  root.status().message());
  StepCasService out;
  std::vector<std::string> pems;
  // The first chain, up to its root: what leaves are answered with.
  for (const auto& c : certs) {
    if (IsSelfSigned(c.get())) break;
    pems.push_back(CertificateToPem(c.get()));
    out.intermediates.emplace_back(X509_dup(c.get()));
  }
  for (const auto& c : certs)
    if (IsSelfSigned(c.get()) && X509_cmp(c.get(), root->get()) != 0)
      out.federated.emplace_back(X509_dup(c.get()));
  out.service = std::make_unique<CloudCas>(config, std::move(account).value(), root->get(), std::move(pems),
                                          std::move(observer));
  out.root = std::move(root).value();
  return out;
}

}  // namespace stepca
