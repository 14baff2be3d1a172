#include "authority/x509/issuer.h"

#include <arpa/inet.h>
#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include <cctype>
#include <cstring>
#include <ctime>

namespace stepca {

namespace {

constexpr char kProvisionerOid[] = "1.3.6.1.4.1.37476.9000.64.1";

// DER tag-length-value with a definite length.
void AppendTlv(std::string* out, unsigned char tag, std::string_view value) {
  out->push_back(static_cast<char>(tag));
  const size_t len = value.size();
  if (len < 0x80) {
    out->push_back(static_cast<char>(len));
  } else {
    std::string bytes;
    for (size_t l = len; l > 0; l >>= 8) bytes.insert(bytes.begin(), static_cast<char>(l & 0xff));
    out->push_back(static_cast<char>(0x80 | bytes.size()));
    out->append(bytes);
  }
  out->append(value.data(), value.size());
}

// DER INTEGER content of a small non-negative value.
std::string IntegerContent(unsigned v) {
  std::string bytes;
  do {
    bytes.insert(bytes.begin(), static_cast<char>(v & 0xff));
    v >>= 8;
  } while (v > 0);
  if (static_cast<unsigned char>(bytes[0]) & 0x80) bytes.insert(bytes.begin(), '\0');
  return bytes;
}

TimePoint Asn1TimeToTimePoint(const ASN1_TIME* t) {
  struct tm tm = {};
  if (ASN1_TIME_to_tm(t, &tm) != 1) return TimePoint();
  return TimePoint(std::chrono::seconds(timegm(&tm)));
}

time_t ToTimeT(TimePoint t) {
  int64_t ns = t.time_since_epoch().count();
  int64_t s = ns / 1000000000;
  if (ns % 1000000000 < 0) --s;
  return static_cast<time_t>(s);
}

Status AddExtension(X509* cert, int nid, void* value, bool critical) {
  if (X509_add1_ext_i2d(cert, nid, value, critical ? 1 : 0, X509V3_ADD_APPEND) != 1) {
    return Internal("issuer: cannot add extension " + std::string(OBJ_nid2sn(nid)) + ": " +
                    OpensslError());
  }
  return Status::Ok();
}

struct ExtKeyUsageFree {
  void operator()(EXTENDED_KEY_USAGE* p) const {
    sk_ASN1_OBJECT_pop_free(p, ASN1_OBJECT_free);
  }
};
struct AuthorityKeyIdFree {
  void operator()(AUTHORITY_KEYID* p) const { AUTHORITY_KEYID_free(p); }
};
struct Asn1BitStringFree {
  void operator()(ASN1_BIT_STRING* p) const { ASN1_BIT_STRING_free(p); }
};
struct Asn1ObjectFree {
  void operator()(ASN1_OBJECT* p) const { ASN1_OBJECT_free(p); }
};

// X509_set_pubkey in OpenSSL 3 encodes a provider EVP_PKEY with the provider
// encoder and decodes the DER back (OSSL_DECODER chain, openssl#20051): about
// 30% of the CPU of a P-256 issuance (~190 us). For a legacy (EC_KEY-backed)
// EVP_PKEY it uses the built-in ASN.1 method instead (~25 us with the
// export). So for EC keys whose CSR SubjectPublicKeyInfo is a named curve,
// the key is set through a legacy wrapper of the same EC_KEY, and the result
// is compared with the CSR's SPKI: the same curve OID and the same key bits,
// which is what re-encoding the provider key gives for such a CSR. The
// legacy encoder does not keep a compressed point form: then, and for
// anything else (RSA, Ed25519, explicit parameters), the caller falls back
// to X509_set_pubkey with the provider key. The certificate keeps a usable
// EVP_PKEY (X509_get0_pubkey) either way.
bool SetEcPubkeyFast(X509* cert, EVP_PKEY* key, const X509_PUBKEY* spki) {
  if (spki == nullptr || EVP_PKEY_get_base_id(key) != EVP_PKEY_EC) return false;
  ASN1_OBJECT* alg = nullptr;
  const unsigned char* bits = nullptr;
  int bits_len = 0;
  X509_ALGOR* algor = nullptr;
  if (X509_PUBKEY_get0_param(&alg, &bits, &bits_len, &algor, spki) != 1 || bits == nullptr ||
      bits_len <= 0 || OBJ_obj2nid(alg) != NID_X9_62_id_ecPublicKey) {
    return false;
  }
  int ptype = V_ASN1_UNDEF;
  const void* pval = nullptr;
  X509_ALGOR_get0(nullptr, &ptype, &pval, algor);
  if (ptype != V_ASN1_OBJECT) return false;  // explicit curve parameters
  if (bits[0] != 0x04) return false;  // compressed point: the legacy encoder would not keep it
  const int curve = OBJ_obj2nid(static_cast<const ASN1_OBJECT*>(pval));
  if (curve == NID_undef) return false;

  // The legacy EC_KEY API is deprecated in OpenSSL 3 but is the only public
  // way to reach the cheap ASN.1 encoder.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  EC_KEY* ec = EVP_PKEY_get1_EC_KEY(key);
  if (ec == nullptr) return false;
  EvpPkeyPtr legacy(EVP_PKEY_new());
  if (!legacy || EVP_PKEY_assign_EC_KEY(legacy.get(), ec) != 1) {
    EC_KEY_free(ec);
    return false;
  }
#pragma GCC diagnostic pop
  if (X509_set_pubkey(cert, legacy.get()) != 1) return false;

  ASN1_OBJECT* got_alg = nullptr;
  const unsigned char* got_bits = nullptr;
  int got_len = 0;
  X509_ALGOR* got_algor = nullptr;
  if (X509_PUBKEY_get0_param(&got_alg, &got_bits, &got_len, &got_algor,
                             X509_get_X509_PUBKEY(cert)) != 1) {
    return false;
  }
  int got_ptype = V_ASN1_UNDEF;
  const void* got_pval = nullptr;
  X509_ALGOR_get0(nullptr, &got_ptype, &got_pval, got_algor);
  return OBJ_obj2nid(got_alg) == NID_X9_62_id_ecPublicKey && got_ptype == V_ASN1_OBJECT &&
         OBJ_obj2nid(static_cast<const ASN1_OBJECT*>(got_pval)) == curve && got_len == bits_len &&
         std::memcmp(got_bits, bits, static_cast<size_t>(bits_len)) == 0;
}

Status AddGeneralName(GENERAL_NAMES* names, int type, const std::string& value) {
  ASN1_STRING* str = type == GEN_IPADD ? ASN1_OCTET_STRING_new() : ASN1_IA5STRING_new();
  GENERAL_NAME* gn = GENERAL_NAME_new();
  if (!str || !gn || ASN1_STRING_set(str, value.data(), static_cast<int>(value.size())) != 1) {
    ASN1_STRING_free(str);
    GENERAL_NAME_free(gn);
    return Internal("issuer: out of memory");
  }
  GENERAL_NAME_set0_value(gn, type, str);
  if (sk_GENERAL_NAME_push(names, gn) <= 0) {
    GENERAL_NAME_free(gn);
    return Internal("issuer: out of memory");
  }
  return Status::Ok();
}

bool IsPrintableUtf8(const std::string& s) {
  for (unsigned char c : s) {
    if (c < 0x20 || c == 0x7f) return false;
  }
  return true;
}


}  // namespace

Status CheckLeafNames(const std::string& common_name, const SanSet& sans) {
  if (common_name.size() > kMaxNameLength || !IsPrintableUtf8(common_name)) {
    return InvalidArgument("invalid common name");
  }
  const size_t count = sans.dns.size() + sans.emails.size() + sans.ips.size() +
                       sans.uris.size();
  if (count > kMaxSans) {
    return InvalidArgument("too many subject alternative names (" + std::to_string(count) +
                           ", at most " + std::to_string(kMaxSans) + ")");
  }
  for (const auto& d : sans.dns) {
    if (!IsValidDnsName(d)) return InvalidArgument("invalid DNS name \"" + d + "\"");
  }
  for (const auto& e : sans.emails) {
    if (!IsValidEmail(e)) return InvalidArgument("invalid email address \"" + e + "\"");
  }
  for (const auto& u : sans.uris) {
    if (!IsValidUri(u)) return InvalidArgument("invalid URI \"" + u + "\"");
  }
  return Status::Ok();
}

bool IsPrintableStringSet(const std::string& s) {
  for (unsigned char c : s) {
    if (!(std::isalnum(c) || c == ' ' || c == '\'' || c == '(' || c == ')' || c == '+' ||
          c == ',' || c == '-' || c == '.' || c == '/' || c == ':' || c == '=' || c == '?')) {
      return false;
    }
  }
  return true;
}

std::string EncodeProvisionerExtension(const ProvisionerInfo& info) {
  std::string body;
  AppendTlv(&body, 0x02, IntegerContent(static_cast<unsigned>(info.type)));
  AppendTlv(&body, 0x04, info.name);
  AppendTlv(&body, 0x04, info.credential_id);
  std::string out;
  AppendTlv(&out, 0x30, body);
  return out;
}

Result<std::string> PublicKeyId(X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (X509_pubkey_digest(cert, EVP_sha1(), md, &len) != 1) {
    return Internal("issuer: cannot hash public key: " + OpensslError());
  }
  return std::string(reinterpret_cast<char*>(md), len);
}

std::string CertificateToPem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) return "";
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(len));
}

std::string SerialDecimal(X509* cert) {
  BignumPtr bn(ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr));
  if (!bn) return "";
  char* dec = BN_bn2dec(bn.get());
  if (!dec) return "";
  std::string s(dec);
  OPENSSL_free(dec);
  return s;
}

Issuer::Issuer(X509Ptr cert, std::unique_ptr<Signer> signer)
    : cert_(std::move(cert)), signer_(std::move(signer)) {}

TimePoint Issuer::not_after() const { return Asn1TimeToTimePoint(X509_get0_notAfter(cert_.get())); }

Result<IssuedCertificate> Issuer::IssueLeaf(const LeafRequest& request) const {
  if (!cert_ || !signer_) return Internal("issuer: not configured");
  if (!request.public_key) return InvalidArgument("issuer: no public key");
  if (request.profile) return IssueFromTemplate(request);
  STEPCA_RETURN_IF_ERROR(CheckPublicKey(request.public_key));
  STEPCA_RETURN_IF_ERROR(CheckLeafNames(request.common_name, request.sans));
  if (request.validity.not_after <= request.validity.not_before) {
    return InvalidArgument("issuer: empty validity window");
  }

  STEPCA_ASSIGN_OR_RETURN(X509Ptr cert, NewCertificate(request.validity, request.serial));
  X509* c = cert.get();
  X509NamePtr subject(X509_NAME_new());
  if (!subject) return Internal("issuer: out of memory");
  if (!request.common_name.empty()) {
    const int type =
        IsPrintableStringSet(request.common_name) ? V_ASN1_PRINTABLESTRING : V_ASN1_UTF8STRING;
    if (X509_NAME_add_entry_by_NID(
            subject.get(), NID_commonName, type,
            reinterpret_cast<const unsigned char*>(request.common_name.data()),
            static_cast<int>(request.common_name.size()), -1, 0) != 1) {
      return InvalidArgument("issuer: invalid common name: " + OpensslError());
    }
  }
  if (X509_set_subject_name(c, subject.get()) != 1) {
    return Internal("issuer: cannot set subject: " + OpensslError());
  }

  STEPCA_RETURN_IF_ERROR(SetPublicKey(c, request.public_key, request.spki));

  // keyUsage (critical).
  std::unique_ptr<ASN1_BIT_STRING, Asn1BitStringFree> ku(ASN1_BIT_STRING_new());
  if (!ku || ASN1_BIT_STRING_set_bit(ku.get(), 0, 1) != 1) return Internal("issuer: out of memory");
  if (EVP_PKEY_get_base_id(request.public_key) == EVP_PKEY_RSA &&
      ASN1_BIT_STRING_set_bit(ku.get(), 2, 1) != 1) {
    return Internal("issuer: out of memory");
  }
  STEPCA_RETURN_IF_ERROR(AddExtension(c, NID_key_usage, ku.get(), true));

  // extKeyUsage: serverAuth, clientAuth.
  std::unique_ptr<EXTENDED_KEY_USAGE, ExtKeyUsageFree> eku(sk_ASN1_OBJECT_new_null());
  if (!eku || sk_ASN1_OBJECT_push(eku.get(), OBJ_nid2obj(NID_server_auth)) <= 0 ||
      sk_ASN1_OBJECT_push(eku.get(), OBJ_nid2obj(NID_client_auth)) <= 0) {
    return Internal("issuer: out of memory");
  }
  STEPCA_RETURN_IF_ERROR(AddExtension(c, NID_ext_key_usage, eku.get(), false));

  // subjectKeyIdentifier: SHA-1 of the subjectPublicKey bits.
  STEPCA_ASSIGN_OR_RETURN(std::string ski, PublicKeyId(c));
  Asn1OctetStringPtr ski_os(ASN1_OCTET_STRING_new());
  if (!ski_os || ASN1_OCTET_STRING_set(ski_os.get(), reinterpret_cast<const unsigned char*>(ski.data()),
                                       static_cast<int>(ski.size())) != 1) {
    return Internal("issuer: out of memory");
  }
  STEPCA_RETURN_IF_ERROR(AddExtension(c, NID_subject_key_identifier, ski_os.get(), false));

  STEPCA_RETURN_IF_ERROR(AddAuthorityKeyId(c));

  // subjectAltName: DNS, email, IP, URI. Critical when the subject is empty
  // (RFC 5280 4.2.1.6).
  if (!request.sans.empty()) {
    GeneralNamesPtr names(sk_GENERAL_NAME_new_null());
    if (!names) return Internal("issuer: out of memory");
    for (const auto& d : request.sans.dns) {
      STEPCA_RETURN_IF_ERROR(AddGeneralName(names.get(), GEN_DNS, d));
    }
    for (const auto& e : request.sans.emails) {
      STEPCA_RETURN_IF_ERROR(AddGeneralName(names.get(), GEN_EMAIL, e));
    }
    for (const auto& ip : request.sans.ips) {
      unsigned char buf[16];
      std::string raw;
      if (inet_pton(AF_INET, ip.c_str(), buf) == 1) {
        raw.assign(reinterpret_cast<char*>(buf), 4);
      } else if (inet_pton(AF_INET6, ip.c_str(), buf) == 1) {
        static const unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        raw = std::memcmp(buf, kMapped, 12) == 0
                  ? std::string(reinterpret_cast<char*>(buf) + 12, 4)
                  : std::string(reinterpret_cast<char*>(buf), 16);
      } else {
        return InvalidArgument("invalid IP address \"" + ip + "\"");
      }
      STEPCA_RETURN_IF_ERROR(AddGeneralName(names.get(), GEN_IPADD, raw));
    }
    for (const auto& u : request.sans.uris) {
      STEPCA_RETURN_IF_ERROR(AddGeneralName(names.get(), GEN_URI, u));
    }
    STEPCA_RETURN_IF_ERROR(
        AddExtension(c, NID_subject_alt_name, names.get(), request.common_name.empty()));
  }

  // The step provisioner extension (non-critical).
  if (request.add_provisioner_extension) {
    const std::string value = EncodeProvisionerExtension(request.provisioner);
    std::unique_ptr<ASN1_OBJECT, Asn1ObjectFree> oid(OBJ_txt2obj(kProvisionerOid, 1));
    Asn1OctetStringPtr os(ASN1_OCTET_STRING_new());
    if (!oid || !os ||
        ASN1_OCTET_STRING_set(os.get(), reinterpret_cast<const unsigned char*>(value.data()),
                              static_cast<int>(value.size())) != 1) {
      return Internal("issuer: out of memory");
    }
    X509ExtPtr ext(X509_EXTENSION_create_by_OBJ(nullptr, oid.get(), 0, os.get()));
    if (!ext || X509_add_ext(c, ext.get(), -1) != 1) {
      return Internal("issuer: cannot add provisioner extension: " + OpensslError());
    }
  }

  return Finish(std::move(cert));
}

Status Issuer::SetPublicKey(X509* c, EVP_PKEY* key, const X509_PUBKEY* spki) {
  if (!SetEcPubkeyFast(c, key, spki) && X509_set_pubkey(c, key) != 1)
    return Internal("issuer: cannot set public key: " + OpensslError());
  return Status::Ok();
}

Result<std::string> NewSerial() {
  unsigned char rnd[16];
  BignumPtr bn;
  do {
    if (RAND_bytes(rnd, sizeof rnd) != 1) return Internal("issuer: no randomness");
    bn.reset(BN_bin2bn(rnd, sizeof rnd, nullptr));
    if (!bn) return Internal("issuer: out of memory");
  } while (BN_is_zero(bn.get()));
  char* dec = BN_bn2dec(bn.get());
  if (dec == nullptr) return Internal("issuer: out of memory");
  std::string out(dec);
  OPENSSL_free(dec);
  return out;
}

Result<X509Ptr> Issuer::NewCertificate(const Validity& validity, const std::string& serial) const {
  X509Ptr cert(X509_new());
  if (!cert) return Internal("issuer: out of memory");
  X509* c = cert.get();
  if (X509_set_version(c, X509_VERSION_3) != 1) return Internal("issuer: " + OpensslError());

  std::string decimal = serial;
  if (decimal.empty()) {
    STEPCA_ASSIGN_OR_RETURN(decimal, NewSerial());
  }
  BIGNUM* raw = nullptr;
  if (BN_dec2bn(&raw, decimal.c_str()) != static_cast<int>(decimal.size()) || raw == nullptr) {
    BN_free(raw);
    return InvalidArgument("issuer: serial is not a decimal number");
  }
  BignumPtr bn(raw);
  if (BN_is_zero(bn.get()) || BN_is_negative(bn.get()))
    return InvalidArgument("issuer: serial must be positive");
  Asn1IntegerPtr asn1(BN_to_ASN1_INTEGER(bn.get(), nullptr));
  if (!asn1 || X509_set_serialNumber(c, asn1.get()) != 1) {
    return Internal("issuer: cannot set serial: " + OpensslError());
  }
  if (X509_set_issuer_name(c, X509_get_subject_name(cert_.get())) != 1) {
    return Internal("issuer: cannot set issuer: " + OpensslError());
  }
  if (!ASN1_TIME_set(X509_getm_notBefore(c), ToTimeT(validity.not_before)) ||
      !ASN1_TIME_set(X509_getm_notAfter(c), ToTimeT(validity.not_after))) {
    return Internal("issuer: cannot set validity: " + OpensslError());
  }
  return cert;
}

Status Issuer::AddAuthorityKeyId(X509* c) const {
  std::string aki;
  if (const ASN1_OCTET_STRING* issuer_ski = X509_get0_subject_key_id(cert_.get())) {
    aki.assign(reinterpret_cast<const char*>(ASN1_STRING_get0_data(issuer_ski)),
               static_cast<size_t>(ASN1_STRING_length(issuer_ski)));
  } else {
    STEPCA_ASSIGN_OR_RETURN(aki, PublicKeyId(cert_.get()));
  }
  std::unique_ptr<AUTHORITY_KEYID, AuthorityKeyIdFree> akid(AUTHORITY_KEYID_new());
  if (!akid) return Internal("issuer: out of memory");
  akid->keyid = ASN1_OCTET_STRING_new();
  if (!akid->keyid ||
      ASN1_OCTET_STRING_set(akid->keyid, reinterpret_cast<const unsigned char*>(aki.data()),
                            static_cast<int>(aki.size())) != 1) {
    return Internal("issuer: out of memory");
  }
  return AddExtension(c, NID_authority_key_identifier, akid.get(), false);
}

Result<IssuedCertificate> Issuer::Finish(X509Ptr cert) const {
  X509* c = cert.get();
  STEPCA_RETURN_IF_ERROR(signer_->SignCertificate(c));
  IssuedCertificate out;
  unsigned char* der = nullptr;
  const int len = i2d_X509(c, &der);
  if (len <= 0) return Internal("issuer: cannot encode certificate: " + OpensslError());
  out.der.assign(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  out.pem = CertificateToPem(c);
  out.serial = SerialDecimal(c);
  out.cert = std::move(cert);
  return out;
}

}  // namespace stepca
