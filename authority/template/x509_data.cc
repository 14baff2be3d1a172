#include "authority/template/x509_data.h"

#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>
#include <arpa/inet.h>

#include <memory>
#include <utility>

#include "authority/x509/csr.h"

namespace stepca {
namespace tmpl {
namespace {

using Fields = Value::JsonFields;

std::shared_ptr<const Fields> NameFields() {
  static const auto f = std::make_shared<const Fields>(Fields{
      {"Country", "country", true},
      {"Organization", "organization", true},
      {"OrganizationalUnit", "organizationalUnit", true},
      {"Locality", "locality", true},
      {"Province", "province", true},
      {"StreetAddress", "streetAddress", true},
      {"PostalCode", "postalCode", true},
      {"SerialNumber", "serialNumber", true},
      {"CommonName", "commonName", true},
      {"ExtraNames", "extraNames", true},
  });
  return f;
}

std::shared_ptr<const Fields> SanFields() {
  static const auto f = std::make_shared<const Fields>(Fields{
      {"Type", "type", false}, {"Value", "value", false}, {"ASN1Value", "asn1Value", true}});
  return f;
}

std::shared_ptr<const Fields> ExtensionFields() {
  static const auto f = std::make_shared<const Fields>(
      Fields{{"ID", "id", false}, {"Critical", "critical", false}, {"Value", "value", false}});
  return f;
}

// x509util.CertificateRequest; PublicKey and PublicKeyAlgorithm are `json:"-"`.
std::shared_ptr<const Fields> CrFields() {
  static const auto f = std::make_shared<const Fields>(Fields{
      {"Version", "version", false},
      {"Subject", "subject", false},
      {"DNSNames", "dnsNames", false},
      {"EmailAddresses", "emailAddresses", false},
      {"IPAddresses", "ipAddresses", false},
      {"URIs", "uris", false},
      {"SANs", "sans", false},
      {"Extensions", "extensions", false},
      {"SignatureAlgorithm", "signatureAlgorithm", false},
      {"PublicKey", "", false},
      {"PublicKeyAlgorithm", "", false},
  });
  return f;
}

Value Struct(Value::Map m, std::shared_ptr<const Fields> fields, const char* go_type) {
  return Value::MakeMap(std::move(m)).WithJsonFields(std::move(fields)).WithType(go_type);
}

// A Go nil slice when empty: toJson writes null, as Go does.
Value Strings(const std::vector<std::string>& v) {
  if (v.empty()) return Value();
  Value::List l;
  for (const auto& s : v) l.push_back(Value::String(s));
  return Value::MakeList(std::move(l));
}

Value San(const char* type, const std::string& value) {
  Value::Map m;
  m["Type"] = Value::String(type);
  m["Value"] = Value::String(value);
  return Struct(std::move(m), SanFields(), "x509util.SubjectAlternativeName");
}

std::string Text(const ASN1_STRING* s) {
  unsigned char* utf8 = nullptr;
  const int n = ASN1_STRING_to_UTF8(&utf8, s);
  if (n < 0) return "";
  std::string out(reinterpret_cast<char*>(utf8), static_cast<size_t>(n));
  OPENSSL_free(utf8);
  return out;
}

Value NameOf(const X509_NAME* name) {
  struct Attr {
    int nid;
    const char* field;
  };
  static const Attr kAttrs[] = {
      {NID_countryName, "Country"},
      {NID_organizationName, "Organization"},
      {NID_organizationalUnitName, "OrganizationalUnit"},
      {NID_localityName, "Locality"},
      {NID_stateOrProvinceName, "Province"},
      {NID_streetAddress, "StreetAddress"},
      {NID_postalCode, "PostalCode"},
  };
  Value::Map m;
  for (const Attr& a : kAttrs) {
    std::vector<std::string> values;
    for (int i = X509_NAME_get_index_by_NID(name, a.nid, -1); i >= 0;
         i = X509_NAME_get_index_by_NID(name, a.nid, i))
      values.push_back(Text(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i))));
    m[a.field] = Strings(values);
  }
  // Go's pkix.Name keeps the last serialNumber and commonName.
  for (auto [nid, field] : {std::pair{NID_serialNumber, "SerialNumber"},
                            std::pair{NID_commonName, "CommonName"}}) {
    std::string v;
    for (int i = X509_NAME_get_index_by_NID(name, nid, -1); i >= 0;
         i = X509_NAME_get_index_by_NID(name, nid, i))
      v = Text(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)));
    m[field] = Value::String(v);
  }
  return Struct(std::move(m), NameFields(), "x509util.Subject");
}

std::string Base64(const unsigned char* p, int n) {
  if (n <= 0) return "";
  std::string out(static_cast<size_t>(4 * ((n + 2) / 3)) + 1, '\0');
  const int len = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), p, n);
  out.resize(static_cast<size_t>(len));
  return out;
}

Value ExtensionsOf(X509_REQ* csr) {
  STACK_OF(X509_EXTENSION)* exts = X509_REQ_get_extensions(csr);
  if (exts == nullptr || sk_X509_EXTENSION_num(exts) == 0) {
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    return Value();
  }
  Value::List l;
  for (int i = 0; i < sk_X509_EXTENSION_num(exts); ++i) {
    X509_EXTENSION* e = sk_X509_EXTENSION_value(exts, i);
    char oid[128];
    OBJ_obj2txt(oid, sizeof oid, X509_EXTENSION_get_object(e), 1);
    const ASN1_OCTET_STRING* data = X509_EXTENSION_get_data(e);
    Value::Map m;
    m["ID"] = Value::String(oid);
    m["Critical"] = Value::Bool(X509_EXTENSION_get_critical(e) != 0);
    m["Value"] = Value::String(Base64(ASN1_STRING_get0_data(data), ASN1_STRING_length(data)));
    l.push_back(Struct(std::move(m), ExtensionFields(), "x509util.Extension"));
  }
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  return Value::MakeList(std::move(l));
}

// The Go type typeIs sees for the CSR's key, as in step-ca's templates.
const char* KeyType(EVP_PKEY* key) {
  switch (key == nullptr ? 0 : EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA: return "*rsa.PublicKey";
    case EVP_PKEY_EC: return "*ecdsa.PublicKey";
    case EVP_PKEY_ED25519: return "ed25519.PublicKey";
    default: return "<nil>";
  }
}

Value CertificateRequest(X509_REQ* csr, const SanSet* known_sans) {
  Value::Map m;
  m["Version"] = Value::Int(0);
  m["Subject"] = NameOf(X509_REQ_get_subject_name(csr));
  // The CSR's own SANs, through the parser the CA uses for its checks.
  SanSet sans;
  if (known_sans != nullptr) {
    sans = *known_sans;
  } else {
    unsigned char* der = nullptr;
    const int n = i2d_X509_REQ(csr, &der);
    if (n > 0) {
      auto parsed = ParseCsrDer(std::string_view(reinterpret_cast<char*>(der), static_cast<size_t>(n)));
      if (parsed.ok()) sans = parsed->sans;
    }
    OPENSSL_free(der);
  }
  m["DNSNames"] = Strings(sans.dns);
  m["EmailAddresses"] = Strings(sans.emails);
  m["IPAddresses"] = Strings(sans.ips);
  m["URIs"] = Strings(sans.uris);
  m["SANs"] = Value();
  m["Extensions"] = ExtensionsOf(csr);
  m["SignatureAlgorithm"] = Value::String("");
  EVP_PKEY* key = X509_REQ_get0_pubkey(csr);
  m["PublicKey"] = Value::MakeMap({}).WithType(KeyType(key));
  static const char* const kAlg[] = {"RSA", "ECDSA", "Ed25519"};
  const char* kt = KeyType(key);
  m["PublicKeyAlgorithm"] = Value::String(kt[1] == 'r' ? kAlg[0] : kt[1] == 'e' ? kAlg[1]
                                                               : kt[0] == 'e' ? kAlg[2] : "")
                                .WithType("x509.PublicKeyAlgorithm");
  return Struct(std::move(m), CrFields(), "*x509util.CertificateRequest");
}

// The fields of Go's *x509.Certificate that templates read from
// .AuthorizationCrt (X5C): Subject, Issuer, SerialNumber, NotBefore,
// NotAfter and the SAN lists. Other fields are absent.
Value AuthorizationCertificate(X509* cert) {
  Value::Map m;
  m["Subject"] = NameOf(X509_get_subject_name(cert)).WithType("pkix.Name");
  m["Issuer"] = NameOf(X509_get_issuer_name(cert)).WithType("pkix.Name");
  std::string serial;
  if (BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr)) {
    char* dec = BN_bn2dec(bn);
    if (dec != nullptr) serial = dec;
    OPENSSL_free(dec);
    BN_free(bn);
  }
  m["SerialNumber"] = Value::String(serial).WithType("*big.Int");
  auto time_of = [](const ASN1_TIME* t) {
    struct tm tm = {};
    char buf[32] = "";
    if (ASN1_TIME_to_tm(t, &tm) == 1) strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return Value::String(buf).WithType("time.Time");
  };
  m["NotBefore"] = time_of(X509_get0_notBefore(cert));
  m["NotAfter"] = time_of(X509_get0_notAfter(cert));
  std::vector<std::string> dns, emails, ips, uris;
  GENERAL_NAMES* gens = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; gens != nullptr && i < sk_GENERAL_NAME_num(gens); ++i) {
    const GENERAL_NAME* g = sk_GENERAL_NAME_value(gens, i);
    if (g->type == GEN_DNS) dns.push_back(Text(g->d.dNSName));
    else if (g->type == GEN_EMAIL) emails.push_back(Text(g->d.rfc822Name));
    else if (g->type == GEN_URI) uris.push_back(Text(g->d.uniformResourceIdentifier));
    else if (g->type == GEN_IPADD) {
      char text[INET6_ADDRSTRLEN] = "";
      const int n = ASN1_STRING_length(g->d.iPAddress);
      const unsigned char* p = ASN1_STRING_get0_data(g->d.iPAddress);
      if (n == 4 || n == 16) inet_ntop(n == 4 ? AF_INET : AF_INET6, p, text, sizeof text);
      ips.push_back(text);
    }
  }
  GENERAL_NAMES_free(gens);
  m["DNSNames"] = Strings(dns);
  m["EmailAddresses"] = Strings(emails);
  m["IPAddresses"] = Strings(ips);
  m["URIs"] = Strings(uris);
  return Value::MakeMap(std::move(m)).WithType("*x509.Certificate");
}

}  // namespace

Value SubjectOf(const std::string& common_name) {
  Value::Map m;
  for (const auto& f : *NameFields()) m[f.name] = Value();
  m["SerialNumber"] = Value::String("");
  m["CommonName"] = Value::String(common_name);
  return Struct(std::move(m), NameFields(), "x509util.Subject");
}

Value TypedSans(const std::vector<std::string>& sans) {
  const SanSet set = ClassifySans(sans);
  Value::List l;
  for (const auto& v : set.dns) l.push_back(San("dns", v));
  for (const auto& v : set.ips) l.push_back(San("ip", v));
  for (const auto& v : set.emails) l.push_back(San("email", v));
  for (const auto& v : set.uris) l.push_back(San("uri", v));
  return Value::MakeList(std::move(l));
}

Value X509TemplateData(const X509TemplateInput& in) {
  Value::Map data;
  data["Subject"] = SubjectOf(in.common_name);
  data["SANs"] = TypedSans(in.sans);
  if (in.token != nullptr) data["Token"] = Value::FromJson(in.token);
  if (in.authorization_crt != nullptr)
    data["AuthorizationCrt"] = AuthorizationCertificate(in.authorization_crt);
  // json.Unmarshal of the provisioner's templateData into the map: its
  // keys replace what is there.
  if (json_is_object(in.provisioner_data)) {
    const char* k;
    json_t* v;
    json_object_foreach(const_cast<json_t*>(in.provisioner_data), k, v)
      data[k] = Value::FromJson(v);
  }
  Value::Map insecure;
  auto it = data.find("Insecure");
  if (it != data.end() && it->second.kind() == Value::Kind::kMap) insecure = it->second.as_map();
  if (in.user_data != nullptr)
    insecure["User"] = json_is_object(in.user_data) ? Value::FromJson(in.user_data)
                                                     : Value::MakeMap({});
  if (in.csr != nullptr) insecure["CR"] = CertificateRequest(in.csr, in.csr_sans);
  data["Insecure"] = Value::MakeMap(std::move(insecure));
  return Value::MakeMap(std::move(data));
}

}  // namespace tmpl
}  // namespace stepca
