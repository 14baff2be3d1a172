#include "authority/x509/ec_csr.h"

#include <openssl/asn1.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

namespace stepca {

namespace {

struct Tlv {
  const unsigned char* start = nullptr;  // first byte of the tag
  const unsigned char* content = nullptr;
  const unsigned char* end = nullptr;    // one past the content
  int tag = 0;
  int cls = 0;
  bool constructed = false;
};

// One definite-length DER element from [p, end); advances p past it.
bool ReadTlv(const unsigned char*& p, const unsigned char* end, Tlv* t) {
  if (p >= end) return false;
  const unsigned char* start = p;
  long len = 0;
  int tag = 0, cls = 0;
  const int r = ASN1_get_object(&p, &len, &tag, &cls, end - start);
  if ((r & 0x80) != 0 || r == 0x21 || len < 0 || len > end - p) {
    ERR_clear_error();
    return false;
  }
  t->start = start;
  t->content = p;
  t->end = p + len;
  t->tag = tag;
  t->cls = cls;
  t->constructed = (r & V_ASN1_CONSTRUCTED) != 0;
  p = t->end;
  return true;
}

bool IsUniversal(const Tlv& t, int tag, bool constructed) {
  return t.cls == V_ASN1_UNIVERSAL && t.tag == tag && t.constructed == constructed;
}

long Length(const Tlv& t) { return t.end - t.start; }

using AlgorPtr = OsslPtr<X509_ALGOR, X509_ALGOR_free>;
using BitStringPtr = OsslPtr<ASN1_BIT_STRING, ASN1_BIT_STRING_free>;
using AttributePtr = OsslPtr<X509_ATTRIBUTE, X509_ATTRIBUTE_free>;

int NamedCurve(const Tlv& spki_alg) {
  const unsigned char* p = spki_alg.start;
  AlgorPtr alg(d2i_X509_ALGOR(nullptr, &p, Length(spki_alg)));
  if (!alg || p != spki_alg.end) return NID_undef;
  const ASN1_OBJECT* oid = nullptr;
  int ptype = V_ASN1_UNDEF;
  const void* pval = nullptr;
  X509_ALGOR_get0(&oid, &ptype, &pval, alg.get());
  if (OBJ_obj2nid(oid) != NID_X9_62_id_ecPublicKey || ptype != V_ASN1_OBJECT) return NID_undef;
  const int curve = OBJ_obj2nid(static_cast<const ASN1_OBJECT*>(pval));
  switch (curve) {
    case NID_X9_62_prime256v1:
    case NID_secp384r1:
    case NID_secp521r1:
      return curve;
    default:
      return NID_undef;
  }
}

// The digest of ecdsa-with-SHA256/384/512, without parameters; 0 for any
// other signature algorithm.
size_t DigestFor(const X509_ALGOR* alg, const unsigned char* data, size_t len,
                 unsigned char* out) {
  const ASN1_OBJECT* oid = nullptr;
  int ptype = V_ASN1_UNDEF;
  X509_ALGOR_get0(&oid, &ptype, nullptr, alg);
  if (ptype != V_ASN1_UNDEF) return 0;
  switch (OBJ_obj2nid(oid)) {
    case NID_ecdsa_with_SHA256:
      SHA256(data, len, out);
      return SHA256_DIGEST_LENGTH;
    case NID_ecdsa_with_SHA384:
      SHA384(data, len, out);
      return SHA384_DIGEST_LENGTH;
    case NID_ecdsa_with_SHA512:
      SHA512(data, len, out);
      return SHA512_DIGEST_LENGTH;
    default:
      return 0;
  }
}

}  // namespace

std::optional<Result<X509ReqPtr>> ParseEcCsr(std::string_view der) {
  const auto* begin = reinterpret_cast<const unsigned char*>(der.data());
  const unsigned char* const end = begin + der.size();

  // CertificationRequest ::= SEQUENCE { info, signatureAlgorithm, signature }
  const unsigned char* p = begin;
  Tlv outer, info, sig_alg, sig;
  if (!ReadTlv(p, end, &outer) || p != end || !IsUniversal(outer, V_ASN1_SEQUENCE, true))
    return std::nullopt;
  p = outer.content;
  if (!ReadTlv(p, outer.end, &info) || !IsUniversal(info, V_ASN1_SEQUENCE, true) ||
      !ReadTlv(p, outer.end, &sig_alg) || !IsUniversal(sig_alg, V_ASN1_SEQUENCE, true) ||
      !ReadTlv(p, outer.end, &sig) || !IsUniversal(sig, V_ASN1_BIT_STRING, false) ||
      p != outer.end)
    return std::nullopt;

  // CertificationRequestInfo ::= SEQUENCE { version, subject, spki, [0] attributes }
  Tlv version, subject, spki, attributes;
  p = info.content;
  if (!ReadTlv(p, info.end, &version) || !IsUniversal(version, V_ASN1_INTEGER, false) ||
      version.end - version.content != 1 || version.content[0] != 0 ||
      !ReadTlv(p, info.end, &subject) || !IsUniversal(subject, V_ASN1_SEQUENCE, true) ||
      !ReadTlv(p, info.end, &spki) || !IsUniversal(spki, V_ASN1_SEQUENCE, true) ||
      !ReadTlv(p, info.end, &attributes) || attributes.cls != V_ASN1_CONTEXT_SPECIFIC ||
      attributes.tag != 0 || !attributes.constructed || p != info.end)
    return std::nullopt;

  // SubjectPublicKeyInfo ::= SEQUENCE { AlgorithmIdentifier, BIT STRING }
  Tlv spki_alg, spki_bits;
  p = spki.content;
  if (!ReadTlv(p, spki.end, &spki_alg) || !IsUniversal(spki_alg, V_ASN1_SEQUENCE, true) ||
      !ReadTlv(p, spki.end, &spki_bits) || !IsUniversal(spki_bits, V_ASN1_BIT_STRING, false) ||
      p != spki.end)
    return std::nullopt;
  const int curve = NamedCurve(spki_alg);
  // First content byte of a BIT STRING: unused bits, 0 for a point.
  if (curve == NID_undef || spki_bits.end - spki_bits.content < 2 || spki_bits.content[0] != 0)
    return std::nullopt;

  const unsigned char* q = sig_alg.start;
  AlgorPtr alg(d2i_X509_ALGOR(nullptr, &q, Length(sig_alg)));
  q = sig.start;
  BitStringPtr signature(d2i_ASN1_BIT_STRING(nullptr, &q, Length(sig)));
  q = subject.start;
  X509NamePtr name(d2i_X509_NAME(nullptr, &q, Length(subject)));
  if (!alg || !signature || !name || q != subject.end) {
    ERR_clear_error();
    return std::nullopt;
  }
  unsigned char digest[SHA512_DIGEST_LENGTH];
  const size_t digest_len =
      DigestFor(alg.get(), info.start, static_cast<size_t>(Length(info)), digest);
  if (digest_len == 0) return std::nullopt;

  // The legacy EC_KEY API is deprecated in OpenSSL 3 but is the public path
  // that reaches the curve arithmetic without a decoder or a provider
  // export; the EVP_PKEY wrapping it works with every EVP call after this.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  EC_KEY* ec = EC_KEY_new_by_curve_name(curve);
  const unsigned char* point = spki_bits.content + 1;
  if (ec == nullptr ||
      o2i_ECPublicKey(&ec, &point, spki_bits.end - spki_bits.content - 1) == nullptr ||
      point != spki_bits.end) {
    // not a point of the curve: the general parser says so in its words
    EC_KEY_free(ec);
    ERR_clear_error();
    return std::nullopt;
  }
  EvpPkeyPtr key(EVP_PKEY_new());
  if (!key || EVP_PKEY_assign_EC_KEY(key.get(), ec) != 1) {
    EC_KEY_free(ec);
    return Result<X509ReqPtr>(Internal("invalid csr: out of memory"));
  }
  const int verified =
      ECDSA_verify(0, digest, static_cast<int>(digest_len), ASN1_STRING_get0_data(signature.get()),
                   ASN1_STRING_length(signature.get()), ec);  // owned by key now
#pragma GCC diagnostic pop
  ERR_clear_error();
  if (verified != 1 || (signature->flags & 0x07) != 0)
    return Result<X509ReqPtr>(InvalidArgument("invalid csr: x509: ECDSA verification failure"));

  X509ReqPtr req(X509_REQ_new());
  if (!req || X509_REQ_set_version(req.get(), X509_REQ_VERSION_1) != 1 ||
      X509_REQ_set_subject_name(req.get(), name.get()) != 1 ||
      X509_REQ_set_pubkey(req.get(), key.get()) != 1 ||
      X509_REQ_set1_signature_algo(req.get(), alg.get()) != 1) {
    ERR_clear_error();
    return std::nullopt;
  }
  p = attributes.content;
  while (p < attributes.end) {
    Tlv attr;
    if (!ReadTlv(p, attributes.end, &attr)) return std::nullopt;
    q = attr.start;
    AttributePtr a(d2i_X509_ATTRIBUTE(nullptr, &q, Length(attr)));
    if (!a || q != attr.end || X509_REQ_add1_attr(req.get(), a.get()) != 1) {
      ERR_clear_error();
      return std::nullopt;
    }
  }
  X509_REQ_set0_signature(req.get(), signature.release());
  return Result<X509ReqPtr>(std::move(req));
}

}  // namespace stepca
