#include "cli/renew.h"

#include <curl/curl.h>
#include <openssl/rand.h>

#include <chrono>
#include <ctime>
#include <mutex>

#include "authority/jose/jws.h"
#include "authority/signer/file_signer.h"
#include "authority/x509/chain.h"
#include "cli/args.h"
#include "cli/crypto.h"
#include "cli/files.h"
#include "cli/http.h"
#include "cli/token.h"
#include "shared/base64.h"

namespace stepca {
namespace cli {
namespace {

using CurlPtr = std::unique_ptr<CURL, OsslDeleter<CURL, curl_easy_cleanup>>;
void FreeSlist(curl_slist* l) { curl_slist_free_all(l); }
using SlistPtr = std::unique_ptr<curl_slist, OsslDeleter<curl_slist, FreeSlist>>;

size_t Collect(char* data, size_t size, size_t n, void* user) {
  auto* out = static_cast<std::string*>(user);
  if (out->size() + size * n > (16u << 20)) return 0;
  out->append(data, size * n);
  return size * n;
}

struct PostOptions {
  std::string url, root, body;
  std::string cert_file, key_file;  // client certificate (mutual TLS)
  std::string bearer;               // Authorization: Bearer
};

// A POST like cli/http.cc's, with a client certificate or a bearer token.
Result<HttpResponse> Post(const PostOptions& o) {
  static std::once_flag init_once;
  std::call_once(init_once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (o.url.rfind("https://", 0) != 0) return InvalidArgument("ca-url '" + o.url + "' must use https");
  if (o.root.empty()) return InvalidArgument("a root certificate is required (use --root)");
  CurlPtr curl(curl_easy_init());
  if (!curl) return Internal("curl_easy_init failed");
  CURL* c = curl.get();
  HttpResponse response;
  char errbuf[CURL_ERROR_SIZE] = {0};
  SlistPtr headers(curl_slist_append(nullptr, "Content-Type: application/json"));
  curl_slist_append(headers.get(), "Expect:");
  std::string auth;
  if (!o.bearer.empty()) {
    auth = "Authorization: Bearer " + o.bearer;
    curl_slist_append(headers.get(), auth.c_str());
  }
  curl_easy_setopt(c, CURLOPT_URL, o.url.c_str());
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, Collect);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "stepca-cli/0.1");
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 15L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
  curl_easy_setopt(c, CURLOPT_CAINFO, o.root.c_str());
  curl_easy_setopt(c, CURLOPT_CAPATH, nullptr);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(c, CURLOPT_SSLVERSION, CURL_SSLVERSION_TLSv1_2);
  if (!o.cert_file.empty()) {
    curl_easy_setopt(c, CURLOPT_SSLCERT, o.cert_file.c_str());
    curl_easy_setopt(c, CURLOPT_SSLKEY, o.key_file.c_str());
  }
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  curl_easy_setopt(c, CURLOPT_POST, 1L);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, o.body.data());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(o.body.size()));
  CURLcode rc = curl_easy_perform(c);
  if (rc != CURLE_OK)
    return Unavailable("client POST " + o.url + " failed: " +
                       (errbuf[0] != '\0' ? std::string(errbuf) : curl_easy_strerror(rc)));
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response.status);
  return response;
}

int Fail(std::ostream& err, const std::string& message) {
  err << "error: " << message << "\n";
  return 1;
}

int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct Client {
  std::string ca_url, root;
};

Result<Client> ResolveClient(const Args& args) {
  STEPCA_ASSIGN_OR_RETURN(ClientDefaults d,
                          LoadClientDefaults(args.Get("steppath", DefaultStepPath())));
  Client c;
  c.ca_url = NormalizeCaUrl(args.Get("ca-url", d.ca_url));
  c.root = args.Get("root", d.root);
  if (c.ca_url.empty()) return InvalidArgument("flag '--ca-url' is required");
  if (c.root.empty()) return InvalidArgument("flag '--root' is required");
  return c;
}

}  // namespace

Result<std::string> BuildRenewToken(const std::vector<X509Ptr>& chain, EVP_PKEY* key,
                                    const std::string& ca_url, int64_t now) {
  if (chain.empty()) return InvalidArgument("no certificate");
  JsonPtr x5c(json_array());
  for (auto& c : chain)
    json_array_append_new(x5c.get(), json_string(Base64Encode(CertificateDer(c.get())).c_str()));
  JsonPtr header(json_pack("{s:s,s:O}", "typ", "JWT", "x5cInsecure", x5c.get()));
  unsigned char rnd[32];
  RAND_bytes(rnd, sizeof rnd);
  const std::string jti = HexEncode(std::string(reinterpret_cast<char*>(rnd), sizeof rnd));
  const std::string aud = NormalizeCaUrl(ca_url) + "/renew";
  const std::string sub = CommonName(chain[0].get());
  JsonPtr claims(json_pack("{s:s,s:I,s:I,s:s,s:s,s:I,s:s}", "aud", aud.c_str(), "exp",
                           static_cast<json_int_t>(now + 300), "iat", static_cast<json_int_t>(now),
                           "iss", "step-ca-client/1.0", "jti", jti.c_str(), "nbf",
                           static_cast<json_int_t>(now), "sub", sub.c_str()));
  return SignCompactJws(header.get(), claims.get(), key);
}

int RunRenew(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err) {
  auto parsed = Args::Parse(argv, {{"ca-url"}, {"root"}, {"steppath"}, {"mtls"}, {"out"},
                                   {"force", false}, {"f", false}});
  if (!parsed.ok()) return Fail(err, parsed.status().message());
  const Args& args = parsed.value();
  if (args.positional().size() != 2)
    return Fail(err, "'stepca renew' requires the CRT_FILE and KEY_FILE arguments");
  const std::string crt = args.positional()[0], key = args.positional()[1];
  const std::string out_file = args.Get("out", crt);
  if (out_file == crt && !args.Has("force") && !args.Has("f"))
    return Fail(err, "use --force to overwrite " + crt + ", or --out to write elsewhere");
  const std::string mtls = args.Get("mtls", "true");
  if (mtls != "true" && mtls != "false") return Fail(err, "flag '--mtls' must be true or false");
  auto client = ResolveClient(args);
  if (!client.ok()) return Fail(err, client.status().message());

  auto pem = ReadFile(crt);
  if (!pem.ok()) return Fail(err, pem.status().message());
  auto chain = ParseCertificatesPem(pem.value());
  if (!chain.ok()) return Fail(err, chain.status().message());

  PostOptions o;
  o.url = client->ca_url + "/renew";
  o.root = client->root;
  const bool expired = CertNotAfter(chain->front().get()) <= Clock::now();
  if (mtls == "true" && !expired) {
    o.cert_file = crt;
    o.key_file = key;
  } else {
    auto key_pem = ReadFile(key);
    if (!key_pem.ok()) return Fail(err, key_pem.status().message());
    auto k = LoadPrivateKeyPem(key_pem.value(), "");
    if (!k.ok()) return Fail(err, "cannot read " + key + ": " + k.status().message());
    auto token = BuildRenewToken(chain.value(), k->get(), client->ca_url, NowSeconds());
    if (!token.ok()) return Fail(err, token.status().message());
    o.bearer = token.value();
  }
  auto resp = Post(o);
  if (!resp.ok()) return Fail(err, resp.status().message());
  auto body = JsonBody(resp.value());
  if (!body.ok()) return Fail(err, body.status().message());
  std::string text;
  const json_t* list = json_object_get(body->get(), "certChain");
  size_t i;
  const json_t* e;
  json_array_foreach(list, i, e) {
    if (json_is_string(e)) text += json_string_value(e);
  }
  if (text.empty()) return Fail(err, "the CA answered without a certificate");
  Status st = WriteFile(out_file, text, 0644);
  if (!st.ok()) return Fail(err, st.message());
  err << "Your certificate has been saved in " << out_file << ".\n";
  return 0;
}

int RunRevoke(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err) {
  auto parsed = Args::Parse(argv, {{"ca-url"}, {"root"}, {"steppath"}, {"reason"},
                                   {"reasonCode"}, {"token"}, {"provisioner"}, {"issuer"},
                                   {"provisioner-password-file"}, {"password-file"},
                                   {"ca-config"}, {"offline", false}, {"cert"}, {"key"}});
  if (!parsed.ok()) return Fail(err, parsed.status().message());
  const Args& args = parsed.value();
  if (args.positional().size() != 1)
    return Fail(err, "'stepca revoke' requires the SERIAL_NUMBER argument");
  const std::string serial = args.positional()[0];
  auto client = ResolveClient(args);
  if (!client.ok()) return Fail(err, client.status().message());

  long code = 0;
  if (args.Has("reasonCode")) {
    const std::string s = args.Get("reasonCode");
    char* end = nullptr;
    code = std::strtol(s.c_str(), &end, 10);
    if (s.empty() || *end != '\0' || code < 0 || code > 10)
      return Fail(err, "flag '--reasonCode' must be an integer from 0 to 10");
  }
  PostOptions o;
  o.url = client->ca_url + "/revoke";
  o.root = client->root;
  std::string ott;
  if (args.Has("cert") || args.Has("key")) {
    if (!args.Has("cert") || !args.Has("key"))
      return Fail(err, "flags '--cert' and '--key' go together");
    o.cert_file = args.Get("cert");
    o.key_file = args.Get("key");
  } else if (args.Has("token")) {
    ott = args.Get("token");
  } else {
    TokenFlowOptions t;
    t.subject = serial;
    t.revoke = true;
    t.provisioner = args.Get("provisioner", args.Get("issuer"));
    t.ca_url = client->ca_url;
    t.root = client->root;
    t.ca_config = args.Get("ca-config");
    t.offline = args.Has("offline");
    const std::string pwfile = args.Get("provisioner-password-file", args.Get("password-file"));
    if (pwfile.empty())
      return Fail(err, "revoke needs --token, --cert/--key, or --provisioner-password-file");
    auto pw = ReadPasswordFile(pwfile);
    if (!pw.ok()) return Fail(err, pw.status().message());
    t.password = pw.value();
    auto token = GenerateToken(t);
    Wipe(t.password);
    if (!token.ok()) return Fail(err, token.status().message());
    ott = token.value();
  }
  JsonPtr body(json_pack("{s:s,s:i,s:s,s:b}", "serial", serial.c_str(), "reasonCode",
                         static_cast<int>(code), "reason", args.Get("reason").c_str(), "passive", 1));
  if (!ott.empty()) json_object_set_new(body.get(), "ott", json_string(ott.c_str()));
  char* s = json_dumps(body.get(), JSON_COMPACT | JSON_PRESERVE_ORDER);
  o.body = s != nullptr ? s : "";
  std::free(s);
  auto resp = Post(o);
  if (!resp.ok()) return Fail(err, resp.status().message());
  auto answer = JsonBody(resp.value());
  if (!answer.ok()) return Fail(err, answer.status().message());
  out << "Certificate with Serial Number " << serial << " has been revoked.\n";
  return 0;
}

}  // namespace cli
}  // namespace stepca
