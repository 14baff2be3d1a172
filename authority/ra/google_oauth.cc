#include "authority/ra/google_oauth.h"

#include <jansson.h>
#include <openssl/pem.h>

#include <ctime>

#include "authority/jose/jws.h"

namespace stepca {
namespace {

constexpr char kScope[] = "https://www.googleapis.com/auth/cloud-platform";
constexpr char kDefaultTokenUri[] = "https://oauth2.googleapis.com/token";

TimePoint Now() { return std::chrono::time_point_cast<std::chrono::nanoseconds>(Clock::now()); }

}  // namespace

bool IsLoopbackHttp(const std::string& url) {
  for (const char* host : {"http://127.0.0.1", "http://localhost", "http://[::1]"}) {
    const size_t n = std::char_traits<char>::length(host);
    if (url.compare(0, n, host) == 0 && (url.size() == n || url[n] == ':' || url[n] == '/')) return true;
  }
  return false;
}

Result<std::unique_ptr<GoogleServiceAccount>> GoogleServiceAccount::Load(const std::string& file) {
  auto err = [&](const std::string& m) { return InvalidArgument("credentials file " + file + ": " + m); };
  json_error_t jerr;
  JsonPtr j(json_load_file(file.c_str(), 0, &jerr));
  if (!j) return err(jerr.text);
  auto str = [&](const char* name) {
    const json_t* v = json_object_get(j.get(), name);
    return json_is_string(v) ? std::string(json_string_value(v)) : std::string();
  };
  if (str("type") != "service_account")
    return err("\"type\" must be \"service_account\" (a service account key, as gcloud iam "
               "service-accounts keys create writes it)");
  std::unique_ptr<GoogleServiceAccount> a(new GoogleServiceAccount());
  a->file_ = file;
  a->email_ = str("client_email");
  a->key_id_ = str("private_key_id");
  a->token_uri_ = str("token_uri");
  if (a->token_uri_.empty()) a->token_uri_ = kDefaultTokenUri;
  if (a->email_.empty()) return err("\"client_email\" is required");
  if (a->token_uri_.rfind("https://", 0) != 0 && !IsLoopbackHttp(a->token_uri_))
    return err("\"token_uri\" must be an https:// URL");
  std::string pem = str("private_key");
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  a->key_.reset(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  Wipe(pem);
  json_object_del(j.get(), "private_key");
  if (!a->key_ || EVP_PKEY_get_base_id(a->key_.get()) != EVP_PKEY_RSA)
    return err("\"private_key\" must be the account's RSA private key in PEM");
  return a;
}

GoogleServiceAccount::~GoogleServiceAccount() { Wipe(token_); }

Result<std::string> GoogleServiceAccount::AccessToken(bool reuse_connection) const {
  std::lock_guard<std::mutex> lock(mu_);
  const TimePoint now = Now();
  if (!token_.empty() && now < expires_) return token_;

  const std::time_t iat = std::time(nullptr);
  JsonPtr header(json_object());
  json_object_set_new(header.get(), "typ", json_string("JWT"));
  if (!key_id_.empty()) json_object_set_new(header.get(), "kid", json_string(key_id_.c_str()));
  JsonPtr claims(json_object());
  json_object_set_new(claims.get(), "iss", json_string(email_.c_str()));
  json_object_set_new(claims.get(), "scope", json_string(kScope));
  json_object_set_new(claims.get(), "aud", json_string(token_uri_.c_str()));
  json_object_set_new(claims.get(), "iat", json_integer(iat));
  json_object_set_new(claims.get(), "exp", json_integer(iat + 3600));
  auto jwt = SignCompactJws(header.get(), claims.get(), key_.get(), "RS256");
  if (!jwt.ok()) return Unavailable("cannot sign the Google OAuth2 grant: " + jwt.status().message());
  // base64url and dots need no escaping in a form body.
  std::string form = "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=" +
                     jwt.value();
  Wipe(jwt.value());
  UpstreamOptions o;
  o.reuse_connection = reuse_connection;
  o.system_trust = true;
  o.allow_http = IsLoopbackHttp(token_uri_);
  UpstreamClient client(token_uri_, "", o);
  auto r = client.Request("POST", "", &form, {}, "application/x-www-form-urlencoded");
  Wipe(form);
  if (!r.ok())
    return Unavailable("Google's OAuth2 token endpoint did not answer").WithDetail(r.status().detail());
  JsonPtr j(json_loadb(r->body.data(), r->body.size(), 0, nullptr));
  if (r->status != 200) {
    const json_t* e = j ? json_object_get(j.get(), "error") : nullptr;
    const json_t* d = j ? json_object_get(j.get(), "error_description") : nullptr;
    std::string why = json_is_string(e) ? json_string_value(e) : "HTTP " + std::to_string(r->status);
    if (json_is_string(d)) why += ": " + std::string(json_string_value(d));
    if (r->status >= 500 || r->status == 429)
      return Unavailable("Google's OAuth2 token endpoint failed").WithDetail(token_uri_ + ": " + why);
    return PermissionDenied("Google refused the service account " + email_ + " (" + file_ +
                            ") an access token: " + why);
  }
  const json_t* tok = j ? json_object_get(j.get(), "access_token") : nullptr;
  const json_t* exp = j ? json_object_get(j.get(), "expires_in") : nullptr;
  if (!json_is_string(tok) || json_string_length(tok) == 0)
    return Unavailable("Google's OAuth2 token endpoint answered without an access_token");
  Wipe(token_);
  token_ = json_string_value(tok);
  const int64_t secs = json_is_integer(exp) ? json_integer_value(exp) : 3600;
  // A minute early: a token that lapses in flight costs a refused call.
  expires_ = now + std::chrono::seconds(secs > 120 ? secs - 60 : secs / 2);
  json_object_del(j.get(), "access_token");
  return token_;
}

void GoogleServiceAccount::Forget(const std::string& stale) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (token_ == stale) Wipe(token_);
}

}  // namespace stepca
