#include "cli/crypto.h"

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <cctype>
#include <cstring>
#include <ctime>

#include "authority/config/ca_config.h"
#include "authority/signer/file_signer.h"
#include "authority/x509/csr.h"
#include "cli/files.h"
#include "shared/base64.h"

namespace stepca {
namespace cli {
namespace {

using GeneralNamePtr = OsslPtr<GENERAL_NAME, GENERAL_NAME_free>;
using Asn1TimePtr = OsslPtr<ASN1_TIME, ASN1_TIME_free>;

void FreeExtensionStack(STACK_OF(X509_EXTENSION)* s) {
  sk_X509_EXTENSION_pop_free(s, X509_EXTENSION_free);
}
using ExtStackPtr = OsslPtr<STACK_OF(X509_EXTENSION), FreeExtensionStack>;

Status OsslFailure(const std::string& what) {
  return Internal(what + ": " + OpensslError());
}

// Go's x509 package writes a name attribute as PrintableString when every
// character is in that set, as UTF8String otherwise.
bool IsGoPrintable(const std::string& s) {
  for (unsigned char c : s) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
        (c >= '0' && c <= '9')) {
      continue;
    }
    if (std::strchr(" '()+,-./:=?", c) == nullptr || c == '\0') return false;
  }
  return true;
}

Status AddNameEntry(X509_NAME* name, int nid, const std::string& value) {
  int type = IsGoPrintable(value) ? V_ASN1_PRINTABLESTRING : V_ASN1_UTF8STRING;
  if (!X509_NAME_add_entry_by_NID(
          name, nid, type,
          reinterpret_cast<const unsigned char*>(value.data()),
          static_cast<int>(value.size()), -1, 0)) {
    return OsslFailure("subject name");
  }
  return Status::Ok();
}

Status SetRandomSerial(X509* cert) {
  BignumPtr bn(BN_new());
  // 128 random bits, as Go's rand.Int(rand.Reader, 2^128); never zero.
  do {
    if (!bn || !BN_rand(bn.get(), 128, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY)) {
      return OsslFailure("serial");
    }
  } while (BN_is_zero(bn.get()));
  Asn1IntegerPtr serial(BN_to_ASN1_INTEGER(bn.get(), nullptr));
  if (!serial || !X509_set_serialNumber(cert, serial.get())) {
    return OsslFailure("serial");
  }
  return Status::Ok();
}

Status SetValidity(X509* cert, TimePoint not_before, TimePoint not_after) {
  auto secs = [](TimePoint t) {
    return static_cast<time_t>(
        std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch())
            .count());
  };
  // Go writes UTCTime up to 2049 and GeneralizedTime after, like RFC 5280;
  // ASN1_TIME_set does the same.
  Asn1TimePtr nb(ASN1_TIME_set(nullptr, secs(not_before)));
  Asn1TimePtr na(ASN1_TIME_set(nullptr, secs(not_after)));
  if (!nb || !na || !X509_set1_notBefore(cert, nb.get()) ||
      !X509_set1_notAfter(cert, na.get())) {
    return OsslFailure("validity");
  }
  return Status::Ok();
}

Status AddExtension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer != nullptr ? issuer : cert, cert, nullptr,
                 nullptr, 0);
  X509ExtPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
  if (!ext || !X509_add_ext(cert, ext.get(), -1)) {
    return OsslFailure(std::string("extension ") + OBJ_nid2sn(nid));
  }
  return Status::Ok();
}

Result<GeneralNamesPtr> NamesToGeneralNames(
    const std::vector<std::string>& names) {
  SanSet sans = ClassifySans(names);
  GeneralNamesPtr gens(sk_GENERAL_NAME_new_null());
  if (!gens) return OsslFailure("subjectAltName");
  auto add_string = [&](int type, const std::string& v) -> Status {
    GeneralNamePtr gen(GENERAL_NAME_new());
    ASN1_IA5STRING* s = ASN1_IA5STRING_new();
    if (!gen || s == nullptr ||
        !ASN1_STRING_set(s, v.data(), static_cast<int>(v.size()))) {
      ASN1_IA5STRING_free(s);
      return OsslFailure("subjectAltName");
    }
    GENERAL_NAME_set0_value(gen.get(), type, s);
    if (!sk_GENERAL_NAME_push(gens.get(), gen.get())) {
      return OsslFailure("subjectAltName");
    }
    gen.release();
    return Status::Ok();
  };
  // Go's order: DNS, email, IP, URI.
  for (const auto& d : sans.dns) STEPCA_RETURN_IF_ERROR(add_string(GEN_DNS, d));
  for (const auto& e : sans.emails) {
    STEPCA_RETURN_IF_ERROR(add_string(GEN_EMAIL, e));
  }
  for (const auto& ip : sans.ips) {
    ASN1_OCTET_STRING* os = a2i_IPADDRESS(ip.c_str());
    if (os == nullptr) return InvalidArgument("invalid IP address " + ip);
    GeneralNamePtr gen(GENERAL_NAME_new());
    if (!gen) {
      ASN1_OCTET_STRING_free(os);
      return OsslFailure("subjectAltName");
    }
    GENERAL_NAME_set0_value(gen.get(), GEN_IPADD, os);
    if (!sk_GENERAL_NAME_push(gens.get(), gen.get())) {
      return OsslFailure("subjectAltName");
    }
    gen.release();
  }
  for (const auto& u : sans.uris) STEPCA_RETURN_IF_ERROR(add_string(GEN_URI, u));
  return gens;
}

Status SignCert(X509* cert, EVP_PKEY* key, const Signer* signer) {
  if (signer != nullptr) return signer->SignCertificate(cert);
  if (X509_sign(cert, key, SigningDigest(key)) <= 0) {
    return OsslFailure("signing certificate");
  }
  return Status::Ok();
}

}  // namespace

Result<EvpPkeyPtr> GenerateKey(const std::string& kty, const std::string& crv,
                               int rsa_bits) {
  EVP_PKEY* raw = nullptr;
  if (kty == "EC" || kty.empty()) {
    std::string curve = crv.empty() ? "P-256" : crv;
    const char* group = curve == "P-256"   ? "P-256"
                        : curve == "P-384" ? "P-384"
                        : curve == "P-521" ? "P-521"
                                           : nullptr;
    if (group == nullptr) {
      return InvalidArgument("invalid value '" + curve + "' for flag '--curve'");
    }
    raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", group);
  } else if (kty == "OKP") {
    if (!crv.empty() && crv != "Ed25519") {
      return InvalidArgument("invalid value '" + crv + "' for flag '--curve'");
    }
    raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  } else if (kty == "RSA") {
    size_t bits = rsa_bits > 0 ? static_cast<size_t>(rsa_bits) : 3072;
    if (bits < 2048) {
      return InvalidArgument("flag '--size' requires at least 2048 bits");
    }
    raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", bits);
  } else {
    return InvalidArgument("invalid value '" + kty + "' for flag '--kty'");
  }
  if (raw == nullptr) return OsslFailure("generating key");
  return EvpPkeyPtr(raw);
}

Result<std::string> PrivateKeyToPem(EVP_PKEY* key, std::string_view password) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio) return OsslFailure("PEM");
  int id = EVP_PKEY_get_base_id(key);
  bool pkcs8 = (id == EVP_PKEY_ED25519);
  int ok;
  std::string pw(password);
  if (password.empty()) {
    ok = pkcs8 ? PEM_write_bio_PKCS8PrivateKey(bio.get(), key, nullptr,
                                               nullptr, 0, nullptr, nullptr)
               : PEM_write_bio_PrivateKey_traditional(
                     bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  } else if (pkcs8) {
    ok = PEM_write_bio_PKCS8PrivateKey(bio.get(), key, EVP_aes_256_cbc(),
                                       pw.data(), static_cast<int>(pw.size()),
                                       nullptr, nullptr);
  } else {
    ok = PEM_write_bio_PrivateKey_traditional(
        bio.get(), key, EVP_aes_256_cbc(),
        reinterpret_cast<unsigned char*>(pw.data()),
        static_cast<int>(pw.size()), nullptr, nullptr);
  }
  Wipe(pw);
  if (!ok) return OsslFailure("PEM");
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  std::string pem(data, static_cast<size_t>(n));
  // Go writes the DEK-Info IV in lower-case hex; OpenSSL in upper case.
  static const char kDekInfo[] = "DEK-Info: AES-256-CBC,";
  size_t pos = pem.find(kDekInfo);
  if (pos != std::string::npos) {
    for (size_t i = pos + sizeof kDekInfo - 1; i < pem.size() && pem[i] != '\n'; ++i) {
      pem[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(pem[i])));
    }
  }
  return pem;
}

const EVP_MD* SigningDigest(EVP_PKEY* key) {
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_ED25519:
      return nullptr;
    case EVP_PKEY_EC: {
      int bits = EVP_PKEY_get_bits(key);
      if (bits > 384) return EVP_sha512();
      if (bits > 256) return EVP_sha384();
      return EVP_sha256();
    }
    default:
      return EVP_sha256();
  }
}

std::string Sha256Hex(std::string_view data) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), md);
  return HexEncode(std::string_view(reinterpret_cast<char*>(md), sizeof md));
}

std::string CertificateDer(X509* cert) {
  unsigned char* der = nullptr;
  int n = i2d_X509(cert, &der);
  if (n <= 0) return "";
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(n));
  OPENSSL_free(der);
  return out;
}

std::string CertificateToPemText(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || !PEM_write_bio_X509(bio.get(), cert)) return "";
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

std::string Fingerprint(X509* cert) { return Sha256Hex(CertificateDer(cert)); }

Result<std::vector<X509Ptr>> ParseCertificatesPem(std::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return OsslFailure("PEM");
  std::vector<X509Ptr> certs;
  for (;;) {
    X509* c = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
    if (c == nullptr) break;
    certs.emplace_back(c);
  }
  ERR_clear_error();
  if (certs.empty()) return InvalidArgument("no certificate found in PEM");
  return certs;
}

Result<X509Ptr> MakeCaCertificate(const CaCertificateRequest& r) {
  X509Ptr cert(X509_new());
  if (!cert || !X509_set_version(cert.get(), X509_VERSION_3)) {
    return OsslFailure("certificate");
  }
  STEPCA_RETURN_IF_ERROR(SetRandomSerial(cert.get()));
  X509NamePtr subject(X509_NAME_new());
  if (!subject) return OsslFailure("subject");
  if (!r.organization.empty()) {
    STEPCA_RETURN_IF_ERROR(
        AddNameEntry(subject.get(), NID_organizationName, r.organization));
  }
  STEPCA_RETURN_IF_ERROR(
      AddNameEntry(subject.get(), NID_commonName, r.common_name));
  if (!X509_set_subject_name(cert.get(), subject.get()) ||
      !X509_set_issuer_name(cert.get(),
                            r.issuer != nullptr
                                ? X509_get_subject_name(r.issuer)
                                : subject.get()) ||
      !X509_set_pubkey(cert.get(), r.key)) {
    return OsslFailure("certificate");
  }
  STEPCA_RETURN_IF_ERROR(SetValidity(cert.get(), r.not_before, r.not_after));
  std::string bc = "critical,CA:TRUE,pathlen:" + std::to_string(r.path_len);
  STEPCA_RETURN_IF_ERROR(AddExtension(cert.get(), r.issuer, NID_key_usage,
                                      "critical,keyCertSign,cRLSign"));
  STEPCA_RETURN_IF_ERROR(
      AddExtension(cert.get(), r.issuer, NID_basic_constraints, bc.c_str()));
  STEPCA_RETURN_IF_ERROR(
      AddExtension(cert.get(), r.issuer, NID_subject_key_identifier, "hash"));
  if (r.issuer != nullptr) {
    STEPCA_RETURN_IF_ERROR(AddExtension(
        cert.get(), r.issuer, NID_authority_key_identifier, "keyid:always"));
  }
  STEPCA_RETURN_IF_ERROR(SignCert(cert.get(), r.issuer_key, r.issuer_signer));
  return cert;
}

Result<X509Ptr> MakeServerCertificate(const ServerCertificateRequest& r) {
  if (r.issuer == nullptr || (r.issuer_key == nullptr && r.issuer_signer == nullptr)) {
    return InvalidArgument("server certificate needs an issuer");
  }
  X509Ptr cert(X509_new());
  if (!cert || !X509_set_version(cert.get(), X509_VERSION_3)) {
    return OsslFailure("certificate");
  }
  STEPCA_RETURN_IF_ERROR(SetRandomSerial(cert.get()));
  X509NamePtr subject(X509_NAME_new());
  if (!subject) return OsslFailure("subject");
  if (!r.common_name.empty()) {
    STEPCA_RETURN_IF_ERROR(
        AddNameEntry(subject.get(), NID_commonName, r.common_name));
  }
  if (!X509_set_subject_name(cert.get(), subject.get()) ||
      !X509_set_issuer_name(cert.get(), X509_get_subject_name(r.issuer)) ||
      !X509_set_pubkey(cert.get(), r.key)) {
    return OsslFailure("certificate");
  }
  STEPCA_RETURN_IF_ERROR(SetValidity(cert.get(), r.not_before, r.not_after));
  const char* ku = EVP_PKEY_get_base_id(r.key) == EVP_PKEY_RSA
                       ? "critical,digitalSignature,keyEncipherment"
                       : "critical,digitalSignature";
  STEPCA_RETURN_IF_ERROR(AddExtension(cert.get(), r.issuer, NID_key_usage, ku));
  STEPCA_RETURN_IF_ERROR(
      AddExtension(cert.get(), r.issuer, NID_ext_key_usage, "serverAuth"));
  STEPCA_RETURN_IF_ERROR(
      AddExtension(cert.get(), r.issuer, NID_subject_key_identifier, "hash"));
  STEPCA_RETURN_IF_ERROR(AddExtension(
      cert.get(), r.issuer, NID_authority_key_identifier, "keyid:always"));
  if (!r.names.empty()) {
    STEPCA_ASSIGN_OR_RETURN(GeneralNamesPtr gens, NamesToGeneralNames(r.names));
    if (!X509_add1_ext_i2d(cert.get(), NID_subject_alt_name, gens.get(), 0,
                           X509V3_ADD_DEFAULT)) {
      return OsslFailure("subjectAltName");
    }
  }
  STEPCA_RETURN_IF_ERROR(SignCert(cert.get(), r.issuer_key, r.issuer_signer));
  return cert;
}

Result<X509ReqPtr> MakeCsr(EVP_PKEY* key, const std::string& common_name,
                           const std::vector<std::string>& names) {
  X509ReqPtr req(X509_REQ_new());
  if (!req || !X509_REQ_set_version(req.get(), X509_REQ_VERSION_1)) {
    return OsslFailure("CSR");
  }
  X509NamePtr subject(X509_NAME_new());
  if (!subject) return OsslFailure("CSR");
  if (!common_name.empty()) {
    STEPCA_RETURN_IF_ERROR(
        AddNameEntry(subject.get(), NID_commonName, common_name));
  }
  if (!X509_REQ_set_subject_name(req.get(), subject.get()) ||
      !X509_REQ_set_pubkey(req.get(), key)) {
    return OsslFailure("CSR");
  }
  if (!names.empty()) {
    STEPCA_ASSIGN_OR_RETURN(GeneralNamesPtr gens, NamesToGeneralNames(names));
    X509ExtPtr ext(X509V3_EXT_i2d(NID_subject_alt_name, 0, gens.get()));
    ExtStackPtr exts(sk_X509_EXTENSION_new_null());
    if (!ext || !exts || !sk_X509_EXTENSION_push(exts.get(), ext.get())) {
      return OsslFailure("CSR extensions");
    }
    ext.release();  // owned by exts now
    if (!X509_REQ_add_extensions(req.get(), exts.get())) {
      return OsslFailure("CSR extensions");
    }
  }
  if (X509_REQ_sign(req.get(), key, SigningDigest(key)) <= 0) {
    return OsslFailure("signing CSR");
  }
  return req;
}

std::string CsrToPem(X509_REQ* req) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || !PEM_write_bio_X509_REQ(bio.get(), req)) return "";
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

Result<SigningCa> ReadSigningCa(const std::string& ca_path, const std::string& key_path,
                                const std::string& password_file) {
  SigningCa out;
  STEPCA_ASSIGN_OR_RETURN(out.certs, ReadCertificates(ca_path));
  std::string password;
  if (!password_file.empty()) {
    STEPCA_ASSIGN_OR_RETURN(password, ReadPasswordFile(password_file));
  }
  auto pem = ReadFile(key_path);
  if (!pem.ok()) {
    Wipe(password);
    return pem.status();
  }
  auto key = LoadPrivateKeyPem(pem.value(), password);
  Wipe(pem.value());
  Wipe(password);
  if (!key.ok()) return InvalidArgument(key_path + ": " + key.status().message());
  if (X509_check_private_key(out.certs.front().get(), key->get()) != 1)
    return InvalidArgument(key_path + " does not match " + ca_path);
  out.key = std::move(key).value();
  return out;
}

}  // namespace cli
}  // namespace stepca
