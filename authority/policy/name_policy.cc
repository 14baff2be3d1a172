#include "authority/policy/name_policy.h"

#include <arpa/inet.h>
#include <idn2.h>
#include <strings.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <optional>

namespace stepca {
namespace {

std::string Quote(const std::string& s) { return "\"" + s + "\""; }

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

bool StartsWith(const std::string& s, const char* p) { return s.rfind(p, 0) == 0; }

bool EqualFold(const std::string& a, const std::string& b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

// Labels, last first ("a.example.com" -> com, example, a); false for an
// empty label (a trailing dot too) or a byte outside printable ASCII, as
// step-ca (Go's x509 name constraints) parses domains.
bool ReverseLabels(const std::string& domain, std::vector<std::string>* out) {
  out->clear();
  if (domain.empty()) return true;
  size_t start = 0;
  for (;;) {
    size_t dot = domain.find('.', start);
    std::string label = domain.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (label.empty()) return false;
    for (char c : label) {
      unsigned char u = static_cast<unsigned char>(c);
      if (u < 33 || u > 126) return false;
    }
    out->push_back(std::move(label));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  std::reverse(out->begin(), out->end());
  return true;
}

// UTS 46 lookup (IDNA2008, non-transitional) with the STD3 rule that a
// label holds only letters, digits and inner hyphens: what step-ca's
// idna.Lookup.ToASCII accepts, lower-cased, Unicode turned into xn--
// labels. std::nullopt when the name is not a valid domain name.
std::optional<std::string> LookupAscii(const std::string& name) {
  if (name.empty()) return std::nullopt;
  char* out = nullptr;
  int rc = idn2_lookup_u8(reinterpret_cast<const uint8_t*>(name.c_str()),
                          reinterpret_cast<uint8_t**>(&out), IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT);
  if (rc != IDN2_OK) return std::nullopt;
  std::string ascii(out);
  idn2_free(out);
  size_t start = 0;
  for (;;) {
    size_t dot = ascii.find('.', start);
    std::string label = ascii.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    // An empty label is for ReverseLabels to judge (step-ca's order).
    if (!label.empty()) {
      for (char c : label)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-')) return std::nullopt;
      if (label.front() == '-' || label.back() == '-') return std::nullopt;
      if (label.size() > 4 && label[2] == '-' && label[3] == '-' && !StartsWith(label, "xn--"))
        return std::nullopt;
    }
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return ascii;
}

// An address and prefix: a single IP is /32 or /128.
struct IpNet {
  std::string text;  // as written in ca.json
  int family = 0;    // AF_INET or AF_INET6
  unsigned char addr[16] = {};
  int prefix = 0;
};

bool ParseIp(const std::string& s, int* family, unsigned char addr[16]) {
  if (inet_pton(AF_INET, s.c_str(), addr) == 1) {
    *family = AF_INET;
    return true;
  }
  if (inet_pton(AF_INET6, s.c_str(), addr) == 1) {
    static const unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    // An IPv4-mapped address is the IPv4 address, as Go compares them.
    if (std::memcmp(addr, kMapped, 12) == 0) {
      std::memmove(addr, addr + 12, 4);
      *family = AF_INET;
    } else {
      *family = AF_INET6;
    }
    return true;
  }
  return false;
}

std::optional<IpNet> ParseIpOrCidr(const std::string& text) {
  IpNet n;
  n.text = text;
  const size_t slash = text.find('/');
  const std::string ip = text.substr(0, slash);
  if (!ParseIp(ip, &n.family, n.addr)) return std::nullopt;
  const int bits = n.family == AF_INET ? 32 : 128;
  if (slash == std::string::npos) {
    n.prefix = bits;
  } else {
    const std::string p = text.substr(slash + 1);
    if (p.empty() || p.size() > 3 || !std::all_of(p.begin(), p.end(), ::isdigit)) return std::nullopt;
    if (p.size() > 1 && p[0] == '0') return std::nullopt;
    n.prefix = std::stoi(p);
    if (n.prefix > bits) return std::nullopt;
    // An IPv4-mapped network would need Go's 16-byte prefix arithmetic;
    // write it as IPv4.
    if (ip.find(':') != std::string::npos && n.family == AF_INET) return std::nullopt;
  }
  // Host bits may be set ("10.1.2.3/8" is 10.0.0.0/8), as Go's ParseCIDR
  // reads it: matching masks them.
  return n;
}

bool IpInNet(int family, const unsigned char addr[16], const IpNet& net) {
  if (family != net.family) return false;
  int bits = net.prefix;
  for (int i = 0; bits > 0; ++i, bits -= 8) {
    const unsigned char mask = bits >= 8 ? 0xff : static_cast<unsigned char>(0xff << (8 - bits));
    if ((addr[i] & mask) != (net.addr[i] & mask)) return false;
  }
  return true;
}

struct Mailbox {
  std::string local, domain;
};

// RFC 2821 mailbox, as Go's x509 reads an rfc822Name: a dot-atom or quoted
// local part, "@", then any domain whose labels parse.
std::optional<Mailbox> ParseMailbox(const std::string& in) {
  if (in.empty()) return std::nullopt;
  Mailbox m;
  size_t i = 0;
  if (in[0] == '"') {
    for (i = 1;; ++i) {
      if (i >= in.size()) return std::nullopt;
      unsigned char c = static_cast<unsigned char>(in[i]);
      if (c == '"') {
        ++i;
        break;
      }
      if (c == '\\') {
        if (++i >= in.size()) return std::nullopt;
        unsigned char q = static_cast<unsigned char>(in[i]);
        if (q == 0 || q == 10 || q == 13 || q > 127) return std::nullopt;
        m.local += static_cast<char>(q);
        continue;
      }
      if (c == 0 || c == 9 || c == 10 || c == 13 || c == 34 || c == 92 || c > 127) return std::nullopt;
      m.local += static_cast<char>(c);
    }
  } else {
    static const char kAtext[] = "!#$%&'*+-/=?^_`{|}~.";
    while (i < in.size()) {
      char c = in[i];
      if (c == '\\') {
        if (++i >= in.size()) return std::nullopt;
        m.local += in[i++];
        continue;
      }
      if (std::isalnum(static_cast<unsigned char>(c)) || std::strchr(kAtext, c) != nullptr) {
        m.local += c;
        ++i;
        continue;
      }
      break;
    }
    if (m.local.empty() || m.local.front() == '.' || m.local.back() == '.' ||
        m.local.find("..") != std::string::npos)
      return std::nullopt;
  }
  if (i >= in.size() || in[i] != '@') return std::nullopt;
  m.domain = in.substr(i + 1);
  std::vector<std::string> labels;
  if (!ReverseLabels(m.domain, &labels)) return std::nullopt;
  return m;
}

// The host of a URI with an authority part ("scheme://[user@]host[:port]/..."),
// with the port: Go's url.URL.Host.
std::string UriHost(const std::string& uri) {
  size_t colon = uri.find(':');
  if (colon == std::string::npos || uri.compare(colon + 1, 2, "//") != 0) return "";
  size_t start = colon + 3;
  size_t end = uri.find_first_of("/?#", start);
  std::string authority = uri.substr(start, end == std::string::npos ? std::string::npos : end - start);
  size_t at = authority.rfind('@');
  if (at != std::string::npos) authority = authority.substr(at + 1);
  return authority;
}

bool IsIpLiteral(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

// A rule as written and as compared.
struct Rule {
  std::string text;  // as written in ca.json, for refusals
  std::string norm;  // lower-case ASCII; ".example.com" for "*.example.com"
};

enum class Kind { kCn, kDns, kIp, kEmail, kUri, kPrincipal };

const char* KindName(Kind k) {
  switch (k) {
    case Kind::kCn: return "cn";
    case Kind::kDns: return "dns";
    case Kind::kIp: return "ip";
    case Kind::kEmail: return "email";
    case Kind::kUri: return "uri";
    case Kind::kPrincipal: return "principal";
  }
  return "";
}

// How a check fails, in step-ca's reasons.
enum class Reason { kNotAllowed, kCannotParseDomain, kCannotParseRfc822Name, kCannotMatch };

struct Refusal {
  Reason reason;
  Kind kind;
  std::string name;
  std::string why;  // which rule, or which rule is missing
  bool by_deny = false;
};

std::string RefusalText(const Refusal& r) {
  const std::string kind = KindName(r.kind);
  std::string head;
  switch (r.reason) {
    case Reason::kNotAllowed: head = kind + " name " + Quote(r.name) + " not allowed"; break;
    case Reason::kCannotParseDomain: head = "cannot parse " + kind + " domain " + Quote(r.name); break;
    case Reason::kCannotParseRfc822Name: head = "cannot parse " + kind + " rfc822Name " + Quote(r.name); break;
    case Reason::kCannotMatch: head = "error matching " + kind + " name " + Quote(r.name) + " to constraint"; break;
  }
  return r.why.empty() ? head : head + " (" + r.why + ")";
}

}  // namespace

class NamePolicy::Rules {
 public:
  struct Lists {
    std::vector<Rule> cn, dns, email, uri, principal;
    std::vector<IpNet> ip;
    size_t size() const { return cn.size() + dns.size() + email.size() + uri.size() + principal.size() + ip.size(); }
  };

  Lists allow, deny;
  bool verify_common_name = false;
  bool allow_wildcards = false;
  std::string owner;

  bool empty() const { return allow.size() + deny.size() == 0; }

  // step-ca's validateNames over one certificate's names.
  std::optional<Refusal> Check(const std::vector<std::string>& dns, const std::vector<std::string>& ips,
                               const std::vector<std::string>& emails, const std::vector<std::string>& uris,
                               const std::vector<std::string>& principals) const;
  std::optional<Refusal> CheckCommonName(const std::string& cn) const;

 private:
  // A kind with no rule at all, in a policy that allows something else.
  bool Unlisted(size_t count_of_kind) const { return count_of_kind == 0 && allow.size() > 0; }
  std::string NoRuleFor(Kind k) const {
    return owner + " allows only the names it lists and lists no " + KindName(k) + " names";
  }
  template <typename R, typename Match>
  std::optional<Refusal> Constrain(Kind kind, const std::string& name, const std::vector<R>& allowed,
                                   const std::vector<R>& denied, Match match) const;
  bool MatchDomain(const std::string& domain, const std::string& rule) const;
};

bool NamePolicy::Rules::MatchDomain(const std::string& domain, const std::string& rule) const {
  if (domain.empty() || domain == " " || domain[0] == '.') return false;
  if (domain[0] == '*' && (domain.size() < 2 || domain[1] != '.')) return false;
  if (StartsWith(domain, "*.") && !allow_wildcards) return false;
  if (domain.rfind('*') != std::string::npos && domain.rfind('*') > 0) return false;
  std::vector<std::string> labels, rule_labels;
  if (!ReverseLabels(domain, &labels)) return false;
  std::string r = rule;
  const bool one_more = !r.empty() && r[0] == '.';
  if (one_more) r = r.substr(1);
  if (!ReverseLabels(r, &rule_labels)) return false;
  if (labels.size() != rule_labels.size() + (one_more ? 1 : 0)) return false;
  for (size_t i = 0; i < rule_labels.size(); ++i)
    if (!EqualFold(rule_labels[i], labels[i])) return false;
  return true;
}

// Deny rules first, then allow rules; match returns false, true, or an
// error text (a name the rule cannot be compared with).
template <typename R, typename Match>
std::optional<Refusal> NamePolicy::Rules::Constrain(Kind kind, const std::string& name,
                                                    const std::vector<R>& allowed,
                                                    const std::vector<R>& denied, Match match) const {
  std::string err;
  for (const auto& rule : denied) {
    if (match(rule, &err))
      return Refusal{Reason::kNotAllowed, kind, name, "denied by " + Quote(rule.text) + " in " + owner, true};
    if (!err.empty()) return Refusal{Reason::kCannotMatch, kind, name, err};
  }
  if (allowed.empty()) return std::nullopt;
  for (const auto& rule : allowed) {
    if (match(rule, &err)) return std::nullopt;
    if (!err.empty()) return Refusal{Reason::kCannotMatch, kind, name, err};
  }
  return Refusal{Reason::kNotAllowed, kind, name, "no allow rule of " + owner + " matches it"};
}

std::optional<Refusal> NamePolicy::Rules::Check(const std::vector<std::string>& dns,
                                                const std::vector<std::string>& ips,
                                                const std::vector<std::string>& emails,
                                                const std::vector<std::string>& uris,
                                                const std::vector<std::string>& principals) const {
  if (empty()) return std::nullopt;

  for (const auto& name : dns) {
    if (Unlisted(allow.dns.size() + deny.dns.size()))
      return Refusal{Reason::kNotAllowed, Kind::kDns, name, NoRuleFor(Kind::kDns)};
    const bool wildcard = StartsWith(name, "*.");
    // step-ca compares a wildcard name with the rules, so a deny rule does
    // not catch it; here it is refused outright unless allowed.
    if (wildcard && !allow_wildcards)
      return Refusal{Reason::kNotAllowed, Kind::kDns, name,
                     "wildcard names are not allowed by " + owner + " (allowWildcardNames is false)"};
    auto ascii = LookupAscii(wildcard ? name.substr(2) : name);
    std::vector<std::string> labels;
    if (!ascii || !ReverseLabels(*ascii, &labels))
      return Refusal{Reason::kCannotParseDomain, Kind::kDns, name, "not a valid IDNA domain name"};
    const std::string parsed = wildcard ? "*." + *ascii : *ascii;
    auto r = Constrain(Kind::kDns, name, allow.dns, deny.dns, [&](const Rule& rule, std::string*) {
      return MatchDomain(parsed, rule.norm);
    });
    if (r) return r;
  }

  for (const auto& name : ips) {
    if (Unlisted(allow.ip.size() + deny.ip.size()))
      return Refusal{Reason::kNotAllowed, Kind::kIp, name, NoRuleFor(Kind::kIp)};
    int family = 0;
    unsigned char addr[16];
    if (!ParseIp(name, &family, addr))
      return Refusal{Reason::kCannotMatch, Kind::kIp, name, "not an IP address"};
    auto r = Constrain(Kind::kIp, name, allow.ip, deny.ip, [&](const IpNet& net, std::string*) {
      return IpInNet(family, addr, net);
    });
    if (r) return r;
  }

  for (const auto& name : emails) {
    if (Unlisted(allow.email.size() + deny.email.size()))
      return Refusal{Reason::kNotAllowed, Kind::kEmail, name, NoRuleFor(Kind::kEmail)};
    auto mailbox = ParseMailbox(name);
    if (!mailbox) return Refusal{Reason::kCannotParseRfc822Name, Kind::kEmail, name, ""};
    // step-ca converts the domain with IDNA's plain Punycode profile: an
    // ASCII domain stays as it is.
    for (unsigned char c : mailbox->domain)
      if (c > 127) return Refusal{Reason::kCannotParseDomain, Kind::kEmail, name, ""};
    auto r = Constrain(Kind::kEmail, name, allow.email, deny.email, [&](const Rule& rule, std::string*) {
      const size_t at = rule.norm.find('@');
      if (at != std::string::npos)
        return mailbox->local == rule.norm.substr(0, at) && EqualFold(mailbox->domain, rule.norm.substr(at + 1));
      return MatchDomain(mailbox->domain, rule.norm);
    });
    if (r) return r;
  }

  for (const auto& name : uris) {
    if (Unlisted(allow.uri.size() + deny.uri.size()))
      return Refusal{Reason::kNotAllowed, Kind::kUri, name, NoRuleFor(Kind::kUri)};
    auto r = Constrain(Kind::kUri, name, allow.uri, deny.uri, [&](const Rule& rule, std::string* err) {
      std::string host = UriHost(name);
      if (host.empty()) {
        *err = "a URI without a host cannot be matched against the rules";
        return false;
      }
      if (host.find('*') != std::string::npos) {
        *err = "a URI host cannot contain an asterisk";
        return false;
      }
      if (host.front() == '[' && host.back() == ']') {
        *err = "a URI with an IP host cannot be matched against the rules";
        return false;
      }
      const size_t colon = host.rfind(':');
      if (colon != std::string::npos) {
        if (host.front() == '[' || host.find(':') != colon) {
          *err = host.front() == '[' ? "a URI with an IP host cannot be matched against the rules"
                                     : "the URI host does not parse";
          return false;
        }
        host = host.substr(0, colon);
      }
      if (IsIpLiteral(host)) {
        *err = "a URI with an IP host cannot be matched against the rules";
        return false;
      }
      return MatchDomain(host, rule.norm);
    });
    if (r) return r;
  }

  for (const auto& name : principals) {
    if (Unlisted(allow.principal.size() + deny.principal.size()))
      return Refusal{Reason::kNotAllowed, Kind::kPrincipal, name, NoRuleFor(Kind::kPrincipal)};
    auto r = Constrain(Kind::kPrincipal, name, allow.principal, deny.principal,
                       [&](const Rule& rule, std::string*) {
                         return rule.norm == "*" || EqualFold(name, rule.norm);
                       });
    if (r) return r;
  }
  return std::nullopt;
}

std::optional<Refusal> NamePolicy::Rules::CheckCommonName(const std::string& cn) const {
  if (empty() || cn.empty()) return std::nullopt;
  if (!allow.cn.empty() || !deny.cn.empty()) {
    auto r = Constrain(Kind::kCn, cn, allow.cn, deny.cn, [&](const Rule& rule, std::string*) {
      return EqualFold(cn, rule.norm);
    });
    // A common name a cn rule allows needs nothing else.
    if (!r) return std::nullopt;
    // One a cn rule denies is refused (step-ca re-checks it as a SAN and
    // may let it through).
    if (r->by_deny) return r;
  }
  // Otherwise the common name is checked as the SAN it looks like.
  SanSet as_san = ClassifySans({cn});
  auto r = Check(as_san.dns, as_san.ips, as_san.emails, as_san.uris, {});
  if (r) r->kind = Kind::kCn;
  return r;
}

namespace {

using Rules = NamePolicy::Rules;

class Parser {
 public:
  Status Err(const std::string& field, const std::string& msg) const {
    return InvalidArgument("field " + Quote(field) + ": " + msg);
  }

  Status Object(const json_t* v, const std::string& field, std::initializer_list<const char*> keys) const {
    if (!json_is_object(v)) return Err(field, "must be an object");
    const char* key;
    const json_t* value;
    json_object_foreach(const_cast<json_t*>(v), key, value) {
      bool known = false;
      std::string list;
      for (const char* k : keys) {
        known = known || std::strcmp(k, key) == 0;
        list += (list.empty() ? "" : ", ") + std::string(k);
      }
      if (!known) {
        std::string hint = std::strcmp(key, "commonName") == 0 ? " (step-ca spells it \"cn\")" : "";
        return Err(field + "." + key, "unknown key" + hint + "; expected one of " + list);
      }
    }
    return Status::Ok();
  }

  Result<std::vector<std::string>> Strings(const json_t* obj, const char* key, const std::string& field) const {
    std::vector<std::string> out;
    const json_t* v = json_object_get(obj, key);
    if (v == nullptr || json_is_null(v)) return out;
    const std::string f = field + "." + key;
    if (!json_is_array(v)) return Err(f, "must be a list of strings");
    size_t i;
    const json_t* e;
    json_array_foreach(v, i, e) {
      if (!json_is_string(e)) return Err(f + "[" + std::to_string(i) + "]", "must be a string");
      out.emplace_back(json_string_value(e), json_string_length(e));
    }
    return out;
  }

  // Domain rules of dns (uri: the same, without ports or IPs), as step-ca
  // normalizes them.
  Result<Rule> DomainRule(const std::string& text, const std::string& f, bool uri) const {
    std::string n = Lower(Trim(text));
    if (n.empty()) return Err(f, "a rule cannot be empty");
    if (uri && n.find("://") != std::string::npos)
      return Err(f, Quote(text) + ": a URI rule is a host name, without a scheme");
    if (n.find("..") != std::string::npos) return Err(f, Quote(text) + " has an empty label");
    if (n[0] == '.') return Err(f, Quote(text) + ": write a sub-domain rule as \"*" + n + "\"");
    if (n.rfind('*') != std::string::npos && n.rfind('*') > 0)
      return Err(f, Quote(text) + ": \"*\" may only be the first label");
    if (n.size() >= 2 && n[0] == '*' && n[1] != '.')
      return Err(f, Quote(text) + ": \"*\" must be a whole label (\"*.example.com\")");
    if (n == "*") return Err(f, Quote(text) + ": \"*\" alone is not a rule (omit the list to allow all)");
    const bool sub = StartsWith(n, "*.");
    std::string host = sub ? n.substr(2) : n;
    if (uri) {
      if (host.find_first_of("[]") != std::string::npos)
        return Err(f, Quote(text) + ": a URI rule cannot hold square brackets");
      if (host.find(':') != std::string::npos) return Err(f, Quote(text) + ": a URI rule cannot hold a port");
      if (IsIpLiteral(host)) return Err(f, Quote(text) + ": a URI rule cannot be an IP address");
    }
    auto ascii = LookupAscii(host);
    std::vector<std::string> labels;
    if (!ascii || !ReverseLabels(*ascii, &labels))
      return Err(f, Quote(text) + " is not a valid domain name (IDNA)");
    return Rule{text, (sub ? "." : "") + *ascii};
  }

  Result<Rule> EmailRule(const std::string& text, const std::string& f) const {
    std::string n = Lower(Trim(text));
    if (n.empty()) return Err(f, "a rule cannot be empty");
    if (n.find('*') != std::string::npos)
      return Err(f, Quote(text) + ": email rules have no wildcards (\"@example.com\" allows the domain)");
    if (std::count(n.begin(), n.end(), '@') > 1) return Err(f, Quote(text) + " has more than one \"@\"");
    if (n[0] == '@') n = n.substr(1);
    if (n.empty() || n[0] == '.') return Err(f, Quote(text) + ": an email rule cannot start with a period");
    std::string norm;
    if (n.find('@') != std::string::npos) {
      auto m = ParseMailbox(n);
      if (!m) return Err(f, Quote(text) + " is not an email address");
      auto d = LookupAscii(m->domain);
      if (!d) return Err(f, Quote(text) + ": the domain is not a valid domain name (IDNA)");
      norm = m->local + "@" + *d;
    } else {
      auto d = LookupAscii(n);
      if (!d) return Err(f, Quote(text) + " is not a valid domain name (IDNA)");
      norm = *d;
    }
    std::vector<std::string> labels;
    if (!ReverseLabels(norm, &labels)) return Err(f, Quote(text) + " is not a valid email rule");
    return Rule{text, norm};
  }

  Status Names(const json_t* v, const std::string& field, bool x509, Rules::Lists* out) const {
    if (v == nullptr || json_is_null(v)) return Status::Ok();
    if (x509) STEPCA_RETURN_IF_ERROR(Object(v, field, {"cn", "dns", "ip", "email", "uri"}));
    else STEPCA_RETURN_IF_ERROR(Object(v, field, {"dns", "ip", "email", "principal"}));
    auto each = [&](const char* key, auto fn) -> Status {
      STEPCA_ASSIGN_OR_RETURN(auto list, Strings(v, key, field));
      for (size_t i = 0; i < list.size(); ++i)
        STEPCA_RETURN_IF_ERROR(fn(list[i], field + "." + key + "[" + std::to_string(i) + "]"));
      return Status::Ok();
    };
    if (x509) {
      STEPCA_RETURN_IF_ERROR(each("cn", [&](const std::string& t, const std::string& f) -> Status {
        std::string n = Lower(Trim(t));
        if (n.empty()) return Err(f, "a rule cannot be empty");
        if (n == "*") return Err(f, "\"*\" is not supported for common names");
        out->cn.push_back({t, n});
        return Status::Ok();
      }));
      STEPCA_RETURN_IF_ERROR(each("uri", [&](const std::string& t, const std::string& f) -> Status {
        STEPCA_ASSIGN_OR_RETURN(Rule r, DomainRule(t, f, true));
        out->uri.push_back(std::move(r));
        return Status::Ok();
      }));
    } else {
      STEPCA_RETURN_IF_ERROR(each("principal", [&](const std::string& t, const std::string& f) -> Status {
        if (t.empty()) return Err(f, "a rule cannot be empty");
        out->principal.push_back({t, t});
        return Status::Ok();
      }));
    }
    STEPCA_RETURN_IF_ERROR(each("dns", [&](const std::string& t, const std::string& f) -> Status {
      STEPCA_ASSIGN_OR_RETURN(Rule r, DomainRule(t, f, false));
      out->dns.push_back(std::move(r));
      return Status::Ok();
    }));
    STEPCA_RETURN_IF_ERROR(each("ip", [&](const std::string& t, const std::string& f) -> Status {
      auto net = ParseIpOrCidr(Trim(t));
      if (!net) return Err(f, Quote(t) + " is neither an IP address nor a CIDR (\"10.0.0.0/8\", \"2001:db8::/32\")");
      net->text = t;
      out->ip.push_back(*net);
      return Status::Ok();
    }));
    return each("email", [&](const std::string& t, const std::string& f) -> Status {
      STEPCA_ASSIGN_OR_RETURN(Rule r, EmailRule(t, f));
      out->email.push_back(std::move(r));
      return Status::Ok();
    });
  }

  // allow/deny of one certificate kind; nullptr when it has no rule.
  Result<std::unique_ptr<Rules>> AllowDeny(const json_t* v, const std::string& field, bool x509,
                                           const std::string& owner) const {
    auto rules = std::make_unique<Rules>();
    rules->owner = owner;
    if (v == nullptr || json_is_null(v)) return std::unique_ptr<Rules>();
    if (x509) STEPCA_RETURN_IF_ERROR(Object(v, field, {"allow", "deny", "allowWildcardNames"}));
    else STEPCA_RETURN_IF_ERROR(Object(v, field, {"allow", "deny"}));
    STEPCA_RETURN_IF_ERROR(Names(json_object_get(v, "allow"), field + ".allow", x509, &rules->allow));
    STEPCA_RETURN_IF_ERROR(Names(json_object_get(v, "deny"), field + ".deny", x509, &rules->deny));
    if (x509) {
      const json_t* w = json_object_get(v, "allowWildcardNames");
      if (w != nullptr && !json_is_null(w) && !json_is_boolean(w))
        return Err(field + ".allowWildcardNames", "must be true or false");
      rules->allow_wildcards = json_is_true(w);
      rules->verify_common_name = true;
    }
    if (rules->empty()) return std::unique_ptr<Rules>();
    return rules;
  }
};

}  // namespace

NamePolicy::~NamePolicy() = default;

Result<std::unique_ptr<const NamePolicy>> NamePolicy::Parse(const json_t* policy, const std::string& field,
                                                            const std::string& owner) {
  std::unique_ptr<NamePolicy> p(new NamePolicy());
  p->owner_ = owner;
  if (policy == nullptr || json_is_null(policy)) return std::unique_ptr<const NamePolicy>(std::move(p));
  Parser parse;
  STEPCA_RETURN_IF_ERROR(parse.Object(policy, field, {"x509", "ssh"}));
  STEPCA_ASSIGN_OR_RETURN(p->x509_, parse.AllowDeny(json_object_get(policy, "x509"), field + ".x509", true, owner));
  const json_t* ssh = json_object_get(policy, "ssh");
  if (ssh != nullptr && !json_is_null(ssh)) {
    STEPCA_RETURN_IF_ERROR(parse.Object(ssh, field + ".ssh", {"user", "host"}));
    STEPCA_ASSIGN_OR_RETURN(p->ssh_user_,
                            parse.AllowDeny(json_object_get(ssh, "user"), field + ".ssh.user", false, owner));
    STEPCA_ASSIGN_OR_RETURN(p->ssh_host_,
                            parse.AllowDeny(json_object_get(ssh, "host"), field + ".ssh.host", false, owner));
  }
  return std::unique_ptr<const NamePolicy>(std::move(p));
}

Status NamePolicy::CheckX509(const std::string& common_name, const SanSet& sans) const {
  if (x509_ == nullptr) return Status::Ok();
  auto r = x509_->Check(sans.dns, sans.ips, sans.emails, sans.uris, {});
  if (!r && x509_->verify_common_name) r = x509_->CheckCommonName(common_name);
  if (r) return PermissionDenied(RefusalText(*r));
  return Status::Ok();
}

Status NamePolicy::CheckIdentifier(const std::string& type, const std::string& value) const {
  if (x509_ == nullptr) return Status::Ok();
  std::optional<Refusal> r;
  if (type == "ip") r = x509_->Check({}, {value}, {}, {}, {});
  else r = x509_->Check({value}, {}, {}, {}, {});
  if (r) return PermissionDenied(RefusalText(*r));
  return Status::Ok();
}

Status NamePolicy::CheckSsh(SshCertType type, const std::vector<std::string>& principals) const {
  const Rules* rules = type == SshCertType::kHost ? ssh_host_.get() : ssh_user_.get();
  const Rules* other = type == SshCertType::kHost ? ssh_user_.get() : ssh_host_.get();
  if (rules == nullptr) {
    if (other == nullptr) return Status::Ok();
    // step-ca: a policy for one type of SSH certificate only closes the other.
    return PermissionDenied(type == SshCertType::kHost
                                ? "SSH host certificates are not allowed: " + owner_ + " has only SSH user certificate rules"
                                : "SSH user certificates are not allowed: " + owner_ + " has only SSH host certificate rules");
  }
  // step-ca splits principals as SANs: a host's are DNS names, IPs and
  // emails; a user's are emails and, for anything else, user names.
  SanSet split = ClassifySans(principals);
  if (!split.uris.empty())
    return PermissionDenied("URI principal " + Quote(split.uris[0]) + " is not expected in an SSH certificate");
  std::optional<Refusal> r;
  if (type == SshCertType::kHost) {
    r = rules->Check(split.dns, split.ips, split.emails, {}, {});
  } else {
    if (!split.ips.empty())
      return PermissionDenied("IP principal " + Quote(split.ips[0]) + " is not expected in an SSH user certificate");
    r = rules->Check({}, {}, split.emails, {}, split.dns);
  }
  if (r) return PermissionDenied(RefusalText(*r));
  return Status::Ok();
}

}  // namespace stepca
