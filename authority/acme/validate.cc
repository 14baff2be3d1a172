#include "authority/acme/validate.h"

#include "authority/ossl.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>

#include "shared/base64.h"

namespace stepca {
namespace acme {
namespace {

constexpr size_t kMaxHttpBody = 8192;
constexpr long kMaxRedirects = 10;

Problem Fail(const char* type, std::string detail) {
  Problem p;
  p.type = type;
  p.status = 400;
  p.detail = std::move(detail);
  return p;
}

std::string TrimRight(std::string s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\n' || s.back() == '\r' || s.back() == '\t'))
    s.pop_back();
  return s;
}

std::string HostForUrl(const Identifier& id) {
  if (id.type == "ip" && id.value.find(':') != std::string::npos) return "[" + id.value + "]";
  return id.value;
}

struct HttpBody {
  std::string data;
  bool overflow = false;
};

size_t WriteBody(char* p, size_t size, size_t n, void* user) {
  auto* b = static_cast<HttpBody*>(user);
  if (b->data.size() + size * n > kMaxHttpBody) {
    b->overflow = true;
    return 0;
  }
  b->data.append(p, size * n);
  return size * n;
}

int Progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  const auto* stop = static_cast<const std::atomic<bool>*>(user);
  return stop != nullptr && stop->load() ? 1 : 0;
}

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};

// "ip", "ip:port", "[v6]:port" -> sockaddr; default port 53.
bool ParseResolver(const std::string& text, sockaddr_storage* ss, socklen_t* len) {
  std::string host = text;
  int port = 53;
  if (!text.empty() && text[0] == '[') {
    size_t e = text.find(']');
    if (e == std::string::npos) return false;
    host = text.substr(1, e - 1);
    if (e + 1 < text.size()) {
      if (text[e + 1] != ':') return false;
      port = std::atoi(text.c_str() + e + 2);
    }
  } else if (std::count(text.begin(), text.end(), ':') == 1) {
    size_t c = text.find(':');
    host = text.substr(0, c);
    port = std::atoi(text.c_str() + c + 1);
  }
  if (port <= 0 || port > 65535) return false;
  std::memset(ss, 0, sizeof *ss);
  auto* v4 = reinterpret_cast<sockaddr_in*>(ss);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(ss);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(port));
    *len = sizeof *v4;
    return true;
  }
  if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(port));
    *len = sizeof *v6;
    return true;
  }
  return false;
}

std::string SystemResolver() {
  std::ifstream in("/etc/resolv.conf");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string k, v;
    if (ls >> k >> v && k == "nameserver") return v;
  }
  return "127.0.0.1";
}

// Skips a (possibly compressed) name at off; false when malformed.
bool SkipName(const unsigned char* m, size_t n, size_t* off) {
  for (int guard = 0; guard < 128; ++guard) {
    if (*off >= n) return false;
    unsigned char l = m[*off];
    if ((l & 0xC0) == 0xC0) {
      *off += 2;
      return *off <= n;
    }
    if (l == 0) {
      *off += 1;
      return true;
    }
    *off += 1 + l;
  }
  return false;
}

// One TXT query over UDP; the TXT strings of the answer section.
Result<std::vector<std::string>> QueryTxt(const std::string& name, const std::string& resolver,
                                          std::chrono::milliseconds timeout) {
  sockaddr_storage ss;
  socklen_t slen = 0;
  if (!ParseResolver(resolver, &ss, &slen)) return InvalidArgument("bad resolver address " + resolver);
  unsigned char idb[2];
  RAND_bytes(idb, 2);
  std::string q;
  q.push_back(static_cast<char>(idb[0]));
  q.push_back(static_cast<char>(idb[1]));
  q += std::string("\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00", 10);
  size_t start = 0;
  while (start <= name.size()) {
    size_t dot = name.find('.', start);
    if (dot == std::string::npos) dot = name.size();
    size_t l = dot - start;
    if (l == 0 || l > 63) break;
    q.push_back(static_cast<char>(l));
    q += name.substr(start, l);
    start = dot + 1;
  }
  q += std::string("\x00\x00\x10\x00\x01", 5);

  int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Unavailable("dns: socket failed");
  std::unique_ptr<int, void (*)(int*)> guard(&fd, [](int* f) { close(*f); });
  if (connect(fd, reinterpret_cast<sockaddr*>(&ss), slen) != 0 ||
      send(fd, q.data(), q.size(), 0) != static_cast<ssize_t>(q.size()))
    return Unavailable("dns: cannot reach the resolver");
  unsigned char m[4096];
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) return Unavailable("dns: query timed out");
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left)) <= 0) continue;
    ssize_t n = recv(fd, m, sizeof m, 0);
    if (n < 12) {
      if (n < 0) return Unavailable("dns: no answer from the resolver");
      continue;
    }
    if (m[0] != idb[0] || m[1] != idb[1] || !(m[2] & 0x80)) continue;
    if (m[2] & 0x02) return Unavailable("dns: truncated answer");
    const int rcode = m[3] & 0x0F;
    std::vector<std::string> out;
    if (rcode == 3) return out;
    if (rcode != 0) return Unavailable("dns: resolver answered with rcode " + std::to_string(rcode));
    const size_t qd = (m[4] << 8) | m[5], an = (m[6] << 8) | m[7];
    size_t off = 12;
    for (size_t i = 0; i < qd; ++i) {
      if (!SkipName(m, n, &off)) return Unavailable("dns: malformed answer");
      off += 4;
    }
    for (size_t i = 0; i < an; ++i) {
      if (!SkipName(m, n, &off) || off + 10 > static_cast<size_t>(n))
        return Unavailable("dns: malformed answer");
      const int type = (m[off] << 8) | m[off + 1];
      const size_t rdlen = (m[off + 8] << 8) | m[off + 9];
      off += 10;
      if (off + rdlen > static_cast<size_t>(n)) return Unavailable("dns: malformed answer");
      if (type == 16) {
        std::string txt;
        for (size_t p2 = off; p2 < off + rdlen;) {
          size_t l = m[p2];
          if (p2 + 1 + l > off + rdlen) break;
          txt.append(reinterpret_cast<char*>(m + p2 + 1), l);
          p2 += 1 + l;
        }
        out.push_back(txt);
      }
      off += rdlen;
    }
    return out;
  }
}

int ConnectTcp(const std::string& host, int port, std::chrono::milliseconds timeout) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res) != 0) return -1;
  int fd = -1;
  timeval tv{static_cast<time_t>(timeout.count() / 1000),
             static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
  for (addrinfo* a = res; a != nullptr && fd < 0; a = a->ai_next) {
    fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
      close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(res);
  return fd;
}

std::string ReverseName(const std::string& ip) {
  unsigned char b[16];
  if (inet_pton(AF_INET, ip.c_str(), b) == 1)
    return std::to_string(b[3]) + "." + std::to_string(b[2]) + "." + std::to_string(b[1]) + "." +
           std::to_string(b[0]) + ".in-addr.arpa";
  if (inet_pton(AF_INET6, ip.c_str(), b) == 1) {
    static const char* hex = "0123456789abcdef";
    std::string out;
    for (int i = 15; i >= 0; --i) {
      out += hex[b[i] & 0xF];
      out += '.';
      out += hex[b[i] >> 4];
      out += '.';
    }
    return out + "ip6.arpa";
  }
  return ip;
}

}  // namespace

std::string Sha256B64(const std::string& text) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), md);
  return Base64UrlEncode(std::string(reinterpret_cast<char*>(md), sizeof md));
}

Problem ValidateHttp01(const ValidationTask& t, const std::atomic<bool>* stop) {
  std::unique_ptr<CURL, CurlDeleter> c(curl_easy_init());
  if (!c) return ServerInternal("curl_easy_init failed");
  const std::string url = "http://" + HostForUrl(t.identifier) + ":" +
                          std::to_string(t.config.http01_port) +
                          "/.well-known/acme-challenge/" + t.token;
  HttpBody body;
  curl_easy_setopt(c.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(c.get(), CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c.get(), CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c.get(), CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(c.get(), CURLOPT_MAXREDIRS, kMaxRedirects);
  curl_easy_setopt(c.get(), CURLOPT_TIMEOUT_MS, static_cast<long>(t.config.timeout.count()));
  curl_easy_setopt(c.get(), CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(t.config.timeout.count()));
  curl_easy_setopt(c.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c.get(), CURLOPT_SSL_VERIFYPEER, 0L);  // RFC 8555 8.3: redirects to https
  curl_easy_setopt(c.get(), CURLOPT_SSL_VERIFYHOST, 0L);
  curl_easy_setopt(c.get(), CURLOPT_USERAGENT, "nginx-stepca-acme-validator");
  curl_easy_setopt(c.get(), CURLOPT_WRITEFUNCTION, WriteBody);
  curl_easy_setopt(c.get(), CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(c.get(), CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c.get(), CURLOPT_XFERINFOFUNCTION, Progress);
  curl_easy_setopt(c.get(), CURLOPT_XFERINFODATA, const_cast<std::atomic<bool>*>(stop));
  CURLcode rc = curl_easy_perform(c.get());
  if (body.overflow) return Fail("unauthorized", "the http-01 response is too large");
  if (rc != CURLE_OK)
    return Fail("connection", std::string("http-01: ") + curl_easy_strerror(rc) + " fetching " + url);
  long code = 0;
  curl_easy_getinfo(c.get(), CURLINFO_RESPONSE_CODE, &code);
  if (code != 200)
    return Fail("unauthorized", "http-01: " + url + " answered " + std::to_string(code));
  if (TrimRight(body.data) != t.key_authorization)
    return Fail("incorrectResponse", "http-01: the key authorization at " + url + " does not match");
  return Problem::Ok();
}

Problem ValidateDns01(const ValidationTask& t) {
  const std::string name = "_acme-challenge." + t.identifier.value;
  const std::string resolver = t.config.dns_resolver.empty() ? SystemResolver() : t.config.dns_resolver;
  auto txt = QueryTxt(name, resolver, t.config.timeout);
  if (!txt.ok()) return Fail("dns", "dns-01: " + txt.status().message() + " for " + name);
  const std::string want = Sha256B64(t.key_authorization);
  for (auto& v : *txt)
    if (v == want) return Problem::Ok();
  if (txt->empty()) return Fail("unauthorized", "dns-01: no TXT record at " + name);
  return Fail("incorrectResponse", "dns-01: no TXT record at " + name + " matches the key authorization");
}

Problem ValidateTlsAlpn01(const ValidationTask& t) {
  const int port = t.config.tls_alpn01_port;
  int fd = ConnectTcp(t.identifier.value, port, t.config.timeout);
  if (fd < 0)
    return Fail("connection", "tls-alpn-01: cannot connect to " + t.identifier.value + ":" + std::to_string(port));
  std::unique_ptr<SSL_CTX, void (*)(SSL_CTX*)> ctx(SSL_CTX_new(TLS_client_method()), SSL_CTX_free);
  if (!ctx) {
    close(fd);
    return ServerInternal("SSL_CTX_new failed");
  }
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
  std::unique_ptr<SSL, void (*)(SSL*)> ssl(SSL_new(ctx.get()), SSL_free);
  static const unsigned char kAlpn[] = "\x0a" "acme-tls/1";
  SSL_set_alpn_protos(ssl.get(), kAlpn, sizeof kAlpn - 1);
  const std::string sni = t.identifier.type == "ip" ? ReverseName(t.identifier.value) : t.identifier.value;
  SSL_set_tlsext_host_name(ssl.get(), sni.c_str());
  SSL_set_fd(ssl.get(), fd);
  const int ok = SSL_connect(ssl.get());
  Problem result = Problem::Ok();
  do {
    if (ok != 1) {
      result = Fail("tls", "tls-alpn-01: handshake with " + t.identifier.value + " failed");
      break;
    }
    const unsigned char* proto = nullptr;
    unsigned int plen = 0;
    SSL_get0_alpn_selected(ssl.get(), &proto, &plen);
    if (plen != 10 || std::memcmp(proto, "acme-tls/1", 10) != 0) {
      result = Fail("tls", "tls-alpn-01: the server did not select acme-tls/1");
      break;
    }
    X509Ptr cert(SSL_get1_peer_certificate(ssl.get()));
    if (!cert) {
      result = Fail("tls", "tls-alpn-01: no certificate");
      break;
    }
    GeneralNamesPtr sans(static_cast<GENERAL_NAMES*>(
        X509_get_ext_d2i(cert.get(), NID_subject_alt_name, nullptr, nullptr)));
    bool san_ok = sans && sk_GENERAL_NAME_num(sans.get()) == 1;
    if (san_ok) {
      const GENERAL_NAME* gn = sk_GENERAL_NAME_value(sans.get(), 0);
      if (t.identifier.type == "dns") {
        san_ok = gn->type == GEN_DNS &&
                 strcasecmp(reinterpret_cast<const char*>(ASN1_STRING_get0_data(gn->d.dNSName)),
                            t.identifier.value.c_str()) == 0 &&
                 static_cast<size_t>(ASN1_STRING_length(gn->d.dNSName)) == t.identifier.value.size();
      } else {
        unsigned char b[16];
        int blen = inet_pton(AF_INET, t.identifier.value.c_str(), b) == 1 ? 4
                   : inet_pton(AF_INET6, t.identifier.value.c_str(), b) == 1 ? 16 : 0;
        san_ok = gn->type == GEN_IPADD && ASN1_STRING_length(gn->d.iPAddress) == blen &&
                 std::memcmp(ASN1_STRING_get0_data(gn->d.iPAddress), b, blen) == 0;
      }
    }
    if (!san_ok) {
      result = Fail("unauthorized", "tls-alpn-01: the certificate must hold exactly the identifier as its one SAN");
      break;
    }
    OsslPtr<ASN1_OBJECT, ASN1_OBJECT_free> oid(OBJ_txt2obj("1.3.6.1.5.5.7.1.31", 1));
    int idx = X509_get_ext_by_OBJ(cert.get(), oid.get(), -1);
    X509_EXTENSION* ext = idx >= 0 ? X509_get_ext(cert.get(), idx) : nullptr;
    if (ext == nullptr || !X509_EXTENSION_get_critical(ext)) {
      result = Fail("unauthorized", "tls-alpn-01: the certificate lacks the critical acmeIdentifier extension");
      break;
    }
    const ASN1_OCTET_STRING* data = X509_EXTENSION_get_data(ext);
    const unsigned char* p = ASN1_STRING_get0_data(data);
    Asn1OctetStringPtr inner(d2i_ASN1_OCTET_STRING(nullptr, &p, ASN1_STRING_length(data)));
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(t.key_authorization.data()),
           t.key_authorization.size(), md);
    if (!inner || p != ASN1_STRING_get0_data(data) + ASN1_STRING_length(data) ||
        ASN1_STRING_length(inner.get()) != SHA256_DIGEST_LENGTH ||
        std::memcmp(ASN1_STRING_get0_data(inner.get()), md, sizeof md) != 0) {
      result = Fail("incorrectResponse", "tls-alpn-01: the acmeIdentifier does not match the key authorization");
      break;
    }
  } while (false);
  SSL_shutdown(ssl.get());
  ssl.reset();
  close(fd);
  return result;
}

Problem ValidateOnce(const ValidationTask& t, const std::atomic<bool>* stop) {
  if (t.type == "http-01") return ValidateHttp01(t, stop);
  if (t.type == "dns-01") return ValidateDns01(t);
  if (t.type == "tls-alpn-01") return ValidateTlsAlpn01(t);
  return Fail("malformed", "unsupported challenge type");
}

ValidationPool::ValidationPool(size_t threads, size_t max_queue, Runner run)
    : threads_(threads), max_queue_(max_queue), run_(std::move(run)) {}

ValidationPool::~ValidationPool() { Stop(); }

bool ValidationPool::Submit(ValidationTask task) {
  std::lock_guard<std::mutex> lock(mu_);
  if (stop_.load() || queue_.size() >= max_queue_) return false;
  if (workers_.empty()) {
    for (size_t i = 0; i < threads_; ++i) workers_.emplace_back([this] { Loop(); });
  }
  queue_.push_back(std::move(task));
  cv_.notify_one();
  return true;
}

void ValidationPool::Stop() {
  std::vector<std::thread> workers;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_.store(true);
    workers.swap(workers_);
    cv_.notify_all();
  }
  for (auto& w : workers) w.join();
}

void ValidationPool::Loop() {
  for (;;) {
    ValidationTask task;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stop_.load() || !queue_.empty(); });
      if (stop_.load()) return;
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    run_(task, stop_);
  }
}

}  // namespace acme
}  // namespace stepca
