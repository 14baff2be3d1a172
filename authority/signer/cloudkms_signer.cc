#include "authority/signer/cloudkms_signer.h"

#include <jansson.h>
#include <openssl/pem.h>

#include <vector>

#include "authority/cloud/http_request.h"
#include "authority/signer/kms_call.h"
#include "authority/signer/remote_signer.h"
#include "shared/base64.h"

namespace stepca {
namespace {

// One call with the bearer token; a 401 drops the cached token, so the
// next call fetches a fresh one.
Result<JsonPtr> Call(const CloudKmsOptions& o, const std::string& method, const std::string& path,
                     const std::string& body) {
  STEPCA_ASSIGN_OR_RETURN(std::string token, o.account->Token());
  auto resp = SendWithBearer(method, o.endpoint + "/v1/" + path, std::move(token), body);
  if (!resp.ok()) return resp.status();
  JsonPtr doc(json_loadb(resp->body.data(), resp->body.size(), 0, nullptr));
  if (resp->status != 200) {
    if (resp->status == 401) o.account->ForgetToken();
    const json_t* err = json_object_get(doc.get(), "error");
    const char* st = json_string_value(json_object_get(err, "status"));
    const char* msg = json_string_value(json_object_get(err, "message"));
    // The call's name: "asymmetricSign" or "publicKey".
    const size_t cut = path.find_last_of(":/");
    return Unavailable("cloudkms: " + path.substr(cut == std::string::npos ? 0 : cut + 1) +
                       ": HTTP " + std::to_string(resp->status) +
                       (st == nullptr ? "" : " " + std::string(st)) +
                       (msg == nullptr ? "" : ": " + std::string(msg).substr(0, 200)));
  }
  if (!json_is_object(doc.get())) return Unavailable("cloudkms: the answer is not JSON");
  return doc;
}

Result<SignatureAlgorithm> FromCloudKms(const std::string& a) {
  if (a == "EC_SIGN_P256_SHA256") return SignatureAlgorithm::kEcdsaSha256;
  if (a == "EC_SIGN_P384_SHA384") return SignatureAlgorithm::kEcdsaSha384;
  auto ends = [&](const char* s) {
    const std::string t(s);
    return a.size() >= t.size() && a.compare(a.size() - t.size(), t.size(), t) == 0;
  };
  if (a.rfind("RSA_SIGN_PKCS1_", 0) == 0 && ends("_SHA256")) return SignatureAlgorithm::kRsaPkcs1Sha256;
  if (a.rfind("RSA_SIGN_PKCS1_", 0) == 0 && ends("_SHA512")) return SignatureAlgorithm::kRsaPkcs1Sha512;
  if (a.rfind("RSA_SIGN_PSS_", 0) == 0 && ends("_SHA256")) return SignatureAlgorithm::kRsaPssSha256;
  return InvalidArgument("cloudkms: the key's algorithm " + a.substr(0, 40) +
                         " is not one the CA signs with (EC_SIGN_P256_SHA256, EC_SIGN_P384_SHA384, "
                         "RSA_SIGN_PKCS1_*_SHA256/SHA512, RSA_SIGN_PSS_*_SHA256)");
}

const char* DigestField(SignatureAlgorithm a) {
  const EVP_MD* md = DigestOf(a);
  return md == EVP_sha384() ? "sha384" : md == EVP_sha512() ? "sha512" : "sha256";
}

class CloudKmsSigner : public RemoteSigner {
 public:
  CloudKmsSigner(EvpPkeyPtr pub, SignatureAlgorithm alg, CloudKmsOptions o)
      : RemoteSigner(std::move(pub), alg), o_(std::move(o)) {}

  Status InitProcess() override { return Status::Ok(); }

 protected:
  Result<std::string> SignDigest(std::string_view digest) const override {
    JsonPtr req(json_pack("{s:{s:s}}", "digest", DigestField(Algorithm()),
                          Base64Encode(digest).c_str()));
    char* text = json_dumps(req.get(), JSON_COMPACT);
    std::string body(text);
    free(text);
    // ECDSA as DER, RSA raw, as Sign returns them.
    return SignatureFromAnswer(Call(o_, "POST", o_.name + ":asymmetricSign", body), "signature",
                               false, o_.name, "asymmetricSign answered without a signature");
  }

 private:
  CloudKmsOptions o_;
};

}  // namespace

Status CheckCloudKmsName(const std::string& name) {
  // projects/P/locations/L/keyRings/R/cryptoKeys/K/cryptoKeyVersions/N
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t p = name.find('/', start);
    parts.push_back(name.substr(start, p == std::string::npos ? std::string::npos : p - start));
    if (p == std::string::npos) break;
    start = p + 1;
  }
  const char* want[] = {"projects", "locations", "keyRings", "cryptoKeys", "cryptoKeyVersions"};
  bool ok = parts.size() == 10;
  for (size_t i = 0; ok && i < 5; ++i) ok = parts[2 * i] == want[i] && !parts[2 * i + 1].empty();
  if (!ok)
    return InvalidArgument("cloudkms: the key must be a key version name "
                           "(projects/<project>/locations/<location>/keyRings/<ring>/cryptoKeys/"
                           "<key>/cryptoKeyVersions/<n>)");
  return Status::Ok();
}

Result<std::unique_ptr<Signer>> MakeCloudKmsSigner(CloudKmsOptions o) {
  STEPCA_RETURN_IF_ERROR(CheckCloudKmsName(o.name));
  if (!o.account) return InvalidArgument("cloudkms: no credentials");
  if (o.endpoint.empty()) o.endpoint = "https://cloudkms.googleapis.com";
  while (!o.endpoint.empty() && o.endpoint.back() == '/') o.endpoint.pop_back();
  STEPCA_ASSIGN_OR_RETURN(JsonPtr doc, Call(o, "GET", o.name + "/publicKey", ""));
  const char* pem = json_string_value(json_object_get(doc.get(), "pem"));
  const char* algorithm = json_string_value(json_object_get(doc.get(), "algorithm"));
  if (pem == nullptr || algorithm == nullptr)
    return Unavailable("cloudkms: publicKey answered without pem and algorithm");
  BioPtr bio(BIO_new_mem_buf(pem, -1));
  EvpPkeyPtr pub(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (!pub) return Unavailable("cloudkms: publicKey answered with a malformed key: " + OpensslError());
  STEPCA_ASSIGN_OR_RETURN(SignatureAlgorithm alg, FromCloudKms(algorithm));
  // The algorithm must fit the key it came with.
  const bool rsa = EVP_PKEY_get_base_id(pub.get()) == EVP_PKEY_RSA;
  const bool rsa_alg = alg != SignatureAlgorithm::kEcdsaSha256 && alg != SignatureAlgorithm::kEcdsaSha384;
  if (rsa != rsa_alg) return InvalidArgument("cloudkms: the key's algorithm does not fit its public key");
  if (!rsa) {
    auto curve = RemoteAlgorithmFor(pub.get(), false, false);
    if (!curve.ok() || curve.value() != alg)
      return InvalidArgument("cloudkms: the key's algorithm does not fit its public key");
  } else if (EVP_PKEY_get_bits(pub.get()) < 2048) {
    return InvalidArgument("cloudkms: RSA keys must have 2048 bits or more");
  }
  std::unique_ptr<Signer> s = std::make_unique<CloudKmsSigner>(std::move(pub), alg, std::move(o));
  return s;
}

}  // namespace stepca
