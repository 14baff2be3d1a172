// The name-policy table: names x rules x the expected decision. Every row
// was also run through step-ca's own policy engine (smallstep/certificates
// policy package, built outside this tree); they agree except the rows
// marked "diverges", where step-ca lets a name past a deny rule.
#include "authority/policy/name_policy.h"

#include <gtest/gtest.h>

#include "authority/ossl.h"
#include "authority/policy/name_policies.h"
#include "authority/provisioner/provisioner.h"

namespace stepca {
namespace {

constexpr char kTable[] = R"json([
{"allow": {"dns": ["*.example.com"]}, "sans": ["a.example.com"], "want": "allow", "note": "sub-domain rule: one more label"},
{"allow": {"dns": ["*.example.com"]}, "sans": ["a.b.example.com"], "want": "deny", "note": "sub-domain rule: exactly one label"},
{"allow": {"dns": ["*.example.com"]}, "sans": ["example.com"], "want": "deny", "note": "sub-domain rule does not match the apex"},
{"allow": {"dns": ["example.com"]}, "sans": ["example.com"], "want": "allow", "note": "exact rule"},
{"allow": {"dns": ["example.com"]}, "sans": ["www.example.com"], "want": "deny", "note": "exact rule is not a sub-domain rule"},
{"allow": {"dns": ["*.example.com"]}, "sans": ["A.EXAMPLE.COM"], "want": "allow", "note": "names compare case-insensitively"},
{"allow": {"dns": ["*.Example.COM"]}, "sans": ["a.example.com"], "want": "allow", "note": "rules compare case-insensitively"},
{"allow": {"dns": ["*.example.com"]}, "sans": ["*.example.com"], "want": "deny", "note": "wildcard name refused by default"},
{"allow": {"dns": ["*.example.com"]}, "wild": true, "sans": ["*.example.com"], "want": "allow", "note": "allowWildcardNames"},
{"allow": {"dns": ["example.com"]}, "wild": true, "sans": ["*.example.com"], "want": "deny", "note": "a wildcard needs a sub-domain rule"},
{"deny": {"dns": ["*.example.com"]}, "sans": ["*.example.com"], "want": "deny", "diverges": true, "note": "wildcard under a deny-only policy (step-ca lets it past)"},
{"deny": {"dns": ["*.example.com"]}, "wild": true, "sans": ["*.example.com"], "want": "deny", "note": "deny rule catches an allowed wildcard"},
{"deny": {"dns": ["bad.example.com"]}, "sans": ["good.example.com"], "want": "allow", "note": "deny-only policy allows the rest"},
{"deny": {"dns": ["bad.example.com"]}, "sans": ["bad.example.com"], "want": "deny", "note": "deny rule"},
{"deny": {"dns": ["bad.example.com"]}, "sans": ["BAD.example.com"], "want": "deny", "note": "deny rule, case-insensitive"},
{"allow": {"dns": ["*.example.com"]}, "deny": {"dns": ["bad.example.com"]}, "sans": ["bad.example.com"], "want": "deny", "note": "deny wins over allow"},
{"allow": {"dns": ["*.example.com"]}, "deny": {"dns": ["*.example.com"]}, "sans": ["a.example.com"], "want": "deny", "note": "deny wins over the same allow"},
{"allow": {"dns": ["*.example.com"]}, "deny": {"dns": ["bad.example.com"]}, "sans": ["good.example.com"], "want": "allow", "note": "allow with an unrelated deny"},
{"allow": {"dns": ["*.example.com"]}, "sans": ["a_b.example.com"], "want": "deny", "note": "underscore is not an IDNA name"},
{"allow": {"dns": ["*.example.com"]}, "sans": ["xn--bcher-kva.example.com"], "want": "allow", "note": "valid punycode label"},
{"allow": {"dns": ["*.example.com"]}, "sans": ["xn--zz.example.com"], "want": "deny", "note": "invalid punycode label"},
{"allow": {"dns": ["*.bücher.example"]}, "sans": ["www.xn--bcher-kva.example"], "want": "allow", "note": "Unicode rule in its xn-- form"},
{"allow": {"dns": ["*.example.com"]}, "sans": ["a-.example.com"], "want": "deny", "note": "label ending in a hyphen"},
{"allow": {"dns": ["*.example.com"]}, "sans": ["10.0.0.1"], "want": "deny", "note": "allow rules of one kind refuse unlisted kinds (ip)"},
{"allow": {"dns": ["*.example.com"]}, "sans": ["alice@example.com"], "want": "deny", "note": "allow rules of one kind refuse unlisted kinds (email)"},
{"allow": {"dns": ["*.example.com"]}, "sans": ["spiffe://a.example.com/x"], "want": "deny", "note": "allow rules of one kind refuse unlisted kinds (uri)"},
{"deny": {"dns": ["bad.com"]}, "sans": ["10.0.0.1", "alice@example.com"], "want": "allow", "note": "deny-only policy does not refuse other kinds"},
{"allow": {}, "deny": {}, "sans": ["anything.com", "10.0.0.1"], "want": "allow", "note": "empty allow and deny: no policy"},
{"allow": {"ip": ["10.0.0.0/8"]}, "sans": ["10.1.2.3"], "want": "allow", "note": "IPv4 CIDR"},
{"allow": {"ip": ["10.0.0.0/8"]}, "sans": ["11.0.0.1"], "want": "deny", "note": "IPv4 CIDR, outside"},
{"allow": {"ip": ["192.168.1.10"]}, "sans": ["192.168.1.10"], "want": "allow", "note": "single IPv4"},
{"allow": {"ip": ["192.168.1.10"]}, "sans": ["192.168.1.11"], "want": "deny", "note": "single IPv4, another"},
{"allow": {"ip": ["2001:db8::/32"]}, "sans": ["2001:db8::1"], "want": "allow", "note": "IPv6 CIDR"},
{"allow": {"ip": ["2001:db8::/32"]}, "sans": ["2001:db9::1"], "want": "deny", "note": "IPv6 CIDR, outside"},
{"allow": {"ip": ["2001:db8::5"]}, "sans": ["2001:db8::5"], "want": "allow", "note": "single IPv6"},
{"allow": {"ip": ["2001:db8::/32"]}, "sans": ["10.0.0.1"], "want": "deny", "note": "IPv4 is not in an IPv6 network"},
{"allow": {"ip": ["10.0.0.0/8"]}, "deny": {"ip": ["10.0.0.0/24"]}, "sans": ["10.0.0.5"], "want": "deny", "note": "denied sub-range"},
{"allow": {"ip": ["10.0.0.0/8"]}, "deny": {"ip": ["10.0.0.0/24"]}, "sans": ["10.0.1.5"], "want": "allow", "note": "outside the denied sub-range"},
{"allow": {"ip": ["10.1.2.3/8"]}, "sans": ["10.200.0.1"], "want": "allow", "note": "CIDR with host bits is the network"},
{"deny": {"ip": ["fd00::/8"]}, "sans": ["fd12::1"], "want": "deny", "note": "IPv6 deny"},
{"allow": {"ip": ["10.0.0.0/8"]}, "sans": ["a.example.com"], "want": "deny", "note": "ip rules only: a DNS name is refused"},
{"allow": {"email": ["@example.com"]}, "sans": ["alice@example.com"], "want": "allow", "note": "@domain rule"},
{"allow": {"email": ["@example.com"]}, "sans": ["alice@sub.example.com"], "want": "deny", "note": "@domain rule is exact"},
{"allow": {"email": ["example.com"]}, "sans": ["bob@example.com"], "want": "allow", "note": "domain rule"},
{"allow": {"email": ["alice@example.com"]}, "sans": ["alice@example.com"], "want": "allow", "note": "whole address"},
{"allow": {"email": ["alice@example.com"]}, "sans": ["bob@example.com"], "want": "deny", "note": "whole address, another"},
{"allow": {"email": ["alice@example.com"]}, "sans": ["alice@EXAMPLE.com"], "want": "allow", "note": "email domain case-insensitive"},
{"allow": {"email": ["alice@example.com"]}, "sans": ["Alice@example.com"], "want": "deny", "note": "email local part is exact"},
{"deny": {"email": ["@example.com"]}, "sans": ["eve@example.com"], "want": "deny", "note": "denied email domain"},
{"deny": {"email": ["eve@example.com"]}, "sans": ["alice@example.com"], "want": "allow", "note": "another address than the denied"},
{"allow": {"uri": ["*.example.com"]}, "sans": ["spiffe://svc.example.com/ns/a"], "want": "allow", "note": "URI host, sub-domain rule"},
{"allow": {"uri": ["example.com"]}, "sans": ["https://example.com:8443/path"], "want": "allow", "note": "URI port ignored"},
{"allow": {"uri": ["example.com"]}, "sans": ["https://user@example.com/path"], "want": "allow", "note": "URI user info ignored"},
{"allow": {"uri": ["example.com"]}, "sans": ["https://other.com/"], "want": "deny", "note": "URI host not listed"},
{"allow": {"uri": ["example.com"]}, "sans": ["urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66"], "want": "deny", "note": "URI without a host"},
{"allow": {"uri": ["example.com"]}, "sans": ["https://10.0.0.1/"], "want": "deny", "note": "URI with an IP host"},
{"deny": {"uri": ["*.evil.com"]}, "sans": ["https://x.evil.com"], "want": "deny", "note": "denied URI host"},
{"deny": {"uri": ["*.evil.com"]}, "sans": ["https://x.good.com"], "want": "allow", "note": "URI host not denied"},
{"allow": {"cn": ["My Service"]}, "cn": "My Service", "sans": [], "want": "allow", "note": "cn rule"},
{"allow": {"cn": ["my service"]}, "cn": "MY SERVICE", "sans": [], "want": "allow", "note": "cn rule, case-insensitive"},
{"allow": {"cn": ["My Service"]}, "cn": "Other", "sans": [], "want": "deny", "note": "cn not listed, no dns rules"},
{"allow": {"dns": ["*.example.com"]}, "cn": "a.example.com", "sans": ["a.example.com"], "want": "allow", "note": "cn checked as a DNS name"},
{"allow": {"dns": ["*.example.com"]}, "cn": "a.other.com", "sans": ["a.example.com"], "want": "deny", "note": "cn refused as a DNS name"},
{"deny": {"cn": ["root"]}, "cn": "root", "sans": [], "want": "deny", "diverges": true, "note": "denied cn (step-ca re-checks it as a DNS name and allows it)"},
{"allow": {"dns": ["*.example.com"]}, "deny": {"cn": ["root"]}, "cn": "admin", "sans": [], "want": "allow", "note": "a cn no cn rule denies passes (step-ca)"},
{"allow": {"ip": ["10.0.0.0/8"]}, "cn": "10.0.0.7", "sans": ["10.0.0.7"], "want": "allow", "note": "cn checked as an IP"},
{"allow": {"dns": ["*.example.com"]}, "cn": "alice@example.com", "sans": [], "want": "deny", "note": "cn checked as an email"},
{"allow": {"cn": ["x"]}, "cn": "", "sans": [], "want": "allow", "note": "no cn: nothing to check"},
{"allow": {"dns": ["*.example.com"], "ip": ["10.0.0.0/8"]}, "sans": ["a.example.com", "10.2.3.4"], "want": "allow", "note": "every name allowed"},
{"allow": {"dns": ["*.example.com"], "ip": ["10.0.0.0/8"]}, "sans": ["a.example.com", "192.168.0.1"], "want": "deny", "note": "one name refused refuses all"},
{"deny": {"dns": ["bad.example.com"]}, "wild": true, "sans": ["*.good.com"], "want": "allow", "note": "allowed wildcard, deny-only"}
])json";

JsonPtr Json(const std::string& text) {
  json_error_t err;
  JsonPtr j(json_loads(text.c_str(), JSON_DECODE_ANY, &err));
  EXPECT_TRUE(j) << err.text << " in " << text;
  return j;
}

std::unique_ptr<const NamePolicy> MustParse(const std::string& text,
                                            const std::string& owner = "the authority policy") {
  JsonPtr j = Json(text);
  auto p = NamePolicy::Parse(j.get(), "authority.policy", owner);
  EXPECT_TRUE(p.ok()) << p.status().message();
  return p.ok() ? std::move(p).value() : nullptr;
}

std::string ParseError(const std::string& text) {
  JsonPtr j = Json(text);
  auto p = NamePolicy::Parse(j.get(), "authority.policy", "the authority policy");
  EXPECT_FALSE(p.ok()) << text;
  EXPECT_EQ(p.status().code(), Code::kInvalidArgument);
  return p.status().message();
}

TEST(NamePolicyTable, EveryRowDecidesAsExpected) {
  JsonPtr rows = Json(kTable);
  ASSERT_TRUE(json_is_array(rows.get()));
  ASSERT_GE(json_array_size(rows.get()), 40u);
  size_t i;
  json_t* row;
  size_t allowed = 0, denied = 0;
  json_array_foreach(rows.get(), i, row) {
    JsonPtr policy(json_object());
    json_t* x509 = json_object();
    for (const char* k : {"allow", "deny"})
      if (json_t* v = json_object_get(row, k)) json_object_set(x509, k, v);
    json_object_set_new(x509, "allowWildcardNames", json_boolean(json_is_true(json_object_get(row, "wild"))));
    json_object_set_new(policy.get(), "x509", x509);
    auto p = NamePolicy::Parse(policy.get(), "authority.policy", "the authority policy");
    const std::string note = json_string_value(json_object_get(row, "note"));
    ASSERT_TRUE(p.ok()) << "row " << i << " (" << note << "): " << p.status().message();
    std::vector<std::string> sans;
    size_t k;
    json_t* s;
    json_array_foreach(json_object_get(row, "sans"), k, s) sans.push_back(json_string_value(s));
    const json_t* cn = json_object_get(row, "cn");
    Status st = (*p)->CheckX509(cn ? json_string_value(cn) : "", ClassifySans(sans));
    const std::string want = json_string_value(json_object_get(row, "want"));
    if (want == "allow") {
      ++allowed;
      EXPECT_TRUE(st.ok()) << "row " << i << " (" << note << ") refused: " << st.message();
    } else {
      ++denied;
      EXPECT_EQ(st.code(), Code::kPermissionDenied) << "row " << i << " (" << note << ") allowed";
    }
  }
  // Both outcomes are exercised.
  EXPECT_GT(allowed, 15u);
  EXPECT_GT(denied, 15u);
}

TEST(NamePolicy, RefusalsNameTheKindTheNameAndTheRule) {
  auto p = MustParse(R"({"x509": {"allow": {"dns": ["*.example.com"]}, "deny": {"dns": ["bad.example.com"]}}})");
  SanSet sans;
  sans.dns = {"bad.example.com"};
  EXPECT_EQ(p->CheckX509("", sans).message(),
            "dns name \"bad.example.com\" not allowed (denied by \"bad.example.com\" in the authority policy)");
  sans.dns = {"a.other.com"};
  EXPECT_EQ(p->CheckX509("", sans).message(),
            "dns name \"a.other.com\" not allowed (no allow rule of the authority policy matches it)");
  sans.dns = {"*.example.com"};
  EXPECT_EQ(p->CheckX509("", sans).message(),
            "dns name \"*.example.com\" not allowed (wildcard names are not allowed by the authority "
            "policy (allowWildcardNames is false))");
  sans = SanSet();
  sans.ips = {"10.0.0.1"};
  EXPECT_EQ(p->CheckX509("", sans).message(),
            "ip name \"10.0.0.1\" not allowed (the authority policy allows only the names it lists "
            "and lists no ip names)");
  sans = SanSet();
  sans.dns = {"a_b.example.com"};
  EXPECT_EQ(p->CheckX509("", sans).message(),
            "cannot parse dns domain \"a_b.example.com\" (not a valid IDNA domain name)");
  sans.dns = {"a.example.com"};
  EXPECT_EQ(p->CheckX509("a.other.com", sans).message(),
            "cn name \"a.other.com\" not allowed (no allow rule of the authority policy matches it)");
  EXPECT_TRUE(p->CheckX509("a.example.com", sans).ok());
}

TEST(NamePolicy, NoPolicyOrEmptyListsAllowEverything) {
  for (const char* text : {"null", "{}", R"({"x509": {}})", R"({"x509": {"allow": {}, "deny": {"dns": []}}})",
                           R"({"x509": {"allowWildcardNames": true}})"}) {
    auto p = MustParse(text);
    ASSERT_NE(p, nullptr);
    EXPECT_FALSE(p->has_x509()) << text;
    SanSet sans;
    sans.dns = {"*.anything.example", "x.y"};
    sans.ips = {"10.0.0.1"};
    EXPECT_TRUE(p->CheckX509("whatever", sans).ok()) << text;
  }
}

TEST(NamePolicy, AcmeIdentifiers) {
  auto p = MustParse(R"({"x509": {"allow": {"dns": ["*.example.com"], "ip": ["192.0.2.0/24"]},
                                  "deny": {"dns": ["bad.example.com"]}}})");
  EXPECT_TRUE(p->CheckIdentifier("dns", "a.example.com").ok());
  EXPECT_EQ(p->CheckIdentifier("dns", "bad.example.com").code(), Code::kPermissionDenied);
  EXPECT_EQ(p->CheckIdentifier("dns", "a.other.com").code(), Code::kPermissionDenied);
  EXPECT_EQ(p->CheckIdentifier("dns", "*.example.com").code(), Code::kPermissionDenied);
  EXPECT_TRUE(p->CheckIdentifier("ip", "192.0.2.7").ok());
  EXPECT_EQ(p->CheckIdentifier("ip", "198.51.100.1").code(), Code::kPermissionDenied);
  auto wild = MustParse(R"({"x509": {"allow": {"dns": ["*.example.com"]}, "allowWildcardNames": true}})");
  EXPECT_TRUE(wild->CheckIdentifier("dns", "*.example.com").ok());
}

TEST(NamePolicy, BadRulesFailTheLoadNamingTheField) {
  struct Case {
    const char* policy;
    const char* want;  // part of the message
  } cases[] = {
      {R"({"x509": {"allow": {"ip": ["10.0.0.0/33"]}}})", "field \"authority.policy.x509.allow.ip[0]\": \"10.0.0.0/33\" is neither"},
      {R"({"x509": {"allow": {"ip": ["10.0.0/8"]}}})", "is neither an IP address nor a CIDR"},
      {R"({"x509": {"deny": {"ip": ["2001:db8::/129"]}}})", "authority.policy.x509.deny.ip[0]"},
      {R"({"x509": {"allow": {"ip": ["example.com"]}}})", "is neither an IP address nor a CIDR"},
      {R"({"x509": {"allow": {"dns": [".example.com"]}}})", "write a sub-domain rule as \"*.example.com\""},
      {R"({"x509": {"allow": {"dns": ["a.*.example.com"]}}})", "\"*\" may only be the first label"},
      {R"({"x509": {"allow": {"dns": ["*foo.example.com"]}}})", "must be a whole label"},
      {R"({"x509": {"allow": {"dns": ["a..example.com"]}}})", "has an empty label"},
      {R"({"x509": {"allow": {"dns": ["a_b.example.com"]}}})", "is not a valid domain name (IDNA)"},
      {R"({"x509": {"allow": {"dns": ["xn--zz.example.com"]}}})", "is not a valid domain name (IDNA)"},
      {R"({"x509": {"allow": {"dns": ["*"]}}})", "alone is not a rule"},
      {R"({"x509": {"allow": {"dns": [" "]}}})", "a rule cannot be empty"},
      {R"({"x509": {"allow": {"email": ["*@example.com"]}}})", "email rules have no wildcards"},
      {R"({"x509": {"allow": {"email": ["a@b@example.com"]}}})", "more than one \"@\""},
      {R"({"x509": {"allow": {"email": [".example.com"]}}})", "cannot start with a period"},
      {R"({"x509": {"allow": {"uri": ["https://example.com"]}}})", "without a scheme"},
      {R"({"x509": {"allow": {"uri": ["example.com:443"]}}})", "cannot hold a port"},
      {R"({"x509": {"allow": {"uri": ["10.0.0.1"]}}})", "cannot be an IP address"},
      {R"({"x509": {"allow": {"cn": ["*"]}}})", "not supported for common names"},
      {R"({"x509": {"alow": {"dns": ["example.com"]}}})", "field \"authority.policy.x509.alow\": unknown key"},
      {R"({"x509": {"allow": {"commonName": ["x"]}}})", "step-ca spells it \"cn\""},
      {R"({"x509": {"allow": {"principal": ["x"]}}})", "unknown key; expected one of cn, dns, ip, email, uri"},
      {R"({"x509": {"allow": {"dns": "example.com"}}})", "must be a list of strings"},
      {R"({"x509": {"allow": {"dns": [1]}}})", "authority.policy.x509.allow.dns[0]\": must be a string"},
      {R"({"x509": {"allowWildcardNames": "yes"}})", "allowWildcardNames\": must be true or false"},
      {R"({"x509": []})", "field \"authority.policy.x509\": must be an object"},
      {R"({"x590": {}})", "unknown key; expected one of x509, ssh"},
      {R"({"ssh": {"users": {}}})", "authority.policy.ssh.users\": unknown key"},
      {R"({"ssh": {"user": {"allow": {"cn": ["x"]}}}})", "expected one of dns, ip, email, principal"},
      {R"({"ssh": {"host": {"allow": {"principal": [""]}}}})", "a rule cannot be empty"},
      {R"({"ssh": {"host": {"allowWildcardNames": true}}})", "unknown key"},
      {R"("x509")", "field \"authority.policy\": must be an object"},
  };
  for (const auto& c : cases) EXPECT_NE(ParseError(c.policy).find(c.want), std::string::npos) << c.policy << " -> " << ParseError(c.policy);
}

TEST(NamePolicy, UnicodeRulesAreComparedInTheirAsciiForm) {
  auto p = MustParse(R"({"x509": {"allow": {"dns": ["*.Bücher.example"], "email": ["@bücher.example"]}}})");
  SanSet sans;
  sans.dns = {"shop.xn--bcher-kva.example"};
  EXPECT_TRUE(p->CheckX509("", sans).ok());
  sans = SanSet();
  sans.emails = {"me@xn--bcher-kva.example"};
  EXPECT_TRUE(p->CheckX509("", sans).ok());
}

struct SshRow {
  const char* policy;
  SshCertType type;
  std::vector<std::string> principals;
  bool allow;
  const char* note;
};

TEST(NamePolicySsh, Table) {
  const char* users = R"({"ssh": {"user": {"allow": {"principal": ["alice", "bob"], "email": ["@example.com"]},
                                           "deny": {"principal": ["root"]}}}})";
  const char* hosts = R"({"ssh": {"host": {"allow": {"dns": ["*.hosts.example.com"], "ip": ["10.0.0.0/8"]},
                                           "deny": {"dns": ["db.hosts.example.com"]}}}})";
  const char* any_user = R"({"ssh": {"user": {"allow": {"principal": ["*"]}, "deny": {"principal": ["root"]}}}})";
  const char* both = R"({"ssh": {"user": {"allow": {"principal": ["alice"]}}, "host": {"allow": {"dns": ["*.example.com"]}}}})";
  const SshRow rows[] = {
      {users, SshCertType::kUser, {"alice"}, true, "listed principal"},
      {users, SshCertType::kUser, {"ALICE"}, true, "principals compare case-insensitively"},
      {users, SshCertType::kUser, {"alice", "bob"}, true, "all listed"},
      {users, SshCertType::kUser, {"alice", "carol"}, false, "one unlisted principal"},
      {users, SshCertType::kUser, {"root"}, false, "denied principal"},
      {users, SshCertType::kUser, {"alice", "alice@example.com"}, true, "email principal by domain"},
      {users, SshCertType::kUser, {"alice@other.com"}, false, "email principal, other domain"},
      {users, SshCertType::kUser, {"10.0.0.1"}, false, "IP principal in a user certificate"},
      {users, SshCertType::kHost, {"a.hosts.example.com"}, false, "user rules only: host certificates refused"},
      {any_user, SshCertType::kUser, {"anyone", "h.slatman"}, true, "\"*\" allows any principal"},
      {any_user, SshCertType::kUser, {"root"}, false, "deny wins over \"*\""},
      {hosts, SshCertType::kHost, {"web.hosts.example.com", "10.1.2.3"}, true, "host DNS and IP"},
      {hosts, SshCertType::kHost, {"db.hosts.example.com"}, false, "denied host"},
      {hosts, SshCertType::kHost, {"web.other.com"}, false, "unlisted host"},
      {hosts, SshCertType::kHost, {"192.168.0.1"}, false, "IP outside the range"},
      {hosts, SshCertType::kHost, {"alice@example.com"}, false, "email in a host policy without email rules"},
      {hosts, SshCertType::kUser, {"alice"}, false, "host rules only: user certificates refused"},
      {both, SshCertType::kUser, {"alice"}, true, "both kinds: user"},
      {both, SshCertType::kHost, {"a.example.com"}, true, "both kinds: host"},
      {both, SshCertType::kHost, {"https://a.example.com"}, false, "URI principal"},
      {"{}", SshCertType::kHost, {"anything"}, true, "no SSH policy"},
  };
  for (const auto& r : rows) {
    auto p = MustParse(r.policy);
    ASSERT_NE(p, nullptr);
    Status st = p->CheckSsh(r.type, r.principals);
    if (r.allow) EXPECT_TRUE(st.ok()) << r.note << ": " << st.message();
    else EXPECT_EQ(st.code(), Code::kPermissionDenied) << r.note;
  }
  auto p = MustParse(users);
  EXPECT_EQ(p->CheckSsh(SshCertType::kUser, {"carol"}).message(),
            "principal name \"carol\" not allowed (no allow rule of the authority policy matches it)");
  EXPECT_EQ(p->CheckSsh(SshCertType::kHost, {"h.example.com"}).message(),
            "SSH host certificates are not allowed: the authority policy has only SSH user certificate rules");
}

// A provisioner, for the combination only its id matters.
class FakeProvisioner : public Provisioner {
 public:
  explicit FakeProvisioner(std::string id) : id_(std::move(id)) {}
  ProvisionerType type() const override { return ProvisionerType::kJwk; }
  const std::string& type_name() const override { return id_; }
  const std::string& name() const override { return id_; }
  const Claims& claims() const override { return claims_; }
  const json_t* json() const override { return nullptr; }
  const X509TemplateOptions& x509_template() const override { return template_; }
  std::string id() const override { return id_; }
  std::string token_selector() const override { return id_; }
  Result<SignGrant> AuthorizeSign(const Jws&, const TokenClaims&, const Audiences&, TimePoint) const override {
    return Unauthenticated("fake");
  }
  Status AuthorizeRenew(X509*, TimePoint) const override { return Status::Ok(); }
  Result<SignGrant> AuthorizeRevoke(const Jws&, const TokenClaims&, const Audiences&, TimePoint) const override {
    return Unauthenticated("fake");
  }

 private:
  std::string id_;
  Claims claims_;
  X509TemplateOptions template_;
};

TEST(NamePolicies, ProvisionerAndAuthorityMustBothAllow) {
  NamePolicies policies;
  policies.SetAuthority(MustParse(R"({"x509": {"allow": {"dns": ["*.example.com", "*.corp.example"]}}})"));
  policies.SetProvisioner("jwk/ops", MustParse(R"({"x509": {"allow": {"dns": ["*.example.com", "*.other.example"]}}})",
                                               "the policy of provisioner \"ops\""));
  FakeProvisioner ops("jwk/ops"), other("jwk/other");
  SanSet sans;
  sans.dns = {"a.example.com"};
  EXPECT_TRUE(policies.CheckX509(&ops, "a.example.com", sans).ok());
  sans.dns = {"a.other.example"};  // the provisioner allows it, the authority does not
  Status st = policies.CheckX509(&ops, "", sans);
  EXPECT_EQ(st.code(), Code::kPermissionDenied);
  EXPECT_EQ(st.message(),
            "dns name \"a.other.example\" not allowed (no allow rule of the authority policy matches it)");
  sans.dns = {"a.corp.example"};  // the authority allows it, the provisioner does not
  st = policies.CheckX509(&ops, "", sans);
  EXPECT_NE(st.message().find("the policy of provisioner \"ops\""), std::string::npos) << st.message();
  // A provisioner without a policy: the authority's alone.
  EXPECT_TRUE(policies.CheckX509(&other, "", sans).ok());
  EXPECT_TRUE(policies.CheckX509(nullptr, "", sans).ok());
  sans.dns = {"a.other.example"};
  EXPECT_FALSE(policies.CheckX509(nullptr, "", sans).ok());
  // ACME identifiers: the same two.
  EXPECT_TRUE(policies.CheckIdentifier(&ops, "dns", "x.example.com").ok());
  st = policies.CheckIdentifier(&ops, "dns", "x.corp.example");
  EXPECT_EQ(st.code(), Code::kPermissionDenied);
  EXPECT_EQ(st.message().rfind("dns name \"x.corp.example\" not allowed", 0), 0u) << st.message();
}

TEST(NamePolicies, SshThroughBoth) {
  NamePolicies policies;
  policies.SetAuthority(MustParse(R"({"ssh": {"user": {"deny": {"principal": ["root"]}}}})"));
  policies.SetProvisioner("jwk/ops", MustParse(R"({"ssh": {"user": {"allow": {"principal": ["alice", "root"]}}}})"));
  FakeProvisioner ops("jwk/ops");
  EXPECT_TRUE(policies.CheckSsh(&ops, SshCertType::kUser, {"alice"}).ok());
  EXPECT_EQ(policies.CheckSsh(&ops, SshCertType::kUser, {"root"}).code(), Code::kPermissionDenied);
  EXPECT_EQ(policies.CheckSsh(&ops, SshCertType::kUser, {"bob"}).code(), Code::kPermissionDenied);
  // Both have only user rules: host certificates are closed.
  EXPECT_EQ(policies.CheckSsh(&ops, SshCertType::kHost, {"h.example.com"}).code(), Code::kPermissionDenied);
  EXPECT_TRUE(NamePolicies().CheckSsh(&ops, SshCertType::kHost, {"h.example.com"}).ok());
}

}  // namespace
}  // namespace stepca
