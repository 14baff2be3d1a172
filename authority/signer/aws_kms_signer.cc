#include "authority/signer/aws_kms_signer.h"

#include <jansson.h>
#include <openssl/x509.h>

#include <ctime>

#include "authority/cloud/http_request.h"
#include "authority/signer/kms_call.h"
#include "authority/signer/remote_signer.h"
#include "shared/base64.h"

namespace stepca {
namespace {

const char* AwsAlgorithm(SignatureAlgorithm a) {
  switch (a) {
    case SignatureAlgorithm::kEcdsaSha256: return "ECDSA_SHA_256";
    case SignatureAlgorithm::kEcdsaSha384: return "ECDSA_SHA_384";
    case SignatureAlgorithm::kEcdsaSha512: return "ECDSA_SHA_512";
    case SignatureAlgorithm::kRsaPkcs1Sha256: return "RSASSA_PKCS1_V1_5_SHA_256";
    case SignatureAlgorithm::kRsaPkcs1Sha512: return "RSASSA_PKCS1_V1_5_SHA_512";
    case SignatureAlgorithm::kRsaPssSha256: return "RSASSA_PSS_SHA_256";
    case SignatureAlgorithm::kEd25519: break;
  }
  return "";
}

// One TrentService call; an AWS error is kUnavailable with its __type and
// message (an access denial, an unknown key: the CA cannot sign).
Result<JsonPtr> Call(const AwsKmsOptions& o, const std::string& action, json_t* request) {
  char* text = json_dumps(request, JSON_COMPACT);
  std::string body(text);
  free(text);
  cloud::HttpRequest r;
  r.method = "POST";
  r.url = o.endpoint;
  r.body = body;
  r.headers = cloud::SignAwsJsonPost(o.credentials, o.region, "kms", cloud::UrlHost(o.endpoint),
                                     "TrentService." + action, body, std::time(nullptr));
  STEPCA_ASSIGN_OR_RETURN(cloud::HttpResponse resp, cloud::SendHttp(r));
  JsonPtr doc(json_loadb(resp.body.data(), resp.body.size(), 0, nullptr));
  if (resp.status != 200) {
    const char* t = json_string_value(json_object_get(doc.get(), "__type"));
    std::string type = t == nullptr ? "" : t;
    const char* msg = json_string_value(json_object_get(doc.get(), "message"));
    if (msg == nullptr) msg = json_string_value(json_object_get(doc.get(), "Message"));
    size_t hash = type.rfind('#');
    if (hash != std::string::npos) type = type.substr(hash + 1);
    return Unavailable("awskms: " + action + ": HTTP " + std::to_string(resp.status) +
                       (type.empty() ? "" : " " + type) +
                       (msg == nullptr ? "" : ": " + std::string(msg).substr(0, 200)));
  }
  if (!json_is_object(doc.get())) return Unavailable("awskms: " + action + ": the answer is not JSON");
  return doc;
}

class AwsKmsSigner : public RemoteSigner {
 public:
  AwsKmsSigner(EvpPkeyPtr pub, SignatureAlgorithm alg, AwsKmsOptions o)
      : RemoteSigner(std::move(pub), alg), o_(std::move(o)) {}
  ~AwsKmsSigner() override { Wipe(o_.credentials.secret_access_key); }

  // Nothing to open per process: each pool thread has its own connection.
  Status InitProcess() override { return Status::Ok(); }

 protected:
  Result<std::string> SignDigest(std::string_view digest) const override {
    const std::string message = Base64Encode(digest);
    JsonPtr req(json_pack("{s:s,s:s,s:s,s:s}", "KeyId", o_.key_id.c_str(), "Message",
                          message.c_str(), "MessageType", "DIGEST", "SigningAlgorithm",
                          AwsAlgorithm(Algorithm())));
    // AWS gives ECDSA signatures as DER already, RSA raw: as Sign returns.
    return SignatureFromAnswer(Call(o_, "Sign", req.get()), "Signature", false,
                               "awskms:key-id=" + o_.key_id, "Sign answered without a Signature");
  }

 private:
  AwsKmsOptions o_;
};

}  // namespace

Result<std::unique_ptr<Signer>> MakeAwsKmsSigner(AwsKmsOptions o) {
  if (o.key_id.empty()) return InvalidArgument("awskms: the key URI names no key-id");
  if (o.region.empty())
    return InvalidArgument("awskms: no region (give region= in kms.uri, kms.region or AWS_REGION)");
  if (o.endpoint.empty()) o.endpoint = "https://kms." + o.region + ".amazonaws.com/";
  JsonPtr req(json_pack("{s:s}", "KeyId", o.key_id.c_str()));
  STEPCA_ASSIGN_OR_RETURN(JsonPtr doc, Call(o, "GetPublicKey", req.get()));
  const char* usage = json_string_value(json_object_get(doc.get(), "KeyUsage"));
  if (usage != nullptr && std::string(usage) != "SIGN_VERIFY")
    return InvalidArgument("awskms: the key's KeyUsage is " + std::string(usage) + ", not SIGN_VERIFY");
  const char* b64 = json_string_value(json_object_get(doc.get(), "PublicKey"));
  auto der = b64 == nullptr ? std::nullopt : Base64Decode(b64);
  if (!der) return Unavailable("awskms: GetPublicKey answered without a PublicKey");
  const auto* p = reinterpret_cast<const unsigned char*>(der->data());
  EvpPkeyPtr pub(d2i_PUBKEY(nullptr, &p, static_cast<long>(der->size())));
  if (!pub) return Unavailable("awskms: GetPublicKey answered with a malformed key: " + OpensslError());
  auto alg = RemoteAlgorithmFor(pub.get(), false, o.rsa_sha512);
  if (!alg.ok()) return InvalidArgument("awskms: " + alg.status().message());
  std::unique_ptr<Signer> s = std::make_unique<AwsKmsSigner>(std::move(pub), alg.value(), std::move(o));
  return s;
}

}  // namespace stepca
