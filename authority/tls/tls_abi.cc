// The C ABI of the CA's own TLS certificate (shared/stepca_tls_abi.h) over
// self_tls.h. No exception crosses it.
#include "shared/stepca_tls_abi.h"

#include <openssl/crypto.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "authority/abi_handle.h"
#include "authority/metrics.h"
#include "authority/tls/self_tls.h"
#include "authority/x509/issuer.h"

namespace {

void CopyError(const std::string& msg, char* err, size_t errlen) {
  if (err == nullptr || errlen == 0) return;
  std::strncpy(err, msg.c_str(), errlen - 1);
  err[errlen - 1] = '\0';
}

long long UnixSeconds(stepca::TimePoint t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

char* Dup(const std::string& s) {
  char* p = static_cast<char*>(std::malloc(s.size() + 1));
  if (p != nullptr) std::memcpy(p, s.c_str(), s.size() + 1);
  return p;
}

// Moves c into out; the key's copy in c is wiped.
int Fill(stepca::SelfTlsCertificate& c, stepca_tls_cert_t* out, char* err, size_t errlen) {
  std::memset(out, 0, sizeof *out);
  out->chain_pem = Dup(c.chain_pem);
  out->key_pem = Dup(c.key_pem);
  stepca::Wipe(c.key_pem);
  if (out->chain_pem == nullptr || out->key_pem == nullptr) {
    stepca_tls_cert_free(out);
    CopyError("out of memory", err, errlen);
    return -1;
  }
  out->not_before = UnixSeconds(c.not_before);
  out->not_after = UnixSeconds(c.not_after);
  out->renew_at = UnixSeconds(c.renew_at);
  std::string serial = stepca::SerialDecimal(c.leaf.get());
  std::strncpy(out->serial, serial.c_str(), sizeof(out->serial) - 1);
  return 0;
}

// A key behind a PKCS#11 module (a token, a YubiKey through ykcs11): the
// nginx master never opens the module, so it cannot issue at load.
bool KeyBehindPkcs11(const stepca::CaConfig& c) {
  return c.key_scheme == stepca::KeyScheme::kPkcs11 || c.key_scheme == stepca::KeyScheme::kYubiKey;
}

}  // namespace

STEPCA_EXPORT int stepca_tls_check(stepca_authority_t* a, char* err, size_t errlen) {
  try {
    const stepca::CaConfig& c = a->authority->config();
    stepca::Status s = stepca::CheckSelfTls(
        c.path, c.dns_names_given ? c.dns_names : std::vector<std::string>(),
        a->authority->ca(), KeyBehindPkcs11(c));
    if (s.ok()) return 0;
    CopyError(s.message(), err, errlen);
  } catch (const std::exception& e) {
    CopyError(e.what(), err, errlen);
  } catch (...) {
    CopyError("unknown exception", err, errlen);
  }
  return -1;
}

STEPCA_EXPORT int stepca_tls_issue(stepca_authority_t* a, long long lifetime,
                                   stepca_tls_cert_t* out, char* err, size_t errlen) {
  try {
    const stepca::CaConfig& c = a->authority->config();
    stepca::SelfTlsRequest r;
    r.dns_names = c.dns_names;
    r.lifetime = std::chrono::seconds(lifetime);
    r.backdate = c.backdate;
    r.now = stepca::Clock::now();
    auto got = stepca::IssueSelfTls(a->authority->ca(), r);
    if (!got.ok()) {
      CopyError(got.status().message(), err, errlen);
      return -1;
    }
    return Fill(got.value(), out, err, errlen);
  } catch (const std::exception& e) {
    CopyError(e.what(), err, errlen);
  } catch (...) {
    CopyError("unknown exception", err, errlen);
  }
  return -1;
}

STEPCA_EXPORT int stepca_tls_placeholder(stepca_tls_cert_t* out, char* err, size_t errlen) {
  try {
    auto got = stepca::PlaceholderTlsCertificate(stepca::Clock::now());
    if (!got.ok()) {
      CopyError(got.status().message(), err, errlen);
      return -1;
    }
    return Fill(got.value(), out, err, errlen);
  } catch (const std::exception& e) {
    CopyError(e.what(), err, errlen);
  } catch (...) {
    CopyError("unknown exception", err, errlen);
  }
  return -1;
}

STEPCA_EXPORT void stepca_tls_cert_free(stepca_tls_cert_t* c) {
  if (c == nullptr) return;
  if (c->key_pem != nullptr) OPENSSL_cleanse(c->key_pem, std::strlen(c->key_pem));
  std::free(c->key_pem);
  std::free(c->chain_pem);
  c->key_pem = nullptr;
  c->chain_pem = nullptr;
}

STEPCA_EXPORT void stepca_tls_installed(stepca_authority_t* a, unsigned slot,
                                        long long not_after) {
  try {
    a->authority->metrics().TlsCertificateInstalled(slot, not_after);
  } catch (...) {
    // only the gauge is lost (out of memory)
  }
}
