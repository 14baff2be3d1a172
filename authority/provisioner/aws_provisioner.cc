#include "authority/provisioner/aws_provisioner.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "authority/provisioner/aws_certificates.h"
#include "authority/provisioner/provisioner_fields.h"
#include "authority/provisioner/identity_token.h"
#include "shared/base64.h"

namespace stepca {
namespace {

constexpr char kAwsIssuer[] = "ec2.amazonaws.com";

std::vector<X509Ptr> ReadPemCertificates(const std::string& pem) {
  std::vector<X509Ptr> out;
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  for (;;) {
    X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (!cert) break;
    out.push_back(std::move(cert));
  }
  ERR_clear_error();
  return out;
}

bool RsaSha256Verifies(X509* cert, const std::string& data, const std::string& sig) {
  EVP_PKEY* key = X509_get0_pubkey(cert);
  if (key == nullptr || EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) return false;
  OsslPtr<EVP_MD_CTX, EVP_MD_CTX_free> ctx(EVP_MD_CTX_new());
  const bool ok = ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key) == 1 &&
                  EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                                   reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1;
  ERR_clear_error();
  return ok;
}

// The step token's own MAC: HS256 keyed with the document signature.
bool Hs256Verifies(const Jws& jws, const std::string& key) {
  if (jws.alg != "HS256") return false;
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(jws.signing_input.data()), jws.signing_input.size(),
           mac, &len) == nullptr)
    return false;
  return jws.signature.size() == len && CRYPTO_memcmp(mac, jws.signature.data(), len) == 0;
}

Result<std::string> Base64Member(const json_t* obj, const char* name) {
  const json_t* v = json_object_get(obj, name);
  if (!json_is_string(v)) return Unauthenticated(std::string("amazon.") + name + " is missing");
  auto bytes = Base64Decode(std::string_view(json_string_value(v), json_string_length(v)));
  if (!bytes || bytes->empty()) return Unauthenticated(std::string("amazon.") + name + " is not base64");
  return *bytes;
}

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

}  // namespace

Result<AwsIdentityDocument> ParseAwsIdentityDocument(std::string_view text) {
  JsonPtr j(json_loadb(text.data(), text.size(), 0, nullptr));
  if (!json_is_object(j.get())) return Unauthenticated("error unmarshaling aws identity document");
  AwsIdentityDocument d;
  struct Field {
    const char* name;
    std::string* out;
  } fields[] = {{"accountId", &d.account_id},
                {"instanceId", &d.instance_id},
                {"privateIp", &d.private_ip},
                {"region", &d.region}};
  for (const auto& f : fields) {
    const json_t* v = json_object_get(j.get(), f.name);
    if (!json_is_string(v) || json_string_length(v) == 0)
      return Unauthenticated(std::string("aws identity document ") + f.name + " cannot be empty");
    *f.out = json_string_value(v);
  }
  const json_t* pending = json_object_get(j.get(), "pendingTime");
  if (json_is_string(pending)) {
    auto t = ParseRfc3339(json_string_value(pending));
    if (!t) return Unauthenticated("aws identity document pendingTime is not a time");
    d.pending_time = *t;
  }
  return d;
}

std::string AwsInternalDnsName(const AwsIdentityDocument& doc) {
  std::string ip = doc.private_ip;
  std::replace(ip.begin(), ip.end(), '.', '-');
  return "ip-" + ip + "." + doc.region + ".compute.internal";
}

AwsProvisioner::AwsProvisioner(std::string name, Claims claims, JsonPtr json, CloudSettings cloud,
                               std::vector<std::string> accounts, std::vector<X509Ptr> certs)
    : ProvisionerBase(ProvisionerType::kAws, "AWS", std::move(name), claims, std::move(json)),
      cloud_(cloud),
      accounts_(std::move(accounts)),
      certs_(std::move(certs)) {}

Result<SignGrant> AwsProvisioner::AuthorizeSign(const Jws& jws, const TokenClaims& claims,
                                                const Audiences& audiences, TimePoint now) const {
  const char* ctx = "aws.authorizeToken";
  const json_t* amazon = json_object_get(jws.payload.get(), "amazon");
  if (!json_is_object(amazon)) return Unauthenticated(std::string(ctx) + "; token has no amazon claim");
  auto document = Base64Member(amazon, "document");
  if (!document.ok()) return document.status().Wrap(ctx);
  auto signature = Base64Member(amazon, "signature");
  if (!signature.ok()) return signature.status().Wrap(ctx);
  // AWS's signature over the document is what is trusted.
  bool signed_by_aws = false;
  for (const auto& c : certs_)
    if (RsaSha256Verifies(c.get(), *document, *signature)) signed_by_aws = true;
  if (!signed_by_aws)
    return Unauthenticated(std::string(ctx) + "; invalid aws token signature: error validating identity document signature");
  if (!Hs256Verifies(jws, *signature))
    return Unauthenticated(std::string(ctx) + "; error verifying claims");
  auto doc = ParseAwsIdentityDocument(*document);
  if (!doc.ok()) return doc.status().Wrap(ctx);
  if (claims.issuer != kAwsIssuer)
    return Unauthenticated(std::string(ctx) + "; invalid aws token: invalid issuer \"" + claims.issuer + "\"");
  Status t = CheckIdentityTimeClaims(claims, now);
  if (!t.ok()) return Unauthenticated(std::string(ctx) + "; invalid aws token: " + t.message());
  if (!audiences.Matches(TokenMethod::kSign, claims.audience, id()))
    return Unauthenticated(std::string(ctx) + "; invalid token - invalid audience claim (aud)");
  const std::string dns = AwsInternalDnsName(*doc);
  if (cloud_.disable_custom_sans && claims.subject != doc->instance_id &&
      claims.subject != doc->private_ip && claims.subject != dns)
    return Unauthenticated(std::string(ctx) + "; invalid token - invalid subject claim (sub)");
  if (!accounts_.empty() && !Contains(accounts_, doc->account_id))
    return Unauthenticated(std::string(ctx) + "; invalid aws identity document - accountId is not valid");
  if (cloud_.instance_age) {
    if (!doc->pending_time)
      return Unauthenticated(std::string(ctx) + "; aws identity document has no pendingTime");
    STEPCA_RETURN_IF_ERROR(CheckInstanceAge(cloud_, *doc->pending_time, now,
                                            "aws.authorizeToken; aws identity document pendingTime is too old"));
  }

  SignGrant g = CloudGrant(cloud_, *this, ProvisionerType::kAws, claims, claims.subject,
                           doc->account_id, {dns, doc->private_ip}, CsrNames::kGrantedSameSubject);
  SetCloudUseKeys(cloud_, id(), doc->instance_id, jws, &g);
  return g;
}

Result<std::unique_ptr<Provisioner>> ParseAwsProvisioner(const json_t* obj, const std::string& field,
                                                         const std::string& name, const Claims& claims,
                                                         JsonPtr json, const std::string& config_dir) {
  STEPCA_ASSIGN_OR_RETURN(CloudSettings cloud, ReadCloudSettings(obj, field));
  std::vector<std::string> accounts;
  STEPCA_RETURN_IF_ERROR(ReadStringListSetting(obj, field, "accounts", &accounts));
  std::string roots;
  STEPCA_RETURN_IF_ERROR(ReadStringSetting(obj, field, "iidRoots", false, &roots));
  std::string pem = AwsIdentityCertificatesPem();
  if (!roots.empty()) {
    const std::string path = roots[0] == '/' ? roots : config_dir + "/" + roots;
    std::ifstream in(path, std::ios::binary);
    if (!in)
      return InvalidArgument("field \"" + field + ".iidRoots\": cannot read " + path);
    std::stringstream ss;
    ss << in.rdbuf();
    pem = ss.str();
  }
  std::vector<X509Ptr> certs = ReadPemCertificates(pem);
  if (certs.empty())
    return InvalidArgument("field \"" + field + ".iidRoots\": error parsing AWS IID certificate: no certificates found");
  return std::unique_ptr<Provisioner>(
      new AwsProvisioner(name, claims, std::move(json), cloud, std::move(accounts), std::move(certs)));
}

}  // namespace stepca
