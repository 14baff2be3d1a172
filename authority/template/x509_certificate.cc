#include "authority/template/x509_certificate.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <openssl/asn1.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <strings.h>

#include <cctype>
#include <cstdlib>

#include "authority/ossl.h"
#include "authority/x509/csr.h"
#include "authority/template/rendered_json.h"

namespace stepca {
namespace tmpl {
namespace {

// Thrown no further than ParseX509CertificateJson.
struct Bad {
  std::string field, reason;
};

// encoding/json: an exact key first, then one that matches ignoring case.
const json_t* Get(const json_t* obj, const char* key) {
  if (!json_is_object(obj)) return nullptr;
  if (const json_t* v = json_object_get(obj, key)) return v;
  const char* k;
  json_t* v;
  json_object_foreach(const_cast<json_t*>(obj), k, v)
    if (strcasecmp(k, key) == 0) return v;
  return nullptr;
}

std::string Quote(const std::string& s) { return "\"" + s + "\""; }

bool Absent(const json_t* v) { return v == nullptr || json_is_null(v); }

std::string String(const json_t* v, const std::string& field) {
  if (Absent(v)) return "";
  if (!json_is_string(v)) throw Bad{field, "must be a string"};
  return std::string(json_string_value(v), json_string_length(v));
}

// x509util.MultiString: one string or a list of strings.
std::vector<std::string> Multi(const json_t* v, const std::string& field) {
  std::vector<std::string> out;
  if (Absent(v)) return out;
  if (json_is_string(v)) return {String(v, field)};
  if (!json_is_array(v)) throw Bad{field, "must be a string or a list of strings"};
  size_t i;
  const json_t* e;
  json_array_foreach(v, i, e) {
    if (!json_is_string(e)) throw Bad{field + "[" + std::to_string(i) + "]", "must be a string"};
    out.push_back(String(e, field));
  }
  return out;
}

bool Bool(const json_t* v, const std::string& field) {
  if (Absent(v)) return false;
  if (!json_is_boolean(v)) throw Bad{field, "must be true or false"};
  return json_is_true(v);
}

// Encodable in DER: two or more arcs, the first 0..2, the second below 40
// under 0 and 1.
bool IsOid(const std::string& s) {
  if (s.empty()) return false;
  int arcs = 0;
  long first = 0, second = 0;
  size_t i = 0;
  while (i <= s.size()) {
    size_t j = s.find('.', i);
    if (j == std::string::npos) j = s.size();
    if (j == i || j - i > 18) return false;
    for (size_t k = i; k < j; ++k)
      if (!std::isdigit(static_cast<unsigned char>(s[k]))) return false;
    const long n = std::strtol(s.c_str() + i, nullptr, 10);
    if (arcs == 0) first = n;
    if (arcs == 1) second = n;
    ++arcs;
    i = j + 1;
  }
  return arcs >= 2 && first <= 2 && (first == 2 || second < 40);
}

std::string Oid(const json_t* v, const std::string& field) {
  const std::string s = String(v, field);
  if (!IsOid(s)) throw Bad{field, Quote(s) + " is not an ASN1 object identifier"};
  return s;
}

std::vector<std::string> Oids(const json_t* v, const std::string& field) {
  std::vector<std::string> out = Multi(v, field);
  for (const auto& s : out)
    if (!IsOid(s)) throw Bad{field, Quote(s) + " is not an ASN1 object identifier"};
  return out;
}

std::string CanonicalIpOf(const std::string& s) {
  unsigned char buf[16];
  char text[INET6_ADDRSTRLEN];
  if (inet_pton(AF_INET, s.c_str(), buf) == 1) return inet_ntop(AF_INET, buf, text, sizeof text);
  if (inet_pton(AF_INET6, s.c_str(), buf) == 1) return inet_ntop(AF_INET6, buf, text, sizeof text);
  return "";
}

std::vector<std::string> Ips(const json_t* v, const std::string& field) {
  std::vector<std::string> out;
  for (const auto& s : Multi(v, field)) {
    const std::string ip = CanonicalIpOf(s);
    if (ip.empty()) throw Bad{field, "ip " + s + " is not valid"};
    out.push_back(ip);
  }
  return out;
}

std::vector<std::string> Cidrs(const json_t* v, const std::string& field) {
  std::vector<std::string> out = Multi(v, field);
  for (const auto& s : out) {
    const size_t slash = s.find('/');
    bool ok = slash != std::string::npos && slash + 1 < s.size();
    if (ok) {
      const std::string ip = CanonicalIpOf(s.substr(0, slash));
      const std::string bits = s.substr(slash + 1);
      ok = !ip.empty() && bits.size() <= 3 &&
           bits.find_first_not_of("0123456789") == std::string::npos &&
           std::atoi(bits.c_str()) <= (ip.find(':') == std::string::npos ? 32 : 128);
    }
    if (!ok) throw Bad{field, "invalid CIDR address: " + s};
  }
  return out;
}

X509Name Name(const json_t* v, const std::string& field) {
  X509Name n;
  if (Absent(v)) return n;
  // A string is the common name alone.
  if (json_is_string(v)) {
    n.common_name = String(v, field);
    return n;
  }
  if (!json_is_object(v)) throw Bad{field, "must be a string or an object"};
  n.country = Multi(Get(v, "country"), field + ".country");
  n.organization = Multi(Get(v, "organization"), field + ".organization");
  n.organizational_unit = Multi(Get(v, "organizationalUnit"), field + ".organizationalUnit");
  n.locality = Multi(Get(v, "locality"), field + ".locality");
  n.province = Multi(Get(v, "province"), field + ".province");
  n.street_address = Multi(Get(v, "streetAddress"), field + ".streetAddress");
  n.postal_code = Multi(Get(v, "postalCode"), field + ".postalCode");
  n.serial_number = String(Get(v, "serialNumber"), field + ".serialNumber");
  n.common_name = String(Get(v, "commonName"), field + ".commonName");
  const json_t* extra = Get(v, "extraNames");
  if (!Absent(extra)) {
    if (!json_is_array(extra)) throw Bad{field + ".extraNames", "must be a list"};
    size_t i;
    const json_t* e;
    json_array_foreach(extra, i, e) {
      const std::string f = field + ".extraNames[" + std::to_string(i) + "]";
      n.extra_names.emplace_back(Oid(Get(e, "type"), f + ".type"), String(Get(e, "value"), f + ".value"));
    }
  }
  return n;
}

// x509util's SplitSANs order of guesses for "auto".
std::string AutoType(const std::string& value) {
  if (!CanonicalIpOf(value).empty()) return "ip";
  const SanSet s = ClassifySans({value});
  if (!s.uris.empty()) return "uri";
  if (!s.emails.empty()) return "email";
  return "dns";
}

std::vector<X509San> Sans(const json_t* v) {
  std::vector<X509San> out;
  if (Absent(v)) return out;
  if (!json_is_array(v)) throw Bad{"sans", "must be a list"};
  size_t i;
  const json_t* e;
  json_array_foreach(v, i, e) {
    const std::string f = "sans[" + std::to_string(i) + "]";
    if (!json_is_object(e)) throw Bad{f, "must be an object with type and value"};
    X509San san;
    std::string type = String(Get(e, "type"), f + ".type");
    for (char& c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    san.value = String(Get(e, "value"), f + ".value");
    if (type.empty() || type == "auto") type = AutoType(san.value);
    if (type == "ip") {
      const std::string ip = CanonicalIpOf(san.value);
      if (ip.empty()) throw Bad{f + ".value", "ip " + san.value + " is not valid"};
      san.value = ip;
    } else if (type != "dns" && type != "email" && type != "uri") {
      throw Bad{f + ".type", "unsupported subject alternative name type " + type};
    }
    san.type = type;
    out.push_back(std::move(san));
  }
  return out;
}

std::string Lowered(std::string s) {
  std::string out;
  for (char c : s)
    if (c != '_') out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

unsigned KeyUsage(const json_t* v) {
  static const std::pair<const char*, unsigned> kNames[] = {
      {"digitalsignature", kKuDigitalSignature}, {"contentcommitment", kKuContentCommitment},
      {"keyencipherment", kKuKeyEncipherment},   {"dataencipherment", kKuDataEncipherment},
      {"keyagreement", kKuKeyAgreement},         {"certsign", kKuCertSign},
      {"crlsign", kKuCrlSign},                   {"encipheronly", kKuEncipherOnly},
      {"decipheronly", kKuDecipherOnly}};
  unsigned ku = 0;
  for (const auto& s : Multi(v, "keyUsage")) {
    unsigned bit = 0;
    for (const auto& [name, b] : kNames)
      if (Lowered(s) == name) bit = b;
    if (bit == 0) throw Bad{"keyUsage", "unsupported keyUsage " + s};
    ku |= bit;
  }
  return ku;
}

std::vector<std::string> ExtKeyUsage(const json_t* v) {
  static const char* const kNames[] = {
      "any", "serverauth", "clientauth", "codesigning", "emailprotection", "ipsecendsystem",
      "ipsectunnel", "ipsecuser", "timestamping", "ocspsigning", "microsoftservergatedcrypto",
      "netscapeservergatedcrypto", "microsoftcommercialcodesigning", "microsoftkernelcodesigning"};
  std::vector<std::string> out;
  for (const auto& s : Multi(v, "extKeyUsage")) {
    const std::string l = Lowered(s);
    bool known = false;
    for (const char* n : kNames) known = known || l == n;
    if (!known) throw Bad{"extKeyUsage", "unsupported extKeyUsage " + s};
    out.push_back(l);
  }
  return out;
}

// Go's []byte in JSON: standard base64 with padding.
bool DecodeBase64(const std::string& in, std::string* out) {
  if (in.size() % 4 != 0) return false;
  if (in.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") !=
      std::string::npos)
    return false;
  const size_t eq = in.find('=');
  if (eq != std::string::npos && (in.size() - eq > 2 || in.find_first_not_of('=', eq) != std::string::npos))
    return false;
  out->assign(in.size() / 4 * 3 + 1, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out->data()),
                                reinterpret_cast<const unsigned char*>(in.data()),
                                static_cast<int>(in.size()));
  if (n < 0) return false;
  size_t len = static_cast<size_t>(n);
  if (eq != std::string::npos) len -= in.size() - eq;
  out->resize(len);
  return true;
}

// Exactly one DER element, nothing after it.
bool IsOneDerElement(const std::string& der) {
  if (der.empty()) return false;
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  long len = 0;
  int tag = 0, cls = 0;
  const int r = ASN1_get_object(&p, &len, &tag, &cls, static_cast<long>(der.size()));
  if (r & 0x80) return false;
  if (r == 0x21) return false;  // indefinite length: BER, not DER
  const size_t header = static_cast<size_t>(p - reinterpret_cast<const unsigned char*>(der.data()));
  return header + static_cast<size_t>(len) == der.size();
}

std::vector<X509Extension> Extensions(const json_t* v) {
  std::vector<X509Extension> out;
  if (Absent(v)) return out;
  if (!json_is_array(v)) throw Bad{"extensions", "must be a list"};
  size_t i;
  const json_t* e;
  json_array_foreach(v, i, e) {
    const std::string f = "extensions[" + std::to_string(i) + "]";
    if (!json_is_object(e)) throw Bad{f, "must be an object with id, critical and value"};
    X509Extension x;
    x.oid = Oid(Get(e, "id"), f + ".id");
    x.critical = Bool(Get(e, "critical"), f + ".critical");
    const std::string b64 = String(Get(e, "value"), f + ".value");
    if (!DecodeBase64(b64, &x.der)) throw Bad{f + ".value", "is not standard base64"};
    if (!IsOneDerElement(x.der)) throw Bad{f + ".value", "is not one DER-encoded ASN.1 value"};
    out.push_back(std::move(x));
  }
  return out;
}

// big.Int SetString(s, 0) for the forms step's users write; or a JSON integer.
std::string SerialNumber(const json_t* v) {
  if (Absent(v)) return "";
  if (json_is_integer(v)) {
    if (json_integer_value(v) < 0) throw Bad{"serialNumber", "must not be negative"};
    return std::to_string(json_integer_value(v));
  }
  const std::string s = String(v, "serialNumber");
  BIGNUM* bn = nullptr;
  int base = 10;
  std::string digits = s;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    base = 16;
    digits = s.substr(2);
  }
  const int n = base == 16 ? BN_hex2bn(&bn, digits.c_str()) : BN_dec2bn(&bn, digits.c_str());
  const bool ok = n > 0 && static_cast<size_t>(n) == digits.size() && !BN_is_negative(bn);
  std::string out;
  if (ok) {
    char* dec = BN_bn2dec(bn);
    out = dec;
    OPENSSL_free(dec);
  }
  BN_free(bn);
  if (!ok) throw Bad{"serialNumber", "serialNumber " + s + " is not valid"};
  return out;
}

std::string SignatureAlgorithm(const json_t* v) {
  static const char* const kNames[] = {
      "MD2-RSA",      "MD5-RSA",      "SHA1-RSA",      "SHA256-RSA",    "SHA384-RSA",
      "SHA512-RSA",   "DSA-SHA1",     "DSA-SHA256",    "ECDSA-SHA1",    "ECDSA-SHA256",
      "ECDSA-SHA384", "ECDSA-SHA512", "SHA256-RSAPSS", "SHA384-RSAPSS", "SHA512-RSAPSS",
      "Ed25519"};
  const std::string s = String(v, "signatureAlgorithm");
  if (s.empty()) return "";
  for (const char* n : kNames)
    if (strcasecmp(n, s.c_str()) == 0) return n;
  throw Bad{"signatureAlgorithm", "unsupported signatureAlgorithm " + s};
}

}  // namespace

Result<X509CertificateTemplate> ParseX509CertificateJson(std::string_view rendered) {
  STEPCA_ASSIGN_OR_RETURN(JsonPtr root, LoadRenderedObject(rendered));
  const json_t* r = root.get();
  X509CertificateTemplate c;
  try {
    c.subject = Name(Get(r, "subject"), "subject");
    c.issuer = Name(Get(r, "issuer"), "issuer");
    c.serial_number = SerialNumber(Get(r, "serialNumber"));
    c.dns_names = Multi(Get(r, "dnsNames"), "dnsNames");
    c.email_addresses = Multi(Get(r, "emailAddresses"), "emailAddresses");
    c.ip_addresses = Ips(Get(r, "ipAddresses"), "ipAddresses");
    c.uris = Multi(Get(r, "uris"), "uris");
    c.sans = Sans(Get(r, "sans"));
    c.extensions = Extensions(Get(r, "extensions"));
    c.key_usage = KeyUsage(Get(r, "keyUsage"));
    c.ext_key_usage = ExtKeyUsage(Get(r, "extKeyUsage"));
    c.unknown_ext_key_usage = Oids(Get(r, "unknownExtKeyUsage"), "unknownExtKeyUsage");
    c.ocsp_server = Multi(Get(r, "ocspServer"), "ocspServer");
    c.issuing_certificate_url = Multi(Get(r, "issuingCertificateURL"), "issuingCertificateURL");
    c.crl_distribution_points = Multi(Get(r, "crlDistributionPoints"), "crlDistributionPoints");
    c.policy_identifiers = Oids(Get(r, "policyIdentifiers"), "policyIdentifiers");
    if (const json_t* bc = Get(r, "basicConstraints"); !Absent(bc)) {
      if (!json_is_object(bc)) throw Bad{"basicConstraints", "must be an object"};
      X509BasicConstraints b;
      b.is_ca = Bool(Get(bc, "isCA"), "basicConstraints.isCA");
      const json_t* mpl = Get(bc, "maxPathLen");
      if (!Absent(mpl)) {
        if (!json_is_integer(mpl) || json_integer_value(mpl) < -1 || json_integer_value(mpl) > 1000)
          throw Bad{"basicConstraints.maxPathLen", "must be an integer from -1 to 1000"};
        b.max_path_len = static_cast<int>(json_integer_value(mpl));
      }
      c.basic_constraints = b;
    }
    if (const json_t* nc = Get(r, "nameConstraints"); !Absent(nc)) {
      if (!json_is_object(nc)) throw Bad{"nameConstraints", "must be an object"};
      X509NameConstraints n;
      const std::string f = "nameConstraints.";
      n.critical = Bool(Get(nc, "critical"), f + "critical");
      n.permitted_dns = Multi(Get(nc, "permittedDNSDomains"), f + "permittedDNSDomains");
      n.excluded_dns = Multi(Get(nc, "excludedDNSDomains"), f + "excludedDNSDomains");
      n.permitted_ip_ranges = Cidrs(Get(nc, "permittedIPRanges"), f + "permittedIPRanges");
      n.excluded_ip_ranges = Cidrs(Get(nc, "excludedIPRanges"), f + "excludedIPRanges");
      n.permitted_emails = Multi(Get(nc, "permittedEmailAddresses"), f + "permittedEmailAddresses");
      n.excluded_emails = Multi(Get(nc, "excludedEmailAddresses"), f + "excludedEmailAddresses");
      n.permitted_uri_domains = Multi(Get(nc, "permittedURIDomains"), f + "permittedURIDomains");
      n.excluded_uri_domains = Multi(Get(nc, "excludedURIDomains"), f + "excludedURIDomains");
      c.name_constraints = n;
    }
    c.signature_algorithm = SignatureAlgorithm(Get(r, "signatureAlgorithm"));
  } catch (const Bad& b) {
    return InvalidArgument("error unmarshaling certificate: " + b.field + ": " + b.reason);
  }
  return c;
}

}  // namespace tmpl
}  // namespace stepca
