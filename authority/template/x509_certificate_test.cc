// Decoding a rendered X.509 template: each field step-ca reads, in the
// forms it accepts, and a refusal for each kind of bad value.
#include "authority/template/x509_certificate.h"

#include <gtest/gtest.h>

#include <string>

namespace stepca {
namespace tmpl {
namespace {

X509CertificateTemplate Ok(const std::string& json) {
  auto r = ParseX509CertificateJson(json);
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() ? r.value() : X509CertificateTemplate();
}

std::string Refused(const std::string& json) {
  auto r = ParseX509CertificateJson(json);
  EXPECT_FALSE(r.ok()) << json;
  if (r.ok()) return "";
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  return r.status().message();
}

TEST(X509CertificateJson, SubjectAndIssuer) {
  auto c = Ok(R"({"subject": {"commonName": "a.example.com", "organization": "Org",
                  "organizationalUnit": ["U1", "U2"], "country": "DE", "serialNumber": "42",
                  "extraNames": [{"type": "1.2.840.113549.1.9.1", "value": "x@example.com"}]},
                  "issuer": "Issuing CA"})");
  EXPECT_EQ(c.subject.common_name, "a.example.com");
  EXPECT_EQ(c.subject.organization, std::vector<std::string>{"Org"});
  EXPECT_EQ(c.subject.organizational_unit, (std::vector<std::string>{"U1", "U2"}));
  EXPECT_EQ(c.subject.country, std::vector<std::string>{"DE"});
  EXPECT_EQ(c.subject.serial_number, "42");
  ASSERT_EQ(c.subject.extra_names.size(), 1u);
  EXPECT_EQ(c.subject.extra_names[0].first, "1.2.840.113549.1.9.1");
  // A string is the common name alone.
  EXPECT_EQ(c.issuer.common_name, "Issuing CA");
  // Keys match ignoring case, as encoding/json does; unknown keys are ignored.
  EXPECT_EQ(Ok(R"({"Subject": {"CommonName": "x"}, "whatever": 1})").subject.common_name, "x");

  EXPECT_EQ(Refused(R"({"subject": 5})"),
            "error unmarshaling certificate: subject: must be a string or an object");
  EXPECT_EQ(Refused(R"({"subject": {"organization": [1]}})"),
            "error unmarshaling certificate: subject.organization[0]: must be a string");
  EXPECT_EQ(Refused(R"({"subject": {"extraNames": [{"type": "x.y", "value": "v"}]}})"),
            "error unmarshaling certificate: subject.extraNames[0].type: \"x.y\" is not an ASN1 "
            "object identifier");
}

TEST(X509CertificateJson, UntypedAndTypedSans) {
  auto c = Ok(R"({"dnsNames": "a.example.com", "emailAddresses": ["m@example.com"],
                  "ipAddresses": ["10.0.0.1", "2001:db8:0::1"], "uris": "spiffe://x/y",
                  "sans": [{"type": "dns", "value": "b.example.com"},
                           {"type": "IP", "value": "127.0.0.1"},
                           {"type": "auto", "value": "u@example.com"},
                           {"value": "https://example.com/p"},
                           {"type": "", "value": "::1"},
                           {"type": "auto", "value": "c.example.com"}]})");
  EXPECT_EQ(c.dns_names, std::vector<std::string>{"a.example.com"});
  EXPECT_EQ(c.email_addresses, std::vector<std::string>{"m@example.com"});
  EXPECT_EQ(c.ip_addresses, (std::vector<std::string>{"10.0.0.1", "2001:db8::1"}));
  EXPECT_EQ(c.uris, std::vector<std::string>{"spiffe://x/y"});
  ASSERT_EQ(c.sans.size(), 6u);
  const char* want[][2] = {{"dns", "b.example.com"}, {"ip", "127.0.0.1"},
                           {"email", "u@example.com"}, {"uri", "https://example.com/p"},
                           {"ip", "::1"}, {"dns", "c.example.com"}};
  for (size_t i = 0; i < 6; ++i) {
    EXPECT_EQ(c.sans[i].type, want[i][0]) << i;
    EXPECT_EQ(c.sans[i].value, want[i][1]) << i;
  }
  EXPECT_EQ(Refused(R"({"ipAddresses": ["10.0.0.300"]})"),
            "error unmarshaling certificate: ipAddresses: ip 10.0.0.300 is not valid");
  EXPECT_EQ(Refused(R"({"sans": [{"type": "ip", "value": "nope"}]})"),
            "error unmarshaling certificate: sans[0].value: ip nope is not valid");
  EXPECT_EQ(Refused(R"({"sans": [{"type": "x400Address", "value": "v"}]})"),
            "error unmarshaling certificate: sans[0].type: unsupported subject alternative name "
            "type x400address");
  EXPECT_EQ(Refused(R"({"sans": "a.example.com"})"),
            "error unmarshaling certificate: sans: must be a list");
  EXPECT_EQ(Refused(R"({"dnsNames": {"a": 1}})"),
            "error unmarshaling certificate: dnsNames: must be a string or a list of strings");
}

TEST(X509CertificateJson, KeyUsageAndExtKeyUsage) {
  auto c = Ok(R"({"keyUsage": ["digitalSignature", "key_encipherment", "CertSign", "crlSign"],
                  "extKeyUsage": ["serverAuth", "ClientAuth", "ocsp_signing"],
                  "unknownExtKeyUsage": "1.3.6.1.4.1.311.20.2.2"})");
  EXPECT_EQ(c.key_usage, kKuDigitalSignature | kKuKeyEncipherment | kKuCertSign | kKuCrlSign);
  EXPECT_EQ(c.ext_key_usage, (std::vector<std::string>{"serverauth", "clientauth", "ocspsigning"}));
  EXPECT_EQ(c.unknown_ext_key_usage, std::vector<std::string>{"1.3.6.1.4.1.311.20.2.2"});
  EXPECT_EQ(Ok(R"({"keyUsage": "decipherOnly"})").key_usage, kKuDecipherOnly);
  EXPECT_EQ(Refused(R"({"keyUsage": ["signing"]})"),
            "error unmarshaling certificate: keyUsage: unsupported keyUsage signing");
  EXPECT_EQ(Refused(R"({"extKeyUsage": ["webAuth"]})"),
            "error unmarshaling certificate: extKeyUsage: unsupported extKeyUsage webAuth");
  EXPECT_EQ(Refused(R"({"unknownExtKeyUsage": ["3.1"]})"),
            "error unmarshaling certificate: unknownExtKeyUsage: \"3.1\" is not an ASN1 object "
            "identifier");
}

TEST(X509CertificateJson, Extensions) {
  // 2.5.29.19 with SEQUENCE {} (0x30 0x00), then a UTF8String "hi".
  auto c = Ok(R"({"extensions": [{"id": "2.5.29.19", "critical": true, "value": "MAA="},
                                 {"id": "1.3.6.1.4.1.99999.1", "value": "DAJoaQ=="}]})");
  ASSERT_EQ(c.extensions.size(), 2u);
  EXPECT_EQ(c.extensions[0].oid, "2.5.29.19");
  EXPECT_TRUE(c.extensions[0].critical);
  EXPECT_EQ(c.extensions[0].der, std::string("\x30\x00", 2));
  EXPECT_FALSE(c.extensions[1].critical);
  EXPECT_EQ(c.extensions[1].der, "\x0c\x02hi");

  EXPECT_EQ(Refused(R"({"extensions": [{"id": "1.2.3", "value": "not base64!"}]})"),
            "error unmarshaling certificate: extensions[0].value: is not standard base64");
  // Length 5 with 2 bytes of content; and a valid element followed by junk.
  EXPECT_EQ(Refused(R"({"extensions": [{"id": "1.2.3", "value": "DAVoaQ=="}]})"),
            "error unmarshaling certificate: extensions[0].value: is not one DER-encoded ASN.1 "
            "value");
  EXPECT_NE(Refused(R"({"extensions": [{"id": "1.2.3", "value": "MAAA"}]})").find("DER"),
            std::string::npos);
  EXPECT_NE(Refused(R"({"extensions": [{"id": "1.2.3", "value": ""}]})").find("DER"),
            std::string::npos);
  EXPECT_EQ(Refused(R"({"extensions": [{"id": "", "value": "MAA="}]})"),
            "error unmarshaling certificate: extensions[0].id: \"\" is not an ASN1 object identifier");
  EXPECT_EQ(Refused(R"({"extensions": [{"id": "1.2.3", "critical": "yes", "value": "MAA="}]})"),
            "error unmarshaling certificate: extensions[0].critical: must be true or false");
}

TEST(X509CertificateJson, UrlsPoliciesAndConstraints) {
  auto c = Ok(R"({"crlDistributionPoints": ["http://crl.example.com/crl/ca.crl"],
                  "issuingCertificateURL": "http://ca.example.com/ca.crt",
                  "ocspServer": ["http://ocsp.example.com"],
                  "policyIdentifiers": ["2.23.140.1.2.1", "1.3.6.1.4.1.99999"],
                  "basicConstraints": {"isCA": true, "maxPathLen": 0},
                  "nameConstraints": {"critical": true, "permittedDNSDomains": ".example.com",
                                      "excludedIPRanges": ["10.0.0.0/8", "2001:db8::/32"],
                                      "permittedEmailAddresses": ["example.com"],
                                      "excludedURIDomains": ["evil.example.com"]},
                  "signatureAlgorithm": "ecdsa-sha384", "serialNumber": "0x1F"})");
  EXPECT_EQ(c.crl_distribution_points, std::vector<std::string>{"http://crl.example.com/crl/ca.crl"});
  EXPECT_EQ(c.issuing_certificate_url, std::vector<std::string>{"http://ca.example.com/ca.crt"});
  EXPECT_EQ(c.ocsp_server, std::vector<std::string>{"http://ocsp.example.com"});
  EXPECT_EQ(c.policy_identifiers.size(), 2u);
  ASSERT_TRUE(c.basic_constraints.has_value());
  EXPECT_TRUE(c.basic_constraints->is_ca);
  EXPECT_EQ(c.basic_constraints->max_path_len, 0);
  ASSERT_TRUE(c.name_constraints.has_value());
  EXPECT_TRUE(c.name_constraints->critical);
  EXPECT_EQ(c.name_constraints->permitted_dns, std::vector<std::string>{".example.com"});
  EXPECT_EQ(c.name_constraints->excluded_ip_ranges.size(), 2u);
  EXPECT_EQ(c.signature_algorithm, "ECDSA-SHA384");
  EXPECT_EQ(c.serial_number, "31");
  EXPECT_EQ(Ok(R"({"serialNumber": 7})").serial_number, "7");
  EXPECT_FALSE(Ok("{}").basic_constraints.has_value());

  EXPECT_EQ(Refused(R"({"basicConstraints": {"isCA": true, "maxPathLen": "1"}})"),
            "error unmarshaling certificate: basicConstraints.maxPathLen: must be an integer "
            "from -1 to 1000");
  EXPECT_EQ(Refused(R"({"nameConstraints": {"permittedIPRanges": ["10.0.0.0"]}})"),
            "error unmarshaling certificate: nameConstraints.permittedIPRanges: invalid CIDR "
            "address: 10.0.0.0");
  EXPECT_EQ(Refused(R"({"nameConstraints": {"excludedIPRanges": "10.0.0.0/33"}})"),
            "error unmarshaling certificate: nameConstraints.excludedIPRanges: invalid CIDR "
            "address: 10.0.0.0/33");
  EXPECT_EQ(Refused(R"({"policyIdentifiers": ["1.2.x"]})"),
            "error unmarshaling certificate: policyIdentifiers: \"1.2.x\" is not an ASN1 object "
            "identifier");
  EXPECT_EQ(Refused(R"({"crlDistributionPoints": 1})"),
            "error unmarshaling certificate: crlDistributionPoints: must be a string or a list of "
            "strings");
  EXPECT_EQ(Refused(R"({"signatureAlgorithm": "SHA256-DSA2"})"),
            "error unmarshaling certificate: signatureAlgorithm: unsupported signatureAlgorithm "
            "SHA256-DSA2");
  EXPECT_EQ(Refused(R"({"serialNumber": "12ab"})"),
            "error unmarshaling certificate: serialNumber: serialNumber 12ab is not valid");
}

TEST(X509CertificateJson, OutputThatIsNotAJsonObject) {
  EXPECT_EQ(Refused("[1]"),
            "error unmarshaling certificate: the template must render a JSON object");
  EXPECT_EQ(Refused("{\"subject\": {}").rfind("error unmarshaling certificate: ", 0), 0u);
  EXPECT_NE(Refused("{\"a\": 1,}").find("line 1"), std::string::npos);
  EXPECT_EQ(Refused("").rfind("error unmarshaling certificate: ", 0), 0u);
}

// Go's json.Decoder reads one value: what follows it is never looked at
// (step's production guide prints its intermediate template with a stray
// closing brace, and step accepts it).
TEST(X509CertificateJson, TextAfterTheObjectIsIgnored) {
  auto c = ParseX509CertificateJson(R"({"subject": "x", "keyUsage": ["certSign"]} })");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->subject.common_name, "x");
  EXPECT_EQ(c->key_usage, unsigned{kKuCertSign});
}

}  // namespace
}  // namespace tmpl
}  // namespace stepca
