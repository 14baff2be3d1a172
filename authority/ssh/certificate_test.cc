// The encoder against OpenSSH itself: ssh-keygen reads every certificate we
// make, and for an Ed25519 CA (deterministic signatures) our bytes equal
// the ones `ssh-keygen -s` writes for the same fields and nonce.
#include "authority/ssh/certificate.h"

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "authority/signer/file_signer.h"
#include "authority/ssh/public_key.h"
#include "authority/ssh/wire.h"
#include "shared/base64.h"

namespace stepca::ssh {
namespace {

EvpPkeyPtr Generate(const std::string& kind) {
  if (kind == "ed25519") return EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  if (kind == "rsa") return EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", size_t{2048}));
  return EvpPkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", kind.c_str()));
}

std::unique_ptr<Signer> SignerFor(EVP_PKEY* key) {
  EVP_PKEY_up_ref(key);
  auto s = MakeFileSigner(EvpPkeyPtr(key));
  EXPECT_TRUE(s.ok()) << s.status().message();
  return std::move(s).value();
}

bool HaveSshKeygen() { return std::system("ssh-keygen -? >/dev/null 2>&1; command -v ssh-keygen >/dev/null") == 0; }

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/stepca-ssh-test-XXXXXX";
    path_ = mkdtemp(tmpl);
  }
  ~TempDir() { std::system(("rm -rf " + path_).c_str()); }
  std::string operator/(const std::string& f) const { return path_ + "/" + f; }

 private:
  std::string path_;
};

void WriteFile(const std::string& path, const std::string& data, mode_t mode = 0600) {
  std::ofstream(path, std::ios::binary) << data;
  chmod(path.c_str(), mode);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Shell(const std::string& cmd, int* rc = nullptr) {
  std::string out;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int st = pclose(p);
  if (rc) *rc = WEXITSTATUS(st);
  return out;
}

std::string PemOf(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, n);
}

// OpenSSH's own private key file for an Ed25519 key (ssh-keygen reads no
// PEM Ed25519 keys): the unencrypted openssh-key-v1 container.
std::string OpensshEd25519(EVP_PKEY* key) {
  unsigned char seed[32], pk[32];
  size_t n = 32;
  EVP_PKEY_get_raw_private_key(key, seed, &n);
  n = 32;
  EVP_PKEY_get_raw_public_key(key, pk, &n);
  std::string pub = MarshalPublicKey(key).value();
  WireWriter priv;
  priv.U32(0x01020304);
  priv.U32(0x01020304);
  priv.String("ssh-ed25519");
  priv.String(std::string(reinterpret_cast<char*>(pk), 32));
  priv.String(std::string(reinterpret_cast<char*>(seed), 32) + std::string(reinterpret_cast<char*>(pk), 32));
  priv.String("test");
  std::string p = priv.Take();
  for (char c = 1; p.size() % 8 != 0; ++c) p.push_back(c);
  WireWriter w;
  w.Raw(std::string("openssh-key-v1") + '\0');
  w.String("none");
  w.String("none");
  w.String("");
  w.U32(1);
  w.String(pub);
  w.String(p);
  std::string b64 = Base64Encode(w.bytes());
  std::string out = "-----BEGIN OPENSSH PRIVATE KEY-----\n";
  for (size_t i = 0; i < b64.size(); i += 70) out += b64.substr(i, 70) + "\n";
  return out + "-----END OPENSSH PRIVATE KEY-----\n";
}

std::string CaFile(const TempDir& dir, EVP_PKEY* ca, const std::string& kind) {
  std::string path = dir / "ca";
  WriteFile(path, kind == "ed25519" ? OpensshEd25519(ca) : PemOf(ca));
  return path;
}

Certificate UserCert(EVP_PKEY* subject) {
  Certificate c;
  c.key_blob = MarshalPublicKey(subject).value();
  c.serial = 1234567890123ULL;
  c.type = CertType::kUser;
  c.key_id = "alice@example.com";
  c.principals = {"alice", "alice@example.com"};
  c.valid_after = 1767225600;   // 2026-01-01T00:00:00Z
  c.valid_before = 1767312000;  // 2026-01-02T00:00:00Z
  c.critical_options = {{"force-command", "/usr/bin/id"}, {"source-address", "127.0.0.1/32"}};
  c.extensions = DefaultUserExtensions();
  return c;
}

TEST(SshCertificate, EveryCaAndSubjectKeyReadsBackAndVerifies) {
  for (const std::string ca_kind : {"ed25519", "P-256", "P-384", "P-521", "rsa"}) {
    auto ca = Generate(ca_kind);
    auto signer = SignerFor(ca.get());
    for (const std::string subject_kind : {"ed25519", "P-256", "P-384", "P-521", "rsa"}) {
      auto subject = Generate(subject_kind);
      Certificate c = UserCert(subject.get());
      ASSERT_TRUE(SignCertificate(&c, *signer).ok()) << ca_kind << "/" << subject_kind;
      auto parsed = ParseCertificate(c.wire);
      ASSERT_TRUE(parsed.ok()) << parsed.status().message();
      EXPECT_EQ(parsed->key_blob, c.key_blob);
      EXPECT_EQ(parsed->principals, c.principals);
      EXPECT_EQ(parsed->critical_options, c.critical_options);
      EXPECT_EQ(parsed->extensions, c.extensions);
      EXPECT_EQ(parsed->serial, c.serial);
      EXPECT_EQ(parsed->signature_key, MarshalPublicKey(ca.get()).value());
      EXPECT_TRUE(VerifyCertificate(*parsed).ok()) << ca_kind << "/" << subject_kind;
      // Any flipped byte of the signed part breaks the signature.
      std::string bad = c.wire;
      bad[bad.size() / 3] ^= 0x01;
      auto tampered = ParseCertificate(bad);
      if (tampered.ok()) {
        EXPECT_FALSE(VerifyCertificate(*tampered).ok());
      }
    }
  }
}

TEST(SshCertificate, RsaCaSignsWithSha2NeverSha1) {
  auto ca = Generate("rsa");
  auto signer = SignerFor(ca.get());
  auto subject = Generate("P-256");
  Certificate c = UserCert(subject.get());
  ASSERT_TRUE(SignCertificate(&c, *signer).ok());
  WireReader r(c.signature);
  std::string_view alg;
  ASSERT_TRUE(r.String(&alg));
  EXPECT_EQ(alg, "rsa-sha2-256");
}

TEST(SshCertificate, SshKeygenReadsOurs) {
  if (!HaveSshKeygen()) GTEST_SKIP() << "ssh-keygen not installed (openssh-client)";
  TempDir dir;
  for (const std::string ca_kind : {"ed25519", "P-256", "P-384", "P-521", "rsa"}) {
    auto ca = Generate(ca_kind);
    auto signer = SignerFor(ca.get());
    for (const std::string subject_kind : {"ed25519", "P-256", "rsa"}) {
      auto subject = Generate(subject_kind);
      Certificate c = UserCert(subject.get());
      ASSERT_TRUE(SignCertificate(&c, *signer).ok());
      WriteFile(dir / "user-cert.pub", CertificateLine(c) + "\n", 0644);
      int rc = 0;
      std::string out = Shell("ssh-keygen -L -f " + (dir / "user-cert.pub"), &rc);
      ASSERT_EQ(rc, 0) << out;
      EXPECT_NE(out.find(CertificateTypeName(BlobType(c.key_blob)) + " user certificate"), std::string::npos) << out;
      EXPECT_NE(out.find("Key ID: \"alice@example.com\""), std::string::npos) << out;
      EXPECT_NE(out.find("Serial: 1234567890123"), std::string::npos) << out;
      EXPECT_NE(out.find("Valid: from 2026-01-01T00:00:00 to 2026-01-02T00:00:00"), std::string::npos) << out;
      EXPECT_NE(out.find("force-command /usr/bin/id"), std::string::npos) << out;
      EXPECT_NE(out.find("source-address 127.0.0.1/32"), std::string::npos) << out;
      EXPECT_NE(out.find("permit-user-rc"), std::string::npos) << out;
      EXPECT_NE(out.find(Fingerprint(c.signature_key)), std::string::npos) << out;
      if (ca_kind == "rsa") {
        EXPECT_NE(out.find("(using rsa-sha2-256)"), std::string::npos) << out;
      }
    }
  }
}

TEST(SshCertificate, HostCertificateHasNoExtensions) {
  if (!HaveSshKeygen()) GTEST_SKIP() << "ssh-keygen not installed (openssh-client)";
  TempDir dir;
  auto ca = Generate("P-256");
  auto signer = SignerFor(ca.get());
  auto subject = Generate("ed25519");
  Certificate c;
  c.key_blob = MarshalPublicKey(subject.get()).value();
  c.type = CertType::kHost;
  c.serial = 7;
  c.key_id = "host.example.com";
  c.principals = {"host.example.com"};
  c.valid_after = 0;
  c.valid_before = kForever;
  ASSERT_TRUE(SignCertificate(&c, *signer).ok());
  WriteFile(dir / "host-cert.pub", CertificateLine(c) + "\n", 0644);
  std::string out = Shell("ssh-keygen -L -f " + (dir / "host-cert.pub"));
  EXPECT_NE(out.find("host certificate"), std::string::npos) << out;
  EXPECT_NE(out.find("Valid: forever"), std::string::npos) << out;
  EXPECT_NE(out.find("Extensions: (none)"), std::string::npos) << out;
}

// ssh-keygen -s signs; we parse its certificate, build ours from the same
// fields and nonce with the same Ed25519 CA key, and expect the same bytes.
TEST(SshCertificate, SameBytesAsSshKeygenForEd25519Ca) {
  if (!HaveSshKeygen()) GTEST_SKIP() << "ssh-keygen not installed (openssh-client)";
  for (const std::string subject_kind : {"ed25519", "P-256", "P-384", "P-521", "rsa"}) {
    for (const std::string type : {"user", "host"}) {
      TempDir dir;
      auto ca = Generate("ed25519");
      std::string ca_path = CaFile(dir, ca.get(), "ed25519");
      auto subject = Generate(subject_kind);
      std::string blob = MarshalPublicKey(subject.get()).value();
      WriteFile(dir / "k.pub", AuthorizedKeyLine(blob) + " test\n", 0644);
      std::string cmd = "ssh-keygen -q -s " + ca_path + " -I key-id-1 -n alice,bob -z 99 " +
                        "-V 20260101000000Z:20260102000000Z ";
      if (type == "host") cmd += "-h ";
      else cmd += "-O force-command=/bin/true -O source-address=10.0.0.0/8 ";
      int rc = 0;
      std::string out = Shell(cmd + (dir / "k.pub"), &rc);
      ASSERT_EQ(rc, 0) << out;
      std::string line = ReadFile(dir / "k-cert.pub");
      std::string b64 = line.substr(line.find(' ') + 1);
      b64 = b64.substr(0, b64.find_first_of(" \n"));
      std::string theirs = Base64Decode(b64).value();
      auto parsed = ParseCertificate(theirs);
      ASSERT_TRUE(parsed.ok()) << parsed.status().message();
      EXPECT_TRUE(VerifyCertificate(*parsed).ok());

      Certificate c;
      c.nonce = parsed->nonce;
      c.key_blob = blob;
      c.serial = 99;
      c.type = type == "host" ? CertType::kHost : CertType::kUser;
      c.key_id = "key-id-1";
      c.principals = {"alice", "bob"};
      c.valid_after = 1767225600;
      c.valid_before = 1767312000;
      if (type == "user") {
        c.critical_options = {{"force-command", "/bin/true"}, {"source-address", "10.0.0.0/8"}};
        c.extensions = DefaultUserExtensions();
      }
      auto signer = SignerFor(ca.get());
      ASSERT_TRUE(SignCertificate(&c, *signer).ok());
      EXPECT_EQ(Base64Encode(c.wire), Base64Encode(theirs)) << subject_kind << " " << type;
    }
  }
}

// Signatures ssh-keygen makes with ECDSA and RSA CA keys verify here (the
// mpint r/s and rsa-sha2-512 forms).
TEST(SshCertificate, VerifiesSshKeygenEcdsaAndRsaSignatures) {
  if (!HaveSshKeygen()) GTEST_SKIP() << "ssh-keygen not installed (openssh-client)";
  for (const std::string ca_kind : {"P-256", "P-384", "P-521", "rsa"}) {
    TempDir dir;
    auto ca = Generate(ca_kind);
    std::string ca_path = CaFile(dir, ca.get(), ca_kind);
    auto subject = Generate("ed25519");
    WriteFile(dir / "k.pub", AuthorizedKeyLine(MarshalPublicKey(subject.get()).value()) + "\n", 0644);
    int rc = 0;
    std::string out = Shell("ssh-keygen -q -s " + ca_path + " -I x -n a " + (dir / "k.pub"), &rc);
    ASSERT_EQ(rc, 0) << out;
    std::string line = ReadFile(dir / "k-cert.pub");
    std::string b64 = line.substr(line.find(' ') + 1);
    b64 = b64.substr(0, b64.find_first_of(" \n"));
    auto parsed = ParseCertificate(Base64Decode(b64).value());
    ASSERT_TRUE(parsed.ok()) << parsed.status().message();
    EXPECT_EQ(parsed->signature_key, MarshalPublicKey(ca.get()).value());
    EXPECT_TRUE(VerifyCertificate(*parsed).ok()) << ca_kind;
  }
}

TEST(SshCertificate, MalformedCertificatesAreRefused) {
  auto ca = Generate("P-256");
  auto signer = SignerFor(ca.get());
  auto subject = Generate("ed25519");
  Certificate c = UserCert(subject.get());
  ASSERT_TRUE(SignCertificate(&c, *signer).ok());
  EXPECT_FALSE(ParseCertificate(c.wire.substr(0, c.wire.size() - 1)).ok());
  EXPECT_FALSE(ParseCertificate(c.wire + "x").ok());
  EXPECT_FALSE(ParseCertificate("").ok());
  EXPECT_FALSE(ParseCertificate(c.key_blob).ok());  // a key, not a certificate
  WireWriter w;
  w.String("ssh-dss-cert-v01@openssh.com");
  auto dss = ParseCertificate(w.bytes());
  ASSERT_FALSE(dss.ok());
  EXPECT_NE(dss.status().message().find("ssh-dss-cert-v01@openssh.com"), std::string::npos);
  // Options out of order are refused, as OpenSSH refuses them.
  Certificate unordered = c;
  std::string tbs_swap;
  {
    WireWriter t;
    t.String("z");
    t.String("");
    t.String("a");
    t.String("");
    std::string good_ext;
    {
      WireWriter g;
      for (auto& [k, v] : c.extensions) {
        g.String(k);
        g.String("");
      }
      good_ext = g.Take();
    }
    size_t at = c.wire.find(good_ext);
    ASSERT_NE(at, std::string::npos);
    std::string bad = c.wire.substr(0, at - 4);
    WireWriter len;
    len.String(t.bytes());
    bad += len.bytes() + c.wire.substr(at + good_ext.size());
    EXPECT_FALSE(ParseCertificate(bad).ok());
  }
  // A certificate for a key type with no certificate form cannot be made.
  Certificate unknown = c;
  WireWriter k;
  k.String("ssh-dss");
  k.String("p");
  unknown.key_blob = k.Take();
  EXPECT_FALSE(SignCertificate(&unknown, *signer).ok());
}

TEST(SshPublicKey, AuthorizedKeysLinesFromSshKeygen) {
  if (!HaveSshKeygen()) GTEST_SKIP() << "ssh-keygen not installed (openssh-client)";
  TempDir dir;
  for (const std::string t : {"ed25519", "ecdsa -b 256", "ecdsa -b 384", "ecdsa -b 521", "rsa -b 2048"}) {
    int rc = 0;
    Shell("rm -f " + (dir / "k") + "*; ssh-keygen -q -N '' -C 'me@host' -t " + t + " -f " + (dir / "k"), &rc);
    ASSERT_EQ(rc, 0);
    std::string line = ReadFile(dir / "k.pub");
    auto k = ParseAuthorizedKey(line);
    ASSERT_TRUE(k.ok()) << t << ": " << k.status().message();
    EXPECT_EQ(AuthorizedKeyLine(k->blob) + " me@host\n", line);
    EXPECT_EQ(MarshalPublicKey(k->key.get()).value(), k->blob);
    std::string fp = Shell("ssh-keygen -l -E sha256 -f " + (dir / "k.pub"));
    EXPECT_NE(fp.find(Fingerprint(k->blob)), std::string::npos) << fp;
  }
}

TEST(SshPublicKey, MalformedAndUnknownKeysAreRefused) {
  EXPECT_FALSE(ParseAuthorizedKey("").ok());
  EXPECT_FALSE(ParseAuthorizedKey("ssh-ed25519").ok());
  EXPECT_FALSE(ParseAuthorizedKey("ssh-ed25519 !!!notbase64").ok());
  EXPECT_FALSE(ParsePublicKeyBlob("").ok());
  WireWriter dss;
  dss.String("ssh-dss");
  dss.String("p");
  auto r = ParsePublicKeyBlob(dss.bytes());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "ssh: unknown key algorithm: ssh-dss");
  // An Ed25519 key of the wrong length, an EC point off the curve, a curve
  // name that disagrees with the type.
  WireWriter ed;
  ed.String("ssh-ed25519");
  ed.String("short");
  EXPECT_FALSE(ParsePublicKeyBlob(ed.bytes()).ok());
  WireWriter ec;
  ec.String("ecdsa-sha2-nistp256");
  ec.String("nistp256");
  ec.String(std::string(1, '\x04') + std::string(64, '\x01'));
  EXPECT_FALSE(ParsePublicKeyBlob(ec.bytes()).ok());
  auto p384 = Generate("P-384");
  std::string blob = MarshalPublicKey(p384.get()).value();
  WireReader rd(blob);
  std::string_view t, curve, point;
  ASSERT_TRUE(rd.String(&t) && rd.String(&curve) && rd.String(&point));
  WireWriter mixed;
  mixed.String("ecdsa-sha2-nistp256");
  mixed.String("nistp384");
  mixed.String(point);
  EXPECT_FALSE(ParsePublicKeyBlob(mixed.bytes()).ok());
  // The type in front of the line must be the blob's.
  auto ed25519 = Generate("ed25519");
  std::string eb = MarshalPublicKey(ed25519.get()).value();
  EXPECT_FALSE(ParseAuthorizedKey("ssh-rsa " + Base64Encode(eb)).ok());
  EXPECT_TRUE(ParseAuthorizedKey("ssh-ed25519 " + Base64Encode(eb)).ok());
  // Trailing bytes after the key fields.
  EXPECT_FALSE(ParsePublicKeyBlob(eb + "x").ok());
}

}  // namespace
}  // namespace stepca::ssh
