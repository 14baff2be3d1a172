#include "authority/x509/chain.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <openssl/x509_vfy.h>

#include <ctime>

#include "shared/base64.h"

namespace stepca {
namespace {

constexpr size_t kMaxChain = 10;

struct StackFree {
  void operator()(STACK_OF(X509)* s) const { sk_X509_free(s); }
};
using X509StackPtr = std::unique_ptr<STACK_OF(X509), StackFree>;

TimePoint Asn1ToTimePoint(const ASN1_TIME* t) {
  struct tm tm = {};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return TimePoint();
  return TimePoint(std::chrono::seconds(timegm(&tm)));
}

}  // namespace

TimePoint CertNotBefore(X509* cert) { return Asn1ToTimePoint(X509_get0_notBefore(cert)); }
TimePoint CertNotAfter(X509* cert) { return Asn1ToTimePoint(X509_get0_notAfter(cert)); }

std::string CommonName(X509* cert) {
  X509_NAME* name = X509_get_subject_name(cert);
  int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (i < 0) return "";
  ASN1_STRING* s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
  unsigned char* utf8 = nullptr;
  int n = ASN1_STRING_to_UTF8(&utf8, s);
  if (n < 0) return "";
  std::string out(reinterpret_cast<char*>(utf8), static_cast<size_t>(n));
  OPENSSL_free(utf8);
  return out;
}

SanSet CertificateSans(X509* cert) {
  SanSet out;
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (names == nullptr) return out;
  auto ia5 = [](const ASN1_STRING* s) {
    return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                       static_cast<size_t>(ASN1_STRING_length(s)));
  };
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names, i);
    if (gn->type == GEN_DNS) out.dns.push_back(ia5(gn->d.dNSName));
    else if (gn->type == GEN_EMAIL) out.emails.push_back(ia5(gn->d.rfc822Name));
    else if (gn->type == GEN_URI) out.uris.push_back(ia5(gn->d.uniformResourceIdentifier));
    else if (gn->type == GEN_IPADD) {
      const int len = ASN1_STRING_length(gn->d.iPAddress);
      char buf[INET6_ADDRSTRLEN] = {};
      if ((len == 4 || len == 16) &&
          inet_ntop(len == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(gn->d.iPAddress), buf, sizeof buf))
        out.ips.push_back(buf);
    }
  }
  GENERAL_NAMES_free(names);
  return out;
}

Result<X509Ptr> ParseCertificateDer(std::string_view der) {
  if (der.empty() || der.size() > 64 * 1024) return InvalidArgument("certificate of a wrong size");
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!cert) return InvalidArgument("certificate is not valid DER: " + OpensslError());
  if (p != reinterpret_cast<const unsigned char*>(der.data()) + der.size())
    return InvalidArgument("trailing data after the certificate");
  return cert;
}

Result<std::vector<X509Ptr>> ParseX5cHeader(const json_t* header, const char* name) {
  const json_t* arr = json_object_get(header, name);
  if (!json_is_array(arr) || json_array_size(arr) == 0)
    return Unauthenticated(std::string("token header \"") + name + "\" is missing or empty");
  if (json_array_size(arr) > kMaxChain)
    return Unauthenticated(std::string("token header \"") + name + "\" has too many certificates");
  std::vector<X509Ptr> out;
  size_t i;
  const json_t* e;
  json_array_foreach(arr, i, e) {
    if (!json_is_string(e))
      return Unauthenticated(std::string("token header \"") + name + "\" holds a non-string");
    auto der = Base64Decode(std::string_view(json_string_value(e), json_string_length(e)));
    if (!der) return Unauthenticated(std::string("token header \"") + name + "\" is not base64");
    auto cert = ParseCertificateDer(*der);
    if (!cert.ok())
      return Unauthenticated(std::string("token header \"") + name + "\": " + cert.status().message());
    out.push_back(std::move(cert).value());
  }
  return out;
}

Status VerifyClientChain(X509* leaf, const std::vector<X509Ptr>& extra, const ChainCheck& check) {
  if (leaf == nullptr) return Unauthenticated("no certificate");
  X509StorePtr store(X509_STORE_new());
  X509StackPtr untrusted(sk_X509_new_null());
  X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (!store || !untrusted || !ctx) return Internal("out of memory");
  size_t anchors = 0;
  for (auto* list : {check.roots, check.more_roots}) {
    if (list == nullptr) continue;
    for (auto& r : *list) {
      X509_STORE_add_cert(store.get(), r.get());
      ++anchors;
    }
  }
  if (anchors == 0) return Unauthenticated("no trusted roots");
  for (auto& c : extra) sk_X509_push(untrusted.get(), c.get());
  if (check.intermediates != nullptr)
    for (auto& c : *check.intermediates) sk_X509_push(untrusted.get(), c.get());
  if (X509_STORE_CTX_init(ctx.get(), store.get(), leaf, untrusted.get()) != 1)
    return Internal("cannot initialise chain verification: " + OpensslError());
  // clientAuth: checks the leaf's extKeyUsage (when present) and keyUsage.
  X509_STORE_CTX_set_purpose(ctx.get(), X509_PURPOSE_SSL_CLIENT);
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(check.at.time_since_epoch());
  X509_VERIFY_PARAM_set_time(param, static_cast<time_t>(secs.count()));
  if (X509_verify_cert(ctx.get()) != 1) {
    const int err = X509_STORE_CTX_get_error(ctx.get());
    ERR_clear_error();
    return Unauthenticated(std::string("certificate chain does not verify: ") +
                           X509_verify_cert_error_string(err));
  }
  // Go: x509.ExtKeyUsageClientAuth must be listed when an EKU is present;
  // OpenSSL's purpose check also accepts anyExtendedKeyUsage, as Go does.
  if (check.require_digital_signature) {
    const uint32_t ku = X509_get_key_usage(leaf);
    if (ku == UINT32_MAX || (ku & KU_DIGITAL_SIGNATURE) == 0)
      return Unauthenticated("certificate has no digitalSignature key usage");
  }
  if (X509_check_ca(leaf) != 0) return Unauthenticated("certificate is a CA certificate");
  return Status::Ok();
}

}  // namespace stepca
