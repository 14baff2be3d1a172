// The online paths of the CLI (GET /provisioners, the encrypted key,
// POST /1.0/sign) against a small HTTPS server in the test process that
// serves with the listener certificate `stepca init` wrote.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <sstream>
#include <thread>

#include "authority/jose/jwk.h"
#include "authority/jose/jws.h"
#include "authority/signer/file_signer.h"
#include "authority/x509/csr.h"
#include "cli/commands.h"
#include "cli/crypto.h"
#include "cli/files.h"
#include "cli/go_json.h"
#include "cli/init.h"
#include "cli/token.h"
#include "cli/testing_util.h"

namespace stepca {
namespace cli {
namespace {

using testing::FileMode;
using testing::FixtureFile;
using testing::FixturePath;
using testing::ScratchDir;

struct Request {
  std::string method, target, body;
};
struct Reply {
  int status = 200;
  std::string body;
};
using Handler = std::function<Reply(const Request&)>;

// One connection at a time, HTTP/1.1 with Connection: close.
class TestHttpsServer {
 public:
  TestHttpsServer(const std::string& cert_chain, const std::string& key, Handler handler)
      : handler_(std::move(handler)) {
    ctx_ = SSL_CTX_new(TLS_server_method());
    SSL_CTX_use_certificate_chain_file(ctx_, cert_chain.c_str());
    SSL_CTX_use_PrivateKey_file(ctx_, key.c_str(), SSL_FILETYPE_PEM);
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    listen(fd_, 8);
    socklen_t len = sizeof addr;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Loop(); });
  }
  ~TestHttpsServer() {
    stop_ = true;
    shutdown(fd_, SHUT_RDWR);
    thread_.join();
    close(fd_);
    SSL_CTX_free(ctx_);
  }
  int port() const { return port_; }
  std::vector<Request> requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

 private:
  void Loop() {
    while (!stop_) {
      int c = accept(fd_, nullptr, nullptr);
      if (c < 0) break;
      SSL* ssl = SSL_new(ctx_);
      SSL_set_fd(ssl, c);
      if (SSL_accept(ssl) == 1) Serve(ssl);
      SSL_shutdown(ssl);
      SSL_free(ssl);
      close(c);
      ERR_clear_error();
    }
  }
  void Serve(SSL* ssl) {
    std::string in;
    char buf[4096];
    size_t header_end;
    while ((header_end = in.find("\r\n\r\n")) == std::string::npos) {
      int n = SSL_read(ssl, buf, sizeof buf);
      if (n <= 0) return;
      in.append(buf, n);
    }
    Request req;
    std::istringstream first(in.substr(0, in.find("\r\n")));
    first >> req.method >> req.target;
    size_t length = 0;
    std::string headers = in.substr(0, header_end);
    size_t cl = headers.find("Content-Length: ");
    if (cl != std::string::npos) length = std::stoul(headers.substr(cl + 16));
    req.body = in.substr(header_end + 4);
    while (req.body.size() < length) {
      int n = SSL_read(ssl, buf, sizeof buf);
      if (n <= 0) return;
      req.body.append(buf, n);
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      requests_.push_back(req);
    }
    Reply reply = handler_(req);
    std::string out = "HTTP/1.1 " + std::to_string(reply.status) + " X\r\n" +
                      "Content-Type: application/json\r\nConnection: close\r\n" +
                      "Content-Length: " + std::to_string(reply.body.size()) + "\r\n\r\n" +
                      reply.body;
    SSL_write(ssl, out.data(), static_cast<int>(out.size()));
  }

  Handler handler_;
  SSL_CTX* ctx_ = nullptr;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mu_;
  std::vector<Request> requests_;
};

JsonPtr ParseJson(const std::string& text) {
  json_error_t err;
  return JsonPtr(json_loadb(text.data(), text.size(), 0, &err));
}

std::string Str(const json_t* obj, const char* key) {
  const char* s = json_string_value(json_object_get(obj, key));
  return s ? s : "";
}

int RunStepca(std::vector<std::string> args, std::string* out_text, std::string* err_text) {
  args.insert(args.begin(), "stepca");
  std::vector<const char*> argv;
  for (auto& a : args) argv.push_back(a.c_str());
  std::ostringstream out, err;
  int rc = RunCli(static_cast<int>(argv.size()), argv.data(), out, err);
  if (out_text) *out_text = out.str();
  if (err_text) *err_text = err.str();
  return rc;
}

// A PKI from init and a fake CA answering with its listener certificate.
class CliOnline : public ::testing::Test {
 protected:
  void SetUp() override {
    InitOptions o;
    o.name = "Online CA";
    o.dns = {"localhost", "127.0.0.1"};
    o.address = ":9443";
    o.provisioner = "jwk@online.test";
    o.password = "ca";
    o.provisioner_password = "prov-pass";
    o.steppath = dir_.File("step");
    o.p2c = 1000;
    o.acme = true;
    o.tls_files = true;  // the fake CA's listener certificate
    auto r = InitPki(o);
    ASSERT_TRUE(r.ok()) << r.status().message();
    pki_ = r.value();
    ASSERT_TRUE(WriteFile(dir_.File("ppw"), "prov-pass\n", 0600).ok());
    ca_json_ = ParseJson(ReadFile(pki_.ca_config).value());
    const json_t* jwk = json_array_get(
        json_object_get(json_object_get(ca_json_.get(), "authority"), "provisioners"), 0);
    kid_ = Str(json_object_get(jwk, "key"), "kid");
    auto pub = ParseJwk(json_object_get(jwk, "key"));
    ASSERT_TRUE(pub.ok());
    provisioner_key_ = std::move(pub->key);
    auto ikey = LoadPrivateKeyPem(ReadFile(pki_.intermediate_key).value(), "ca");
    ASSERT_TRUE(ikey.ok());
    intermediate_key_ = std::move(ikey).value();
    intermediate_ = std::move(ParseCertificatesPem(ReadFile(pki_.intermediate_cert).value()).value()[0]);
    server_ = std::make_unique<TestHttpsServer>(
        pki_.tls_cert, pki_.tls_key, [this](const Request& r) { return Handle(r); });
    ca_url_ = "https://localhost:" + std::to_string(server_->port());
  }

  Reply Handle(const Request& r) {
    if (r.method == "GET" && r.target == "/provisioners?limit=100") {
      // Listing without encryptedKey, so the client must ask for it.
      JsonPtr provs(json_deep_copy(
          json_object_get(json_object_get(ca_json_.get(), "authority"), "provisioners")));
      json_object_del(json_array_get(provs.get(), 0), "encryptedKey");
      JsonPtr body(json_object());
      json_object_set_new(body.get(), "provisioners", provs.release());
      json_object_set_new(body.get(), "nextCursor", json_string(""));
      return {200, GoJson(body.get())};
    }
    if (r.method == "GET" && r.target == "/provisioners/" + kid_ + "/encrypted-key") {
      const json_t* jwk = json_array_get(
          json_object_get(json_object_get(ca_json_.get(), "authority"), "provisioners"), 0);
      return {200, "{\"key\":\"" + Str(jwk, "encryptedKey") + "\"}"};
    }
    if (r.method == "POST" && r.target == "/1.0/sign") {
      if (fail_sign_) {
        return {401, "{\"status\":401,\"message\":\"The request lacked necessary authorization "
                     "to be completed. Please see the certificate authority logs for more info.\"}"};
      }
      JsonPtr body = ParseJson(r.body);
      auto jws = ParseCompactJws(Str(body.get(), "ott"));
      if (!jws.ok() || !VerifyJws(jws.value(), provisioner_key_.get()).ok()) {
        return {401, "{\"status\":401,\"message\":\"bad token\"}"};
      }
      auto csr = ParseCsrPem(Str(body.get(), "csr"));
      if (!csr.ok()) return {400, "{\"status\":400,\"message\":\"invalid csr\"}"};
      ServerCertificateRequest req;
      req.common_name = csr->common_name;
      req.names = csr->sans.dns;
      req.key = X509_REQ_get0_pubkey(csr->req.get());
      req.issuer = intermediate_.get();
      req.issuer_key = intermediate_key_.get();
      req.not_before = Clock::now();
      req.not_after = Clock::now() + std::chrono::hours(24);
      auto leaf = MakeServerCertificate(req);
      if (!leaf.ok()) return {500, "{}"};
      std::string leaf_pem = CertificateToPemText(leaf->get());
      std::string int_pem = CertificateToPemText(intermediate_.get());
      JsonPtr resp(json_object());
      json_object_set_new(resp.get(), "crt", json_string(leaf_pem.c_str()));
      json_object_set_new(resp.get(), "ca", json_string(int_pem.c_str()));
      JsonPtr chain(json_array());
      json_array_append_new(chain.get(), json_string(leaf_pem.c_str()));
      json_array_append_new(chain.get(), json_string(int_pem.c_str()));
      json_object_set_new(resp.get(), "certChain", chain.release());
      return {201, GoJson(resp.get())};
    }
    return {404, "404 page not found\n"};
  }

  std::vector<std::string> ClientFlags() const {
    return {"--ca-url", ca_url_, "--root", pki_.root_cert,
            "--provisioner", "jwk@online.test",
            "--provisioner-password-file", dir_.File("ppw")};
  }

  ScratchDir dir_;
  InitResult pki_;
  JsonPtr ca_json_;
  std::string kid_;
  EvpPkeyPtr provisioner_key_;
  EvpPkeyPtr intermediate_key_;
  X509Ptr intermediate_;
  std::unique_ptr<TestHttpsServer> server_;
  std::string ca_url_;
  std::atomic<bool> fail_sign_{false};
};

TEST_F(CliOnline, TokenFetchesTheEncryptedKeyFromTheCa) {
  std::vector<std::string> args = {"token", "svc.online.test"};
  for (auto& f : ClientFlags()) args.push_back(f);
  std::string out, err;
  ASSERT_EQ(RunStepca(args, &out, &err), 0) << err;
  auto reqs = server_->requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].target, "/provisioners?limit=100");
  EXPECT_EQ(reqs[1].target, "/provisioners/" + kid_ + "/encrypted-key");
  out.pop_back();
  auto jws = ParseCompactJws(out);
  ASSERT_TRUE(jws.ok());
  EXPECT_TRUE(VerifyJws(jws.value(), provisioner_key_.get()).ok());
  EXPECT_EQ(Str(jws->header.get(), "kid"), kid_);
  EXPECT_EQ(Str(jws->payload.get(), "aud"), ca_url_ + "/1.0/sign");
  EXPECT_EQ(Str(jws->payload.get(), "sha"), pki_.fingerprint);
}

TEST_F(CliOnline, TheRootIsPinned) {
  TokenFlowOptions o;
  o.subject = "x";
  o.password = "prov-pass";
  o.ca_url = ca_url_;
  o.root = FixturePath("pki/certs/root_ca.crt");  // another CA's root
  auto token = GenerateToken(o);
  ASSERT_FALSE(token.ok());
  EXPECT_EQ(token.status().code(), Code::kUnavailable) << token.status().message();
  EXPECT_TRUE(server_->requests().empty());
}

TEST_F(CliOnline, CertificateWritesChainAndKey) {
  std::vector<std::string> args = {"certificate", "svc.online.test", dir_.File("svc.crt"),
                                   dir_.File("svc.key"), "--san", "svc.online.test",
                                   "--san", "www.online.test", "--not-after", "1h"};
  for (auto& f : ClientFlags()) args.push_back(f);
  std::string out, err;
  ASSERT_EQ(RunStepca(args, &out, &err), 0) << err;
  EXPECT_EQ(out, "");
  auto reqs = server_->requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[2].method, "POST");
  JsonPtr body = ParseJson(reqs[2].body);
  EXPECT_EQ(Str(body.get(), "notAfter"), "1h");
  auto csr = ParseCsrPem(Str(body.get(), "csr"));
  ASSERT_TRUE(csr.ok());
  EXPECT_EQ(csr->common_name, "svc.online.test");
  auto jws = ParseCompactJws(Str(body.get(), "ott"));
  ASSERT_TRUE(jws.ok());
  std::vector<std::string> sans;
  size_t i;
  json_t* s;
  json_array_foreach(json_object_get(jws->payload.get(), "sans"), i, s) {
    sans.push_back(json_string_value(s));
  }
  EXPECT_TRUE(CheckCsrAgainstToken(csr.value(), "svc.online.test", sans).ok());

  auto chain = ParseCertificatesPem(ReadFile(dir_.File("svc.crt")).value());
  ASSERT_TRUE(chain.ok());
  ASSERT_EQ(chain->size(), 2u);
  EXPECT_EQ(X509_cmp(chain.value()[1].get(), intermediate_.get()), 0);
  EXPECT_EQ(FileMode(dir_.File("svc.key")), 0600);
  auto key = LoadPrivateKeyPem(ReadFile(dir_.File("svc.key")).value(), "");
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(EVP_PKEY_eq(key->get(), X509_get0_pubkey(chain.value()[0].get())), 1);

  // Existing files are kept unless --force.
  EXPECT_EQ(RunStepca(args, &out, &err), 1);
  EXPECT_NE(err.find("already exists"), std::string::npos);
}

TEST_F(CliOnline, SignUsesTheNamesOfTheCsr) {
  auto key = GenerateKey("EC", "P-256");
  auto req = MakeCsr(key->get(), "csr.online.test", {"csr.online.test", "127.0.0.1"});
  ASSERT_TRUE(WriteFile(dir_.File("in.csr"), CsrToPem(req->get()), 0644).ok());
  std::vector<std::string> args = {"sign", dir_.File("in.csr"), dir_.File("out.crt")};
  for (auto& f : ClientFlags()) args.push_back(f);
  std::string out, err;
  ASSERT_EQ(RunStepca(args, &out, &err), 0) << err;
  auto reqs = server_->requests();
  ASSERT_EQ(reqs.size(), 3u);
  JsonPtr body = ParseJson(reqs[2].body);
  auto jws = ParseCompactJws(Str(body.get(), "ott"));
  ASSERT_TRUE(jws.ok());
  EXPECT_EQ(Str(jws->payload.get(), "sub"), "csr.online.test");
  const json_t* sans = json_object_get(jws->payload.get(), "sans");
  ASSERT_EQ(json_array_size(sans), 2u);
  EXPECT_STREQ(json_string_value(json_array_get(sans, 0)), "csr.online.test");
  EXPECT_STREQ(json_string_value(json_array_get(sans, 1)), "127.0.0.1");
  EXPECT_EQ(ParseCertificatesPem(ReadFile(dir_.File("out.crt")).value())->size(), 2u);
}

TEST_F(CliOnline, CaErrorsArePrintedWithExitCode1) {
  fail_sign_ = true;
  std::vector<std::string> args = {"certificate", "svc.online.test", dir_.File("e.crt"),
                                   dir_.File("e.key")};
  for (auto& f : ClientFlags()) args.push_back(f);
  std::string out, err;
  EXPECT_EQ(RunStepca(args, &out, &err), 1);
  EXPECT_NE(err.find("The request lacked necessary authorization"), std::string::npos) << err;
  EXPECT_NE(err.find("401"), std::string::npos) << err;
  EXPECT_EQ(FileMode(dir_.File("e.crt")), -1);
  EXPECT_EQ(FileMode(dir_.File("e.key")), -1);
}

TEST_F(CliOnline, CertificateWithAGivenToken) {
  std::vector<std::string> targs = {"token", "tok.online.test", "--san", "tok.online.test"};
  for (auto& f : ClientFlags()) targs.push_back(f);
  std::string token, err;
  ASSERT_EQ(RunStepca(targs, &token, &err), 0) << err;
  token.pop_back();
  std::string out;
  ASSERT_EQ(RunStepca({"certificate", "tok.online.test", dir_.File("t.crt"), dir_.File("t.key"),
                 "--token", token, "--ca-url", ca_url_, "--root", pki_.root_cert},
                &out, &err),
            0)
      << err;
  auto reqs = server_->requests();
  ASSERT_EQ(reqs.size(), 3u) << "token (2 requests) + sign only";
  JsonPtr body = ParseJson(reqs[2].body);
  EXPECT_EQ(Str(body.get(), "ott"), token);
}

}  // namespace
}  // namespace cli
}  // namespace stepca
