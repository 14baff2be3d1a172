// Writes the seed corpora: fuzz_seedgen <dir> creates <dir>/<target>/ for
// every target, from the step 0.19 fixtures and from inputs made here with
// the fixed keys of fuzz_common.h (tokens that verify, JWEs that decrypt,
// CSRs with every kind of SAN).
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <cstdio>
#include <dirent.h>
#include <string>
#include <vector>

#include "authority/api/http.h"
#include "authority/jose/jwe.h"
#include "authority/jose/jwk.h"
#include "authority/jose/jws.h"
#include "authority/testing/fixture_pki.h"
#include "fuzz/fuzz_common.h"
#include "shared/base64.h"

namespace {

using namespace stepca;
std::string g_out;
int g_count = 0;

void Put(const std::string& target, const std::string& name, const std::string& data) {
  const std::string dir = g_out + "/" + target;
  mkdir(dir.c_str(), 0755);
  FILE* f = std::fopen((dir + "/" + name).c_str(), "wb");
  if (!f) std::abort();
  std::fwrite(data.data(), 1, data.size(), f);
  std::fclose(f);
  ++g_count;
}

std::vector<std::string> ListDir(const std::string& dir, const std::string& suffix) {
  std::vector<std::string> out;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      std::string n = e->d_name;
      if (n.size() > suffix.size() && n.compare(n.size() - suffix.size(), suffix.size(), suffix) == 0)
        out.push_back(n);
    }
    closedir(d);
  }
  return out;
}

std::string JwkText(EVP_PKEY* key, bool priv) {
  auto j = JwkToJson(key, priv, "kid-1", "");
  return JsonBody(j.value().get());
}

std::string Token(EVP_PKEY* key, const std::string& alg) {
  JsonPtr header(json_pack("{s:s,s:s}", "kid", "k", "typ", "JWT"));
  auto claims = testing::StepTokenClaims("svc.example.test");
  return SignCompactJws(header.get(), claims.get(), key, alg).value();
}

// A CSR with a subject CN and a SAN extension written in openssl's
// "DNS:a,IP:1.2.3.4,email:x@y,URI:spiffe://..." syntax.
std::string CsrDer(EVP_PKEY* key, const std::string& cn, const std::string& san) {
  X509ReqPtr req(X509_REQ_new());
  X509_REQ_set_version(req.get(), 0);
  if (!cn.empty())
    X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req.get()), "CN", MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_REQ_set_pubkey(req.get(), key);
  if (!san.empty()) {
    STACK_OF(X509_EXTENSION)* exts = sk_X509_EXTENSION_new_null();
    sk_X509_EXTENSION_push(exts, X509V3_EXT_conf_nid(nullptr, nullptr, NID_subject_alt_name, san.c_str()));
    X509_REQ_add_extensions(req.get(), exts);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  }
  const bool ed = EVP_PKEY_get_id(key) == EVP_PKEY_ED25519;
  X509_REQ_sign(req.get(), key, ed ? nullptr : EVP_sha256());
  unsigned char* der = nullptr;
  int n = i2d_X509_REQ(req.get(), &der);
  std::string out(reinterpret_cast<char*>(der), n);
  OPENSSL_free(der);
  return out;
}

std::string DerToPem(const std::string& der, const char* label = "CERTIFICATE REQUEST") {
  std::string b64 = Base64Encode(der), pem = std::string("-----BEGIN ") + label + "-----\n";
  for (size_t i = 0; i < b64.size(); i += 64) pem += b64.substr(i, 64) + "\n";
  return pem + "-----END " + label + "-----\n";
}

std::string PemToDer(const std::string& pem) {
  std::string b64;
  bool in = false;
  size_t pos = 0;
  while (pos < pem.size()) {
    size_t nl = pem.find('\n', pos);
    std::string line = pem.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    pos = nl == std::string::npos ? pem.size() : nl + 1;
    if (line.rfind("-----BEGIN", 0) == 0) in = true;
    else if (line.rfind("-----END", 0) == 0) break;
    else if (in) b64 += line;
  }
  return Base64Decode(b64).value_or("");
}

std::string JsonString(const std::string& s) {
  JsonPtr v(json_stringn(s.data(), s.size()));
  char* t = json_dumps(v.get(), JSON_ENCODE_ANY);
  std::string out(t);
  free(t);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: fuzz_seedgen <dir>\n");
    return 2;
  }
  g_out = argv[1];
  mkdir(g_out.c_str(), 0755);
  const std::string wire = fuzz::FixturesDir() + "/wire";

  EvpPkeyPtr p256 = testing::MakeKey("P-256"), p384 = testing::MakeKey("P-384"),
             p521 = testing::MakeKey("P-521"), rsa1024 = testing::MakeKey("RSA-1024");
  EvpPkeyPtr ed = fuzz::FixedEd25519Key(), rsa = fuzz::FixedRsaKey();

  // fuzz_jws: the captured tokens (ES256, verify with the provisioner key)
  // and tokens signed with the target's Ed25519 and RSA keys.
  for (auto& n : ListDir(wire, ".token")) Put("fuzz_jws", n, fuzz::ReadFileOrDie(wire + "/" + n));
  Put("fuzz_jws", "ed25519.token", Token(ed.get(), "EdDSA"));
  for (const char* alg : {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"})
    Put("fuzz_jws", std::string(alg) + ".token", Token(rsa.get(), alg));
  Put("fuzz_jws", "p384.token", Token(p384.get(), "ES384"));
  Put("fuzz_jws", "p521.token", Token(p521.get(), "ES512"));

  // fuzz_jwk: public and private JWKs of every supported type.
  struct { const char* name; EVP_PKEY* key; } keys[] = {
      {"p256", p256.get()}, {"p384", p384.get()}, {"p521", p521.get()},
      {"ed25519", ed.get()}, {"rsa2048", rsa.get()}};
  for (auto& k : keys) {
    Put("fuzz_jwk", std::string(k.name) + ".pub.json", JwkText(k.key, false));
    Put("fuzz_jwk", std::string(k.name) + ".priv.json", JwkText(k.key, true));
  }
  {
    json_error_t err;
    const std::string ca = fuzz::FixturesDir() + "/pki/config/ca.json";
    JsonPtr root(json_load_file(ca.c_str(), 0, &err));
    const json_t* p = json_array_get(
        json_object_get(json_object_get(root.get(), "authority"), "provisioners"), 0);
    Put("fuzz_jwk", "provisioner.json", JsonBody(json_object_get(p, "key")));
  }

  // fuzz_jwe: keys encrypted as step does, with p2c 1000.
  for (auto& k : keys) {
    Put("fuzz_jwe", std::string(k.name) + ".jwe",
        EncryptPbes2Jwe(JwkText(k.key, true), fuzz::kJwePassword, "jwk+json", 1000).value());
  }
  Put("fuzz_jwe", "empty.jwe", EncryptPbes2Jwe("", fuzz::kJwePassword, "", 1000).value());
  Put("fuzz_jwe", "wrong-password.jwe", EncryptPbes2Jwe("{}", "other", "jwk+json", 1000).value());

  // fuzz_csr_pem / fuzz_csr_der: the captured CSRs and CSRs with each SAN kind.
  std::vector<std::pair<std::string, std::string>> csrs;  // name, DER
  for (auto& n : ListDir(wire, ".csr")) csrs.emplace_back(n, PemToDer(fuzz::ReadFileOrDie(wire + "/" + n)));
  csrs.emplace_back("all-sans", CsrDer(p256.get(), "sign-ok.example.test",
                                       "DNS:sign-ok.example.test,DNS:*.example.test,IP:127.0.0.1,"
                                       "IP:::1,email:me@example.test,URI:spiffe://example.test/svc"));
  csrs.emplace_back("no-cn", CsrDer(p384.get(), "", "DNS:a.example.test"));
  csrs.emplace_back("no-sans", CsrDer(p521.get(), "only-cn.example.test", ""));
  csrs.emplace_back("ed25519", CsrDer(ed.get(), "ed.example.test", "DNS:ed.example.test"));
  csrs.emplace_back("rsa2048", CsrDer(rsa.get(), "rsa.example.test", "DNS:rsa.example.test"));
  csrs.emplace_back("rsa1024", CsrDer(rsa1024.get(), "small.example.test", "DNS:small.example.test"));
  csrs.emplace_back("ip-mapped", CsrDer(p256.get(), "", "IP:::ffff:10.0.0.1"));
  for (auto& [name, der] : csrs) {
    Put("fuzz_csr_der", name + ".der", der);
    Put("fuzz_csr_pem", name + ".pem", DerToPem(der));
  }
  Put("fuzz_csr_pem", "new-label.pem", DerToPem(csrs.back().second, "NEW CERTIFICATE REQUEST"));

  // fuzz_duration
  int i = 0;
  for (const char* s : {"24h", "1h30m", "-5m", "300ms", "1m0s", "1.5s", "0", "+0", "1µs", "1μs",
                        "2562047h47m16.854775807s", "-2562047h47m16.854775808s", ".5h", "1.h",
                        "2026-11-23T04:48:40Z", "2026-11-23T04:48:40.123456789+05:30",
                        "1677-09-21T00:12:43Z", "2262-04-11T23:47:16.854775807Z",
                        "2024-02-29T23:59:59-23:59", "0000-01-01T00:00:00Z", "9999-12-31T23:59:59Z"})
    Put("fuzz_duration", "d" + std::to_string(i++), s);

  // fuzz_base64
  i = 0;
  for (const char* s : {"", "Zg", "Zm8", "Zm9v", "Zg==", "Zm8=", "Zm9v", "-_-_", "+/+/", "QUJD\n",
                        "eyJhbGciOiJFUzI1NiJ9"})
    Put("fuzz_base64", "b" + std::to_string(i++), s);

  // fuzz_store_uri
  i = 0;
  for (const char* s :
       {"lmdb:/var/lib/nginx-stepca", "lmdb:///var/lib/x/", "lmdb:/d?map_size=512M",
        "lmdb:/a%20b", "redis://127.0.0.1", "redis://h:6380/2",
        "redis://alice:s%40cret@10.0.0.5:6380/3?timeout=500ms&connect_timeout=2s",
        "redis://[::1]:7000?timeout=1.5s", "redis://:pw@host/?prefix=x:",
        "unix:///run/redis.sock?db=0&password=pw&timeout=1s",
        "redis+unix:///run/redis/redis.sock?db=1&password=pw&timeout=250ms",
        "redis+unix://:Hunter2Secret@/s"})
    Put("fuzz_store_uri", "u" + std::to_string(i++), s);

  // fuzz_template: step-ca's documented templates and each construct.
  i = 0;
  for (const char* s :
       {"{\n\t\"subject\": {{ toJson .Subject }},\n\t\"sans\": {{ toJson .SANs }},\n"
        "{{- if typeIs \"*rsa.PublicKey\" .Insecure.CR.PublicKey }}\n"
        "\t\"keyUsage\": [\"keyEncipherment\", \"digitalSignature\"],\n{{- else }}\n"
        "\t\"keyUsage\": [\"digitalSignature\"],\n{{- end }}\n"
        "\t\"extKeyUsage\": [\"serverAuth\", \"clientAuth\"]\n}",
        "{{- if not (hasSuffix \".internal\" .Subject.commonName) }}{{ fail \"no\" }}{{ end -}}",
        "{\"sans\": [{{ range $i, $s := .SANs }}{{ if $i }}, {{ end }}{{ toJson $s }}{{ end }}]}",
        "{{ define \"T\" }}<{{ . }}>{{ end }}{{ template \"T\" .n }}{{ block \"B\" . }}b{{ end }}",
        "{{ with $u := .Insecure.User }}{{ $u.role | upper | printf \"%q\" }}{{ else }}-{{ end }}",
        "{{ $m := dict \"a\" 1 }}{{ $_ := set $m \"b\" (list 1 2) }}{{ toJson $m }}{{ get $m \"a\" }}",
        "{{ range .list }}{{ if eq . \"y\" }}{{ continue }}{{ end }}{{ . }}{{ else }}none{{ end }}",
        "{{ index .SANs 0 \"value\" | splitList \".\" | join \"-\" }} {{ len .list }}",
        "{{ regexMatch \"^[a-z]+(\\\\.[a-z]+)*$\" .s }} {{ b64enc .s | b64dec }} {{ replace \"s\" \"S\" .s }}",
        "{{ coalesce .missing \"\" .s | default \"d\" | quote }} {{ first .list }}{{ last .list }}",
        "{{ and .t (or .n .f) (not .missing) }} {{ lt 1 2 }} {{ printf \"%d %s %v %x\" .n .s .list .n }}",
        "{{/* comment */}}{{- trim \"  x  \" -}} {{ lower \"A\" }} {{ hasPrefix \"a\" .s }} {{ contains \"t\" .s }}",
        "{{ define \"R\" }}{{ template \"R\" . }}{{ end }}{{ template \"R\" . }}",
        "{{ if .t }}a{{ else if .n }}b{{ else }}c{{ end }}{{ $x := 1 }}{{ $x = 2 }}{{ $x }}",
        "{{ (split \"@\" \"u@example.com\")._1 }} {{ hasKey .Token \"sub\" }} {{ empty .Token.nested.k }}"})
    Put("fuzz_template", "t" + std::to_string(i++), s);

  // fuzz_http: every captured request, then requests with harness-signed
  // tokens (X-Fuzz-Claims, see fuzz_http.cc) that reach past the signature.
  for (auto& n : ListDir(wire, ".request")) Put("fuzz_http", n, fuzz::ReadFileOrDie(wire + "/" + n));
  for (auto& n : ListDir(wire + "/h2", ".request"))
    Put("fuzz_http", "h2-" + n, fuzz::ReadFileOrDie(wire + "/h2/" + n));
  const std::string csr_ok = fuzz::ReadFileOrDie(wire + "/sign-ok.csr");
  auto claims = [](const std::string& sub, const std::string& aud, const std::string& sans) {
    return "{\"aud\":\"https://127.0.0.1:9643/1.0/" + aud +
           "\",\"exp\":300,\"iat\":0,\"nbf\":0,\"iss\":\"fixture@example.test\",\"sub\":\"" + sub +
           "\",\"sans\":" + sans + "}";
  };
  const std::string sign_claims = claims("sign-ok.example.test", "sign", "[\"sign-ok.example.test\"]");
  auto sign_req = [&](const std::string& extra) {
    return "POST /1.0/sign HTTP/1.1\r\nContent-Type: application/json\r\nX-Fuzz-Claims: " +
           sign_claims + "\r\n\r\n{\"csr\":" + JsonString(csr_ok) + ",\"ott\":\"@OTT@\"" + extra + "}";
  };
  Put("fuzz_http", "signed-sign.req", sign_req(""));
  Put("fuzz_http", "signed-sign-notafter.req", sign_req(",\"notAfter\":\"1h\""));
  Put("fuzz_http", "signed-sign-notbefore.req",
      sign_req(",\"notBefore\":\"5m\",\"notAfter\":\"2026-11-24T00:00:00Z\""));
  Put("fuzz_http", "signed-sign-big.req", sign_req(",\"notAfter\":\"2562047h\""));
  Put("fuzz_http", "signed-sign-neg.req", sign_req(",\"notBefore\":\"-2562047h\""));
  std::string all_sans_pem;
  for (auto& [name, der] : csrs)
    if (name == "all-sans") all_sans_pem = DerToPem(der);
  Put("fuzz_http", "signed-sign-all-sans.req",
      "POST /sign HTTP/1.1\r\nX-Fuzz-Claims: " +
          claims("sign-ok.example.test", "sign",
                 "[\"sign-ok.example.test\",\"*.example.test\",\"127.0.0.1\",\"::1\","
                 "\"me@example.test\",\"spiffe://example.test/svc\"]") +
          "\r\n\r\n{\"csr\":" + JsonString(all_sans_pem) + ",\"ott\":\"@OTT@\"}");
  Put("fuzz_http", "signed-revoke.req",
      "POST /1.0/revoke HTTP/1.1\r\nX-Fuzz-Claims: " +
          claims("164704587795228910488264403392029268546", "revoke", "[]") +
          "\r\n\r\n{\"serial\":\"164704587795228910488264403392029268546\",\"ott\":\"@OTT@\","
          "\"reasonCode\":4,\"reason\":\"superseded\",\"passive\":true}");
  const std::string renew_der = PemToDer(fuzz::ReadFileOrDie(fuzz::FixturesDir() + "/certs/renew-mtls.crt"));
  Put("fuzz_http", "mtls-renew.req",
      "POST /1.0/renew HTTP/1.1\r\nX-Fuzz-Peer-Cert: " + Base64Encode(renew_der) + "\r\n\r\n");
  Put("fuzz_http", "mtls-rekey.req",
      "POST /1.0/rekey HTTP/1.1\r\nX-Fuzz-Peer-Cert: " + Base64Encode(renew_der) +
          "\r\n\r\n{\"csr\":" + JsonString(csr_ok) + "}");
  Put("fuzz_http", "token-renew.req",
      "POST /1.0/renew HTTP/1.1\r\nAuthorization: Bearer @OTT@\r\nX-Fuzz-Claims: " +
          claims("sign-ok.example.test", "renew", "[]") + "\r\n\r\n");
  Put("fuzz_http", "provisioners-query.req", "GET /provisioners?limit=1&cursor=%31 HTTP/1.1\r\n\r\n");

  // The documents and claims of the foreign-token provisioners.
  Put("fuzz_oidc_discovery", "discovery-and-jwks",
      std::string(R"({"issuer":"https://issuer.test","jwks_uri":"https://issuer.test/jwks"})") +
          std::string(1, '\0') + "{\"keys\":[" + JwkText(p256.get(), false) + "," +
          JwkText(rsa.get(), false) + R"(,{"kty":"oct","k":"AAAA"}]})");
  Put("fuzz_oidc_discovery", "cache-control", "public, max-age=19702, must-revalidate");
  Put("fuzz_identity_claims", "oidc.json",
      R"({"iss":"https://issuer.test","sub":"1","aud":"c","email":"A@Example.COM","azp":"c",)"
      R"("nonce":"n","groups":["ops","dev"],"exp":1,"iat":1})");
  Put("fuzz_identity_claims", "k8s-legacy.json",
      R"({"iss":"kubernetes/serviceaccount","kubernetes.io/serviceaccount/namespace":"prod",)"
      R"("kubernetes.io/serviceaccount/service-account.name":"web","sub":"system:serviceaccount:prod:web"})");
  Put("fuzz_identity_claims", "k8s-bound.json",
      R"({"iss":"https://k8s","aud":["x"],"kubernetes.io":{"namespace":"prod",)"
      R"("serviceaccount":{"name":"web","uid":"u"}},"sub":"system:serviceaccount:prod:web"})");
  Put("fuzz_identity_claims", "gcp.json",
      R"({"google":{"compute_engine":{"instance_id":"1","instance_name":"vm","project_id":"p",)"
      R"("zone":"z","instance_creation_timestamp":1700000000}}})");
  Put("fuzz_identity_claims", "azure.json",
      R"({"tid":"t","xms_mirid":"/subscriptions/s/resourcegroups/g/providers/Microsoft.Compute/virtualMachines/vm"})");
  Put("fuzz_aws_iid", "document.json",
      R"({"accountId":"123456789012","instanceId":"i-0abc","privateIp":"10.0.1.2","region":"us-east-1",)"
      R"("pendingTime":"2026-01-01T00:00:00Z","version":"2017-09-30"})");

  std::printf("fuzz_seedgen: %d seed files in %s\n", g_count, g_out.c_str());
  return 0;
}
