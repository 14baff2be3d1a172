#include "authority/ra/x5c_issuer.h"

#include <openssl/err.h>
#include <openssl/x509.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "authority/config/ca_config.h"
#include "authority/ra/upstream_token.h"
#include "authority/signer/file_signer.h"
#include "shared/base64.h"

namespace stepca {
namespace {

struct Credential {
  std::vector<X509Ptr> chain;
  EvpPkeyPtr key;
};

class X5cIssuer : public UpstreamIssuer {
 public:
  explicit X5cIssuer(StepCasIssuerConfig config) : config_(std::move(config)) {}

  // Read now, for this token only: the files may have been rotated.
  Result<Credential> Read(TimePoint now) const {
    auto chain = ReadCertificates(config_.crt_path);
    if (!chain.ok())
      return Unavailable("the RA's x5c issuer certificate cannot be read")
          .WithDetail(chain.status().message());
    std::ifstream in(config_.key_path, std::ios::binary);
    if (!in)
      return Unavailable("the RA's x5c issuer key cannot be read")
          .WithDetail(config_.key_path + ": " + std::strerror(errno));
    std::stringstream ss;
    ss << in.rdbuf();
    std::string pem = ss.str();
    auto key = LoadPrivateKeyPem(pem, config_.password);
    Wipe(pem);
    if (!key.ok())
      return Unavailable("the RA's x5c issuer key cannot be opened")
          .WithDetail(config_.key_path + ": " + key.status().message());
    X509* leaf = chain->front().get();
    if (X509_check_private_key(leaf, key->get()) != 1) {
      ERR_clear_error();
      return Unavailable("the RA's x5c issuer key does not match its certificate")
          .WithDetail(config_.key_path + " / " + config_.crt_path);
    }
    const time_t t = Clock::to_time_t(std::chrono::time_point_cast<Clock::duration>(now));
    if (X509_cmp_time(X509_get0_notAfter(leaf), const_cast<time_t*>(&t)) < 0)
      return Unavailable("the RA's x5c issuer certificate has expired")
          .WithDetail(config_.crt_path + ": renew it; it is read again on every request");
    if (X509_cmp_time(X509_get0_notBefore(leaf), const_cast<time_t*>(&t)) > 0)
      return Unavailable("the RA's x5c issuer certificate is not valid yet")
          .WithDetail(config_.crt_path);
    return Credential{std::move(chain).value(), std::move(key).value()};
  }

  Result<UpstreamToken> Token(const UpstreamTokenRequest& request) const override {
    const TimePoint now = std::chrono::time_point_cast<std::chrono::nanoseconds>(Clock::now());
    STEPCA_ASSIGN_OR_RETURN(Credential cred, Read(now));
    JsonPtr x5c(json_array());
    for (auto& c : cred.chain) {
      unsigned char* der = nullptr;
      int n = i2d_X509(c.get(), &der);
      if (n <= 0) return Internal("x5c issuer: cannot encode the certificate");
      json_array_append_new(x5c.get(),
                            json_string(Base64Encode(std::string(reinterpret_cast<char*>(der), n)).c_str()));
      OPENSSL_free(der);
    }
    JsonPtr header(json_object());
    json_object_set_new(header.get(), "typ", json_string("JWT"));
    json_object_set(header.get(), "x5c", x5c.get());
    // step-ca finds an X5C provisioner by the audience's fragment.
    UpstreamTokenRequest aimed = request;
    aimed.audience += "#x5c/" + config_.provisioner;
    STEPCA_ASSIGN_OR_RETURN(std::string token, MintUpstreamToken(header.get(), config_.provisioner,
                                                                 aimed, cred.key.get(), now));
    struct tm tm {};
    ASN1_TIME_to_tm(X509_get0_notAfter(cred.chain.front().get()), &tm);
    const TimePoint limit = std::chrono::time_point_cast<std::chrono::nanoseconds>(
        Clock::from_time_t(timegm(&tm)) - std::chrono::minutes(1));
    return UpstreamToken{std::move(token), limit};
  }

 private:
  StepCasIssuerConfig config_;
};

}  // namespace

Result<std::unique_ptr<UpstreamIssuer>> MakeX5cIssuer(const StepCasIssuerConfig& config) {
  auto issuer = std::make_unique<X5cIssuer>(config);
  auto cred = issuer->Read(std::chrono::time_point_cast<std::chrono::nanoseconds>(Clock::now()));
  if (!cred.ok())
    return InvalidArgument("authority.certificateIssuer: " + cred.status().message() + ": " +
                           cred.status().detail());
  std::unique_ptr<UpstreamIssuer> out = std::move(issuer);
  return out;
}

}  // namespace stepca
