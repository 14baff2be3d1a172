#include "authority/x509/csr.h"

#include <arpa/inet.h>
#include <openssl/err.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <set>

#include "authority/x509/ec_csr.h"
#include "shared/base64.h"

namespace stepca {

namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

// Printable: no NUL, no C0 controls, no DEL. UTF-8 bytes are allowed here;
// the kind-specific checks decide whether they fit.
bool IsPrintable(std::string_view s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return false;
  }
  return true;
}

bool IsAscii(std::string_view s) {
  for (unsigned char c : s) {
    if (c >= 0x80) return false;
  }
  return true;
}

// Canonical text of an IP address in 4 or 16 bytes; IPv4-mapped IPv6
// addresses are written as IPv4 (as Go's net.IP does).
std::string IpToText(const unsigned char* p, size_t len) {
  char buf[INET6_ADDRSTRLEN] = {0};
  if (len == 4) {
    inet_ntop(AF_INET, p, buf, sizeof buf);
    return buf;
  }
  static const unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (len == 16 && std::memcmp(p, kMapped, 12) == 0) {
    inet_ntop(AF_INET, p + 12, buf, sizeof buf);
    return buf;
  }
  if (len == 16) {
    inet_ntop(AF_INET6, p, buf, sizeof buf);
    return buf;
  }
  return "";
}

// Parses an IP as Go's net.ParseIP would (no zones, no leading zeros in
// IPv4 octets); returns the canonical text or "".
std::string CanonicalIp(const std::string& s) {
  unsigned char buf[16];
  if (inet_pton(AF_INET, s.c_str(), buf) == 1) return IpToText(buf, 4);
  if (inet_pton(AF_INET6, s.c_str(), buf) == 1) return IpToText(buf, 16);
  return "";
}

// A URL scheme as Go's url.Parse finds it: a letter, then letters, digits,
// '+', '-' or '.', ended by ':'.
bool HasUrlScheme(std::string_view s) {
  size_t colon = s.find(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  if (!std::isalpha(static_cast<unsigned char>(s[0]))) return false;
  for (size_t i = 1; i < colon; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (!(std::isalnum(c) || c == '+' || c == '-' || c == '.')) return false;
  }
  return true;
}

bool IsValidUriImpl(std::string_view s) {
  if (s.empty() || s.size() > 2048 || !IsAscii(s) || !IsPrintable(s)) return false;
  if (s.find(' ') != std::string_view::npos) return false;
  return HasUrlScheme(s);
}

bool IsValidEmailImpl(std::string_view s) {
  if (s.empty() || s.size() > kMaxNameLength + 64 + 1 || !IsPrintable(s)) return false;
  size_t at = s.rfind('@');
  if (at == std::string_view::npos || at == 0 || at + 1 == s.size()) return false;
  std::string_view local = s.substr(0, at);
  if (local.size() > 64 || !IsAscii(local) || local.find(' ') != std::string_view::npos ||
      local.find('@') != std::string_view::npos) {
    return false;
  }
  return IsValidDnsName(s.substr(at + 1));
}

std::string Asn1ToUtf8(const ASN1_STRING* s, bool* ok) {
  unsigned char* out = nullptr;
  int len = ASN1_STRING_to_UTF8(&out, s);
  if (len < 0) {
    *ok = false;
    return "";
  }
  std::string r(reinterpret_cast<char*>(out), static_cast<size_t>(len));
  OPENSSL_free(out);
  *ok = true;
  return r;
}

std::string Ia5(const ASN1_IA5STRING* s) {
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                     static_cast<size_t>(ASN1_STRING_length(s)));
}

// Go's fmt of a []string: "[a b c]".
std::string GoList(const std::vector<std::string>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) s += " ";
    s += v[i];
  }
  return s + "]";
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool SameSet(const std::vector<std::string>& got, const std::vector<std::string>& want,
             bool case_insensitive) {
  std::set<std::string> a, b;
  for (const auto& g : got) a.insert(case_insensitive ? Lower(g) : g);
  for (const auto& w : want) b.insert(case_insensitive ? Lower(w) : w);
  return a == b;
}

Status ParseSans(X509_REQ* req, SanSet* sans) {
  STACK_OF(X509_EXTENSION)* exts = X509_REQ_get_extensions(req);
  if (!exts) return Status::Ok();
  struct ExtsFree {
    void operator()(STACK_OF(X509_EXTENSION)* s) const {
      sk_X509_EXTENSION_pop_free(s, X509_EXTENSION_free);
    }
  };
  std::unique_ptr<STACK_OF(X509_EXTENSION), ExtsFree> owned(exts);
  const X509_EXTENSION* san_ext = nullptr;
  for (int i = 0; i < sk_X509_EXTENSION_num(exts); ++i) {
    X509_EXTENSION* ext = sk_X509_EXTENSION_value(exts, i);
    if (OBJ_obj2nid(X509_EXTENSION_get_object(ext)) != NID_subject_alt_name) continue;
    if (san_ext) return InvalidArgument("invalid csr: duplicate subjectAltName extension");
    san_ext = ext;
  }
  if (!san_ext) return Status::Ok();
  GeneralNamesPtr names(
      static_cast<GENERAL_NAMES*>(X509V3_EXT_d2i(const_cast<X509_EXTENSION*>(san_ext))));
  if (!names) return InvalidArgument("invalid csr: malformed subjectAltName extension");
  const int n = sk_GENERAL_NAME_num(names.get());
  if (n <= 0) return InvalidArgument("invalid csr: empty subjectAltName extension");
  if (static_cast<size_t>(n) > kMaxSans) {
    return InvalidArgument("invalid csr: too many subject alternative names (" +
                           std::to_string(n) + ", at most " + std::to_string(kMaxSans) + ")");
  }
  for (int i = 0; i < n; ++i) {
    const GENERAL_NAME* gn = sk_GENERAL_NAME_value(names.get(), i);
    switch (gn->type) {
      case GEN_DNS: {
        std::string v = Ia5(gn->d.dNSName);
        if (!IsValidDnsName(v)) {
          return InvalidArgument("invalid csr: invalid DNS name in subjectAltName");
        }
        sans->dns.push_back(v);
        break;
      }
      case GEN_EMAIL: {
        std::string v = Ia5(gn->d.rfc822Name);
        if (!IsValidEmailImpl(v)) {
          return InvalidArgument("invalid csr: invalid email address in subjectAltName");
        }
        sans->emails.push_back(v);
        break;
      }
      case GEN_IPADD: {
        const int len = ASN1_STRING_length(gn->d.iPAddress);
        if (len != 4 && len != 16) {
          return InvalidArgument("invalid csr: invalid IP address in subjectAltName");
        }
        sans->ips.push_back(IpToText(ASN1_STRING_get0_data(gn->d.iPAddress),
                                     static_cast<size_t>(len)));
        break;
      }
      case GEN_URI: {
        std::string v = Ia5(gn->d.uniformResourceIdentifier);
        if (!IsValidUriImpl(v)) {
          return InvalidArgument("invalid csr: invalid URI in subjectAltName");
        }
        sans->uris.push_back(v);
        break;
      }
      default:
        // Other name forms are ignored, as Go's x509 does; the CA never copies
        // them into a certificate.
        break;
    }
  }
  return Status::Ok();
}

const char* VerifyFailure(EVP_PKEY* key) {
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_EC:
      return "invalid csr: x509: ECDSA verification failure";
    case EVP_PKEY_ED25519:
      return "invalid csr: x509: Ed25519 verification failure";
    case EVP_PKEY_RSA:
      return "invalid csr: crypto/rsa: verification error";
    default:
      return "invalid csr: signature verification failure";
  }
}

// Any key type, through d2i_X509_REQ (its public key through OpenSSL's
// decoders); the signature checked.
Result<X509ReqPtr> ParseAnyCsr(std::string_view der) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  ERR_clear_error();
  X509ReqPtr req(d2i_X509_REQ(nullptr, &p, static_cast<long>(der.size())));
  if (!req) {
    ERR_clear_error();
    return InvalidArgument("invalid csr: malformed certificate request");
  }
  if (p != reinterpret_cast<const unsigned char*>(der.data()) + der.size()) {
    return InvalidArgument("invalid csr: trailing data after certificate request");
  }
  if (X509_REQ_get_version(req.get()) != X509_REQ_VERSION_1) {
    return InvalidArgument("invalid csr: unsupported version");
  }
  EVP_PKEY* key = X509_REQ_get0_pubkey(req.get());
  if (!key) {
    ERR_clear_error();
    return InvalidArgument("invalid csr: cannot parse public key");
  }
  if (X509_REQ_verify(req.get(), key) != 1) {
    ERR_clear_error();
    return InvalidArgument(VerifyFailure(key));
  }
  return req;
}

}  // namespace

bool IsValidEmail(std::string_view email) { return IsValidEmailImpl(email); }
bool IsValidUri(std::string_view uri) { return IsValidUriImpl(uri); }

bool IsValidDnsName(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength) return false;
  if (name.size() >= 2 && name.substr(0, 2) == "*.") name.remove_prefix(2);
  if (name.empty()) return false;
  size_t start = 0;
  while (start <= name.size()) {
    size_t dot = name.find('.', start);
    if (dot == std::string_view::npos) dot = name.size();
    std::string_view label = name.substr(start, dot - start);
    if (label.empty() || label.size() > 63) return false;
    if (label.front() == '-' || label.back() == '-') return false;
    for (char c : label) {
      unsigned char u = static_cast<unsigned char>(c);
      if (!(std::isalnum(u) || c == '-' || c == '_')) return false;
    }
    if (dot == name.size()) break;
    start = dot + 1;
  }
  return true;
}

Result<Csr> ParseCsrDer(std::string_view der) {
  if (der.empty()) return InvalidArgument("invalid csr: empty");
  if (der.size() > 64 * 1024) return InvalidArgument("invalid csr: too large");
  X509ReqPtr req;
  if (auto ec = ParseEcCsr(der)) {
    if (!ec->ok()) return ec->status();
    req = std::move(*ec).value();
  } else {
    STEPCA_ASSIGN_OR_RETURN(req, ParseAnyCsr(der));
  }

  Csr csr;
  csr.der = std::string(der);

  const X509_NAME* subject = X509_REQ_get_subject_name(req.get());
  int idx = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (idx >= 0) {
    if (X509_NAME_get_index_by_NID(subject, NID_commonName, idx) >= 0) {
      return InvalidArgument("invalid csr: more than one common name");
    }
    bool ok = false;
    csr.common_name = Asn1ToUtf8(
        X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, idx)), &ok);
    if (!ok) return InvalidArgument("invalid csr: malformed common name");
    if (csr.common_name.size() > kMaxNameLength) {
      return InvalidArgument("invalid csr: common name is too long");
    }
    if (!IsPrintable(csr.common_name)) {
      return InvalidArgument("invalid csr: common name contains non-printable characters");
    }
  }

  STEPCA_RETURN_IF_ERROR(ParseSans(req.get(), &csr.sans));
  csr.req = std::move(req);
  return csr;
}

Result<Csr> ParseCsrPem(std::string_view pem) {
  static constexpr std::string_view kTypes[] = {"CERTIFICATE REQUEST",
                                                "NEW CERTIFICATE REQUEST"};
  std::string_view text = Trim(pem);
  for (std::string_view type : kTypes) {
    const std::string begin = "-----BEGIN " + std::string(type) + "-----";
    const std::string end = "-----END " + std::string(type) + "-----";
    if (text.substr(0, begin.size()) != begin) continue;
    if (text.size() < begin.size() + end.size() ||
        text.substr(text.size() - end.size()) != end) {
      return InvalidArgument("invalid csr: malformed PEM");
    }
    std::string_view body = text.substr(begin.size(), text.size() - begin.size() - end.size());
    if (body.find("-----") != std::string_view::npos || body.find(':') != std::string_view::npos) {
      return InvalidArgument("invalid csr: malformed PEM");
    }
    std::string b64;
    b64.reserve(body.size());
    for (char c : body) {
      if (!IsSpace(c)) b64.push_back(c);
    }
    auto der = Base64Decode(b64);
    if (!der) return InvalidArgument("invalid csr: malformed PEM");
    return ParseCsrDer(*der);
  }
  return InvalidArgument("invalid csr: expected a PEM CERTIFICATE REQUEST");
}

Status CheckPublicKey(EVP_PKEY* key) {
  if (!key) return InvalidArgument("certificate request has no public key");
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_EC: {
      char name[64] = {0};
      size_t len = 0;
      if (EVP_PKEY_get_group_name(key, name, sizeof name, &len) == 1) {
        std::string g(name, len);
        if (g == "prime256v1" || g == "secp384r1" || g == "secp521r1") return Status::Ok();
        return InvalidArgument("certificate request key of type 'ecdsa " + g +
                               "' is not supported");
      }
      return InvalidArgument("certificate request key of type 'ecdsa' is not supported");
    }
    case EVP_PKEY_ED25519:
      return Status::Ok();
    case EVP_PKEY_RSA: {
      const int bits = EVP_PKEY_get_bits(key);
      if (bits < 2048) {
        return PermissionDenied(
            "certificate request RSA key must be at least 2048 bits (256 bytes)");
      }
      if (bits > 8192) {
        return InvalidArgument("certificate request RSA key must be at most 8192 bits");
      }
      return Status::Ok();
    }
    default: {
      const char* t = EVP_PKEY_get0_type_name(key);
      return InvalidArgument(std::string("certificate request key of type '") +
                             (t ? t : "unknown") + "' is not supported");
    }
  }
}

SanSet ClassifySans(const std::vector<std::string>& sans) {
  SanSet out;
  for (const auto& s : sans) {
    std::string ip = CanonicalIp(s);
    if (!ip.empty()) {
      out.ips.push_back(ip);
    } else if (HasUrlScheme(s)) {
      out.uris.push_back(s);
    } else if (s.find('@') != std::string::npos) {
      out.emails.push_back(s);
    } else {
      out.dns.push_back(s);
    }
  }
  return out;
}

Status CheckCsrAgainstToken(const Csr& csr, const std::string& subject,
                            const std::vector<std::string>& sans) {
  if (!csr.common_name.empty()) {
    bool found = csr.common_name == subject ||
                 std::find(sans.begin(), sans.end(), csr.common_name) != sans.end();
    if (!found) {
      return PermissionDenied(
          "certificate request does not contain the valid common name - got " +
          csr.common_name + ", want " + subject);
    }
  }
  const SanSet want = ClassifySans(sans);
  struct Kind {
    const std::vector<std::string>& got;
    const std::vector<std::string>& want;
    const char* label;
    bool case_insensitive;
  } kinds[] = {
      {csr.sans.dns, want.dns, "DNS names", true},
      {csr.sans.ips, want.ips, "IP addresses", false},
      {csr.sans.emails, want.emails, "Email addresses", false},
      {csr.sans.uris, want.uris, "URIs", false},
  };
  for (const auto& k : kinds) {
    if (k.got.empty()) continue;
    if (!SameSet(k.got, k.want, k.case_insensitive)) {
      return PermissionDenied(std::string("certificate request does not contain the valid ") +
                              k.label + " - got " + GoList(k.got) + ", want " +
                              GoList(k.want));
    }
  }
  return Status::Ok();
}

}  // namespace stepca
