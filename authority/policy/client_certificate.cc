#include "authority/policy/client_certificate.h"

#include <openssl/sha.h>

#include <cctype>

#include "authority/jose/jws.h"
#include "authority/x509/chain.h"
#include "shared/base64.h"

namespace stepca {
namespace {

constexpr char kProvisionerOid[] = "1.3.6.1.4.1.37476.9000.64.1";

std::string Sha256Hex(std::string_view data) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), md);
  return HexEncode(std::string(reinterpret_cast<char*>(md), sizeof md));
}

// One DER TLV at *p (definite length, at most 4 length bytes).
bool ReadTlv(std::string_view* in, unsigned char* tag, std::string_view* value) {
  if (in->size() < 2) return false;
  *tag = static_cast<unsigned char>((*in)[0]);
  size_t len = static_cast<unsigned char>((*in)[1]);
  size_t off = 2;
  if (len & 0x80) {
    const size_t n = len & 0x7f;
    if (n == 0 || n > 4 || in->size() < 2 + n) return false;
    len = 0;
    for (size_t i = 0; i < n; ++i) len = (len << 8) | static_cast<unsigned char>((*in)[2 + i]);
    off += n;
  }
  if (in->size() - off < len) return false;
  *value = in->substr(off, len);
  in->remove_prefix(off + len);
  return true;
}

}  // namespace

Result<X509Ptr> VerifiedPeerCertificate(std::string_view der, const TrustAnchors& anchors,
                                        TimePoint now) {
  auto cert = ParseCertificateDer(der);
  if (!cert.ok())
    return Unauthenticated("client certificate is not valid").WithDetail(cert.status().message());
  ChainCheck check;
  check.roots = anchors.roots;
  check.more_roots = anchors.federated_roots;
  check.intermediates = anchors.intermediates;
  check.at = now;
  Status st = VerifyClientChain(cert->get(), {}, check);
  if (!st.ok()) return st.Wrap("client certificate");
  return cert;
}

Result<RenewSubject> RenewSubjectFromToken(std::string_view token, const TrustAnchors& anchors) {
  const Status invalid = Unauthenticated("authority.AuthorizeRenewToken: error validating renew token");
  auto jws = ParseCompactJws(token);
  if (!jws.ok()) return invalid.WithDetail(jws.status().message());
  auto chain = ParseX5cHeader(jws->header.get(), "x5cInsecure");
  if (!chain.ok()) return invalid.WithDetail(chain.status().message());
  X509Ptr leaf = std::move(chain->front());
  std::vector<X509Ptr> extra;
  for (size_t i = 1; i < chain->size(); ++i) extra.push_back(std::move((*chain)[i]));
  ChainCheck check;
  check.roots = anchors.roots;
  check.intermediates = anchors.intermediates;
  check.at = CertNotAfter(leaf.get()) - std::chrono::minutes(1);
  check.require_digital_signature = true;
  Status st = VerifyClientChain(leaf.get(), extra, check);
  if (!st.ok()) return invalid.WithDetail(st.message());
  st = VerifyJws(jws.value(), X509_get0_pubkey(leaf.get()));
  if (!st.ok()) return invalid.WithDetail(st.message());
  auto claims = ReadTokenClaims(jws->payload.get());
  if (!claims.ok()) return invalid.WithDetail(claims.status().message());
  RenewSubject out;
  out.cert = std::move(leaf);
  out.by_token = true;
  out.claims = std::move(claims).value();
  // No jti in step's renew tokens: the canonical header and payload.
  out.token_key = Sha256Hex("renew\n" + CanonicalTokenId(jws.value()));
  return out;
}

std::optional<std::string> ProvisionerNameFromExtension(X509* cert, bool* bad) {
  *bad = false;
  std::unique_ptr<ASN1_OBJECT, OsslDeleter<ASN1_OBJECT, ASN1_OBJECT_free>> oid(
      OBJ_txt2obj(kProvisionerOid, 1));
  if (!oid) return std::nullopt;
  const int i = X509_get_ext_by_OBJ(cert, oid.get(), -1);
  if (i < 0) return std::nullopt;
  const ASN1_OCTET_STRING* os = X509_EXTENSION_get_data(X509_get_ext(cert, i));
  std::string_view in(reinterpret_cast<const char*>(ASN1_STRING_get0_data(os)),
                      static_cast<size_t>(ASN1_STRING_length(os)));
  unsigned char tag;
  std::string_view seq, type, name;
  if (!ReadTlv(&in, &tag, &seq) || tag != 0x30 || !ReadTlv(&seq, &tag, &type) || tag != 0x02 ||
      !ReadTlv(&seq, &tag, &name) || tag != 0x04) {
    *bad = true;
    return std::string();
  }
  return std::string(name);
}

std::string_view BearerToken(std::string_view header) {
  constexpr std::string_view kBearer = "bearer";
  size_t i = 0;
  while (i < header.size() && header[i] == ' ') ++i;
  if (header.size() - i < kBearer.size()) return {};
  for (size_t k = 0; k < kBearer.size(); ++k) {
    if (std::tolower(static_cast<unsigned char>(header[i + k])) != kBearer[k]) return {};
  }
  std::string_view rest = header.substr(i + kBearer.size());
  if (rest.empty() || rest[0] != ' ') return {};
  while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
  while (!rest.empty() && rest.back() == ' ') rest.remove_suffix(1);
  return rest;
}

}  // namespace stepca
