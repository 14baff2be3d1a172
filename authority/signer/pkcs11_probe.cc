#include "authority/signer/pkcs11_probe.h"

#include <openssl/x509.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace stepca {
namespace {

void WriteAll(int fd, const std::string& s) {
  size_t off = 0;
  while (off < s.size()) {
    ssize_t n = write(fd, s.data() + off, s.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    off += static_cast<size_t>(n);
  }
}

// In the child: 'K' + SubjectPublicKeyInfo DER, or 'E' + code + message.
std::string ChildAnswer(const Pkcs11Uri& uri, const std::string& pin, const Pkcs11KeyRef& key) {
  auto fail = [](const Status& st) {
    return std::string("E") + static_cast<char>('0' + static_cast<int>(st.code())) + st.message();
  };
  auto token = OpenPkcs11Token(uri, pin);
  if (!token.ok()) return fail(token.status());
  Status found = (*token)->FindPrivateKey(key);
  if (!found.ok()) return fail(found);
  auto pub = (*token)->ReadPublicKey(key);
  if (!pub.ok()) return fail(pub.status());
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(pub->get(), &der);
  if (len <= 0) return fail(Internal("pkcs11: cannot encode the public key"));
  std::string out = "K" + std::string(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

}  // namespace

Result<EvpPkeyPtr> ProbePkcs11Key(const Pkcs11Uri& uri, const std::string& pin,
                                  const Pkcs11KeyRef& key, int timeout_seconds) {
  int fds[2];
  if (pipe(fds) != 0) return Internal(std::string("pkcs11: pipe: ") + std::strerror(errno));
  pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return Internal(std::string("pkcs11: fork: ") + std::strerror(errno));
  }
  if (pid == 0) {
    close(fds[0]);
    WriteAll(fds[1], ChildAnswer(uri, pin, key));
    close(fds[1]);
    _exit(0);
  }
  close(fds[1]);
  std::string answer;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_seconds);
  bool timed_out = false;
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now()).count();
    if (left <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    int r = poll(&p, 1, static_cast<int>(left));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      timed_out = r == 0;
      break;
    }
    char buf[4096];
    ssize_t n = read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    answer.append(buf, static_cast<size_t>(n));
  }
  close(fds[0]);
  if (timed_out) kill(pid, SIGKILL);
  int wstatus = 0;
  while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
  }
  if (timed_out)
    return Unavailable("pkcs11: the token did not answer within " +
                       std::to_string(timeout_seconds) + "s");
  if (answer.empty())
    return Internal("pkcs11: the module " + uri.module_path + " ended the probe process" +
                    (WIFSIGNALED(wstatus) ? " (signal " + std::to_string(WTERMSIG(wstatus)) + ")"
                                          : std::string()));
  if (answer[0] == 'E' && answer.size() >= 2) {
    int code = answer[1] - '0';
    if (code <= 0 || code > static_cast<int>(Code::kInternal)) code = static_cast<int>(Code::kInternal);
    return Status(static_cast<Code>(code), answer.substr(2));
  }
  const unsigned char* p = reinterpret_cast<const unsigned char*>(answer.data()) + 1;
  EvpPkeyPtr pub(d2i_PUBKEY(nullptr, &p, static_cast<long>(answer.size() - 1)));
  if (!pub) return Internal("pkcs11: the probe returned no public key");
  return pub;
}

}  // namespace stepca
