// The whole HTTP edge: Authority::Handle with a fuzzed method, path, query,
// headers and body, against the fixture PKI with an LMDB store (set up once,
// in a temporary copy, as the unit tests do).
//
// Input: an HTTP/1.1 request as text, so the captured fixture requests
// (wire/*.request) are seeds as they are:
//
//   METHOD SP target [SP HTTP/1.1] LF
//   Header: value LF ...           (CR before LF optional)
//   LF
//   body
//
// Authorization, Content-Type, Host, X-Request-Id and X-Smallstep-Id fill
// the request fields. Two harness-only headers reach past signature checks
// that a fuzzer cannot forge:
//   X-Fuzz-Claims: <JSON object>   the harness signs these claims with the
//       fixture provisioner key (ES256, its kid) and puts the token where
//       the body or Authorization says "@OTT@". Integer exp/nbf/iat below
//       10^8 are taken relative to now; a missing jti gets a fresh one.
//   X-Fuzz-Peer-Cert: <base64 DER> the mTLS client certificate.
#include <jansson.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "authority/api/router.h"
#include "authority/authority.h"
#include "authority/testing/fixture_pki.h"
#include "shared/base64.h"

namespace {

std::unique_ptr<stepca::testing::FixturePki> g_pki;
std::unique_ptr<stepca::Authority> g_authority;
stepca::EvpPkeyPtr g_key;

struct Cleanup {
  ~Cleanup() {
    if (g_authority) g_authority->ExitProcess();
    g_authority.reset();
    g_pki.reset();  // removes the temporary PKI
  }
} g_cleanup;

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

std::string_view NextLine(std::string_view* in) {
  size_t nl = in->find('\n');
  std::string_view line = in->substr(0, nl);
  *in = nl == std::string_view::npos ? std::string_view() : in->substr(nl + 1);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

std::string Substitute(std::string_view in, const std::string& ott) {
  std::string s(in);
  for (size_t p = s.find("@OTT@"); p != std::string::npos; p = s.find("@OTT@", p + ott.size()))
    s.replace(p, 5, ott);
  return s;
}

// The token for X-Fuzz-Claims, or "" when they are not a JSON object.
std::string MintFromClaims(std::string_view text) {
  json_error_t err;
  stepca::JsonPtr claims(json_loadb(text.data(), text.size(), 0, &err));
  if (!claims || !json_is_object(claims.get())) return "";
  const int64_t now = stepca::testing::Now();
  for (const char* k : {"exp", "nbf", "iat"}) {
    json_t* v = json_object_get(claims.get(), k);
    if (json_is_integer(v) && json_integer_value(v) < 100000000 && json_integer_value(v) > -100000000)
      json_integer_set(v, now + json_integer_value(v));
  }
  if (!json_object_get(claims.get(), "jti"))
    json_object_set_new(claims.get(), "jti", json_string(stepca::testing::RandomJti().c_str()));
  stepca::JsonPtr header(json_pack("{s:s,s:s,s:s}", "alg", "ES256", "kid",
                                   stepca::testing::kProvisionerKid, "typ", "JWT"));
  auto jws = stepca::SignCompactJws(header.get(), claims.get(), g_key.get());
  return jws.ok() ? *jws : "";
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  g_pki = std::make_unique<stepca::testing::FixturePki>();
  auto a = stepca::Authority::Load(
      {g_pki->ca_json(), g_pki->password_file(), g_pki->store_uri(), "fuzz"});
  if (!a.ok()) {
    std::fprintf(stderr, "fuzz_http: Authority::Load: %s\n", a.status().LogText().c_str());
    std::abort();
  }
  g_authority = std::move(a).value();
  if (!g_authority->InitProcess().ok()) std::abort();
  g_key = g_pki->ProvisionerKey();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::string_view line = NextLine(&in);
  size_t sp = line.find(' ');
  if (sp == std::string_view::npos) return -1;
  std::string_view method = line.substr(0, sp);
  std::string_view target = line.substr(sp + 1);
  if (size_t sp2 = target.rfind(" HTTP/"); sp2 != std::string_view::npos) target = target.substr(0, sp2);
  size_t q = target.find('?');
  std::string_view path = target.substr(0, q);
  std::string_view query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);

  stepca::HttpRequest r;
  r.method = method;
  r.path = path;
  r.query = query;
  r.scheme = "https";
  r.client_addr = "127.0.0.1";
  std::string claims_text, peer_cert;
  while (!in.empty()) {
    std::string_view h = NextLine(&in);
    if (h.empty()) break;
    size_t colon = h.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view name = h.substr(0, colon), value = h.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    if (IEquals(name, "Authorization")) r.authorization = value;
    else if (IEquals(name, "Content-Type")) r.content_type = value;
    else if (IEquals(name, "Host")) r.host = value;
    else if (IEquals(name, "X-Request-Id")) r.request_id = value;
    else if (IEquals(name, "X-Smallstep-Id")) r.legacy_request_id = value;
    else if (IEquals(name, "X-Fuzz-Claims")) claims_text = std::string(value);
    else if (IEquals(name, "X-Fuzz-Peer-Cert")) {
      if (auto der = stepca::Base64Decode(value)) peer_cert = *der;
    }
  }
  r.body = in;
  r.peer_cert_der = peer_cert;

  std::string body, authorization;
  if (!claims_text.empty()) {
    const std::string ott = MintFromClaims(claims_text);
    body = Substitute(r.body, ott);
    authorization = Substitute(r.authorization, ott);
    r.body = body;
    r.authorization = authorization;
  }

  stepca::HttpResponse resp = HandleHttp(*g_authority, r);
  if (resp.status < 100 || resp.status > 599) std::abort();
  if (resp.status >= 500 && resp.status != 501 && resp.status != 503) {
    // Not a crash, but an input that makes the CA fail: worth a look.
    static int reported = 0;
    if (reported++ < 20)
      std::fprintf(stderr, "fuzz_http: %d for %.*s %.*s: %s\n", resp.status,
                   static_cast<int>(method.size()), method.data(), static_cast<int>(path.size()),
                   path.data(), resp.log_message.c_str());
  }
  return 0;
}
