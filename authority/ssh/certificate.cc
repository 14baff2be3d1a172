#include "authority/ssh/certificate.h"

#include <openssl/rand.h>

#include "authority/ssh/public_key.h"
#include "authority/ssh/signature.h"
#include "authority/ssh/wire.h"
#include "shared/base64.h"

namespace stepca::ssh {
namespace {

constexpr std::string_view kCertSuffix = "-cert-v01@openssh.com";

// How many wire strings follow the type name in a key blob of this type;
// 0 for a type with no certificate form.
int KeyFieldCount(std::string_view key_type) {
  if (key_type == "ssh-ed25519") return 1;
  if (key_type == "ssh-rsa") return 2;
  if (key_type == "ecdsa-sha2-nistp256" || key_type == "ecdsa-sha2-nistp384" ||
      key_type == "ecdsa-sha2-nistp521")
    return 2;
  return 0;
}

std::string Tuples(const std::map<std::string, std::string>& m) {
  WireWriter w;
  for (const auto& [name, value] : m) {
    w.String(name);
    if (value.empty()) {
      w.String("");
    } else {
      WireWriter inner;
      inner.String(value);
      w.String(inner.bytes());
    }
  }
  return w.Take();
}

bool ReadTuples(std::string_view in, std::map<std::string, std::string>* out) {
  WireReader r(in);
  std::string last;
  bool first = true;
  while (!r.empty()) {
    std::string_view name, data;
    if (!r.String(&name) || !r.String(&data)) return false;
    // PROTOCOL.certkeys: names appear once each, in lexical order.
    if (!first && std::string(name) <= last) return false;
    first = false;
    last = std::string(name);
    std::string value;
    if (!data.empty()) {
      WireReader d(data);
      std::string_view v;
      if (!d.String(&v) || !d.empty()) return false;
      value = std::string(v);
    }
    (*out)[last] = value;
  }
  return true;
}

// Everything up to and including the signature key: what the CA signs.
Result<std::string> SignedPart(const Certificate& c) {
  WireReader key(c.key_blob);
  std::string_view key_type;
  if (!key.String(&key_type)) return InvalidArgument("ssh: malformed public key");
  const int fields = KeyFieldCount(key_type);
  if (fields == 0)
    return InvalidArgument("ssh: cannot certify a key of type " + std::string(key_type.substr(0, 64)));
  WireWriter w;
  w.String(std::string(key_type) + std::string(kCertSuffix));
  w.String(c.nonce);
  w.Raw(key.rest());
  w.U64(c.serial);
  w.U32(static_cast<uint32_t>(c.type));
  w.String(c.key_id);
  WireWriter principals;
  for (const auto& p : c.principals) principals.String(p);
  w.String(principals.bytes());
  w.U64(c.valid_after);
  w.U64(c.valid_before);
  w.String(Tuples(c.critical_options));
  w.String(Tuples(c.extensions));
  w.String("");  // reserved
  w.String(c.signature_key);
  return w.Take();
}

}  // namespace

std::map<std::string, std::string> DefaultUserExtensions() {
  return {{"permit-X11-forwarding", ""},
          {"permit-agent-forwarding", ""},
          {"permit-port-forwarding", ""},
          {"permit-pty", ""},
          {"permit-user-rc", ""}};
}

std::string CertificateTypeName(std::string_view key_type) {
  if (KeyFieldCount(key_type) == 0) return "";
  return std::string(key_type) + std::string(kCertSuffix);
}

Result<EvpPkeyPtr> KeyOf(std::string_view blob) {
  STEPCA_ASSIGN_OR_RETURN(PublicKey k, ParsePublicKeyBlob(blob));
  return std::move(k.key);
}

Status SignCertificate(Certificate* c, const Signer& ca) {
  if (c->nonce.empty()) {
    unsigned char n[32];
    if (RAND_bytes(n, sizeof n) != 1) return Internal("ssh: no randomness for the nonce");
    c->nonce.assign(reinterpret_cast<char*>(n), sizeof n);
  }
  STEPCA_ASSIGN_OR_RETURN(c->signature_key, MarshalPublicKey(ca.PublicKey()));
  STEPCA_ASSIGN_OR_RETURN(std::string tbs, SignedPart(*c));
  STEPCA_ASSIGN_OR_RETURN(c->signature, MakeSignature(ca, tbs));
  WireWriter w;
  w.Raw(tbs);
  w.String(c->signature);
  c->wire = w.Take();
  return Status::Ok();
}

Result<Certificate> ParseCertificate(std::string_view wire) {
  const Status bad = InvalidArgument("ssh: malformed certificate");
  WireReader r(wire);
  std::string_view cert_type;
  if (!r.String(&cert_type) || cert_type.size() <= kCertSuffix.size() ||
      cert_type.substr(cert_type.size() - kCertSuffix.size()) != kCertSuffix)
    return bad;
  std::string_view key_type = cert_type.substr(0, cert_type.size() - kCertSuffix.size());
  const int fields = KeyFieldCount(key_type);
  if (fields == 0) return InvalidArgument("ssh: unknown certificate type " + std::string(cert_type.substr(0, 64)));
  Certificate c;
  std::string_view nonce;
  if (!r.String(&nonce)) return bad;
  c.nonce = std::string(nonce);
  WireWriter key;
  key.String(key_type);
  for (int i = 0; i < fields; ++i) {
    std::string_view f;
    if (!r.String(&f)) return bad;
    key.String(f);
  }
  c.key_blob = key.Take();
  uint32_t type = 0;
  std::string_view key_id, principals, options, extensions, reserved, sig_key, sig;
  if (!r.U64(&c.serial) || !r.U32(&type) || !r.String(&key_id) || !r.String(&principals) ||
      !r.U64(&c.valid_after) || !r.U64(&c.valid_before) || !r.String(&options) ||
      !r.String(&extensions) || !r.String(&reserved) || !r.String(&sig_key) || !r.String(&sig) ||
      !r.empty())
    return bad;
  if (type != 1 && type != 2) return bad;
  c.type = static_cast<CertType>(type);
  c.key_id = std::string(key_id);
  WireReader pr(principals);
  while (!pr.empty()) {
    std::string_view p;
    if (!pr.String(&p)) return bad;
    c.principals.emplace_back(p);
  }
  if (!ReadTuples(options, &c.critical_options) || !ReadTuples(extensions, &c.extensions)) return bad;
  c.signature_key = std::string(sig_key);
  c.signature = std::string(sig);
  c.wire = std::string(wire);
  // The subject key must itself parse.
  auto k = ParsePublicKeyBlob(c.key_blob);
  if (!k.ok()) return k.status();
  return c;
}

Status VerifyCertificate(const Certificate& c) {
  auto ca = KeyOf(c.signature_key);
  if (!ca.ok()) return Unauthenticated("ssh: certificate signature key: " + ca.status().message());
  auto tbs = SignedPart(c);
  if (!tbs.ok()) return Unauthenticated(tbs.status().message());
  return VerifySignature(ca->get(), c.signature, *tbs);
}

std::string CertificateLine(const Certificate& c) {
  return CertificateTypeName(BlobType(c.key_blob)) + " " + Base64Encode(c.wire);
}

}  // namespace stepca::ssh
