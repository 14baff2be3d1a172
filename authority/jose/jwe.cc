#include "authority/jose/jwe.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstdint>
#include <vector>

#include "authority/ossl.h"
#include "shared/base64.h"

namespace stepca {

namespace {

constexpr char kAlg[] = "PBES2-HS256+A128KW";
constexpr char kEnc[] = "A256GCM";
constexpr json_int_t kMinP2c = 1000;
constexpr json_int_t kMaxP2c = 10000000;
constexpr size_t kMinSaltSize = 8;     // RFC 7518 4.8.1.1
constexpr size_t kMaxSaltSize = 1024;
constexpr size_t kSaltSize = 16;       // what we write
constexpr size_t kKekSize = 16;        // A128KW
constexpr size_t kCekSize = 32;        // A256GCM
constexpr size_t kWrappedSize = kCekSize + 8;
constexpr size_t kIvSize = 12;
constexpr size_t kTagSize = 16;
constexpr size_t kMaxJweSize = 256 * 1024;

// Wipes a secret buffer when it goes out of scope.
class SecretBytes {
 public:
  explicit SecretBytes(size_t n = 0) : s_(n, '\0') {}
  ~SecretBytes() { Wipe(s_); }
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  std::string& str() { return s_; }
  uint8_t* data() { return reinterpret_cast<uint8_t*>(s_.data()); }
  size_t size() const { return s_.size(); }

 private:
  std::string s_;
};

const uint8_t* U8(std::string_view s) {
  return reinterpret_cast<const uint8_t*>(s.data());
}

// KEK = PBKDF2-HMAC-SHA256(password, UTF8(alg) || 0x00 || p2s, p2c, 16).
Status DeriveKek(std::string_view password, const std::string& p2s, int p2c,
                 SecretBytes* kek) {
  std::string salt(kAlg);
  salt.push_back('\0');
  salt += p2s;
  Wipe(kek->str());
  kek->str().assign(kKekSize, '\0');
  if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                        U8(salt), static_cast<int>(salt.size()), p2c,
                        EVP_sha256(), static_cast<int>(kKekSize),
                        kek->data()) != 1) {
    return Internal("jwe: " + OpensslError());
  }
  return Status::Ok();
}

// AES-128 key wrap (RFC 3394). encrypt: wrap, else unwrap. Unwrap failure
// (integrity check) is reported as false with no OpenSSL detail.
bool AesKeyWrap(bool encrypt, SecretBytes& kek, std::string_view in,
                std::string* out) {
  EvpCipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!ctx) return false;
  EVP_CIPHER_CTX_set_flags(ctx.get(), EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
  if (EVP_CipherInit_ex(ctx.get(), EVP_aes_128_wrap(), nullptr, kek.data(),
                        nullptr, encrypt ? 1 : 0) != 1) {
    return false;
  }
  out->assign(in.size() + 16, '\0');
  int len = 0;
  if (EVP_CipherUpdate(ctx.get(), reinterpret_cast<uint8_t*>(out->data()), &len,
                       U8(in), static_cast<int>(in.size())) != 1) {
    Wipe(*out);
    return false;
  }
  int fin = 0;
  if (EVP_CipherFinal_ex(ctx.get(), reinterpret_cast<uint8_t*>(out->data()) + len,
                         &fin) != 1) {
    Wipe(*out);
    return false;
  }
  out->resize(static_cast<size_t>(len + fin));
  return true;
}

Status Fail() { return Unauthenticated("decryption failed"); }

}  // namespace

Result<std::string> DecryptPbes2Jwe(std::string_view jwe,
                                    std::string_view password) {
  if (jwe.size() > kMaxJweSize) return InvalidArgument("jwe: too large");
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    size_t dot = jwe.find('.', start);
    if (dot == std::string_view::npos) {
      parts.push_back(jwe.substr(start));
      break;
    }
    parts.push_back(jwe.substr(start, dot - start));
    start = dot + 1;
    if (parts.size() > 5) break;
  }
  if (parts.size() != 5) return InvalidArgument("jwe: a compact JWE has five parts");

  std::string_view header_b64 = parts[0];
  auto header_bytes = Base64UrlDecode(header_b64);
  auto wrapped = Base64UrlDecode(parts[1]);
  auto iv = Base64UrlDecode(parts[2]);
  auto ciphertext = Base64UrlDecode(parts[3]);
  auto tag = Base64UrlDecode(parts[4]);
  if (!header_bytes || !wrapped || !iv || !ciphertext || !tag) {
    return InvalidArgument("jwe: invalid base64url");
  }

  json_error_t err;
  JsonPtr header(json_loadb(header_bytes->data(), header_bytes->size(),
                            JSON_REJECT_DUPLICATES, &err));
  if (!header || !json_is_object(header.get())) {
    return InvalidArgument("jwe: header is not a JSON object");
  }
  const json_t* alg = json_object_get(header.get(), "alg");
  const json_t* enc = json_object_get(header.get(), "enc");
  const json_t* p2c = json_object_get(header.get(), "p2c");
  const json_t* p2s = json_object_get(header.get(), "p2s");
  if (!json_is_string(alg) || std::string_view(json_string_value(alg)) != kAlg) {
    return InvalidArgument("jwe: unsupported alg");
  }
  if (!json_is_string(enc) || std::string_view(json_string_value(enc)) != kEnc) {
    return InvalidArgument("jwe: unsupported enc");
  }
  if (json_object_get(header.get(), "crit") != nullptr ||
      json_object_get(header.get(), "zip") != nullptr) {
    return InvalidArgument("jwe: unsupported header parameter");
  }
  if (!json_is_integer(p2c)) return InvalidArgument("jwe: missing p2c");
  json_int_t iterations = json_integer_value(p2c);
  if (iterations < kMinP2c || iterations > kMaxP2c) {
    return InvalidArgument("jwe: p2c out of range");
  }
  if (!json_is_string(p2s)) return InvalidArgument("jwe: missing p2s");
  auto salt = Base64UrlDecode(
      std::string_view(json_string_value(p2s), json_string_length(p2s)));
  if (!salt || salt->size() < kMinSaltSize || salt->size() > kMaxSaltSize) {
    return InvalidArgument("jwe: invalid p2s");
  }
  if (wrapped->size() != kWrappedSize) return InvalidArgument("jwe: invalid encrypted key");
  if (iv->size() != kIvSize) return InvalidArgument("jwe: invalid iv");
  if (tag->size() != kTagSize) return InvalidArgument("jwe: invalid tag");

  SecretBytes kek;
  STEPCA_RETURN_IF_ERROR(DeriveKek(password, *salt, static_cast<int>(iterations), &kek));
  SecretBytes cek;
  if (!AesKeyWrap(/*encrypt=*/false, kek, *wrapped, &cek.str())) {
    OpensslError();
    return Fail();
  }
  if (cek.size() != kCekSize) return Fail();

  EvpCipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!ctx ||
      EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kIvSize, nullptr) != 1 ||
      EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, cek.data(), U8(*iv)) != 1) {
    return Internal("jwe: " + OpensslError());
  }
  int len = 0;
  // AAD: ASCII(BASE64URL(UTF8(protected header))), as sent.
  if (EVP_DecryptUpdate(ctx.get(), nullptr, &len, U8(header_b64),
                        static_cast<int>(header_b64.size())) != 1) {
    return Internal("jwe: " + OpensslError());
  }
  SecretBytes plain(ciphertext->size() + 16);
  if (EVP_DecryptUpdate(ctx.get(), plain.data(), &len, U8(*ciphertext),
                        static_cast<int>(ciphertext->size())) != 1) {
    OpensslError();
    return Fail();
  }
  size_t total = static_cast<size_t>(len);
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagSize,
                          const_cast<char*>(tag->data())) != 1) {
    return Internal("jwe: " + OpensslError());
  }
  int fin = 0;
  if (EVP_DecryptFinal_ex(ctx.get(), plain.data() + total, &fin) != 1) {
    OpensslError();
    return Fail();
  }
  total += static_cast<size_t>(fin);
  return std::string(plain.str().data(), total);
}

Result<std::string> EncryptPbes2Jwe(std::string_view plaintext,
                                    std::string_view password,
                                    const std::string& cty, int p2c) {
  if (password.empty()) return InvalidArgument("jwe: empty password");
  if (p2c < kMinP2c || p2c > kMaxP2c) return InvalidArgument("jwe: p2c out of range");
  if (plaintext.size() > kMaxJweSize / 2) return InvalidArgument("jwe: plaintext too large");

  std::string salt(kSaltSize, '\0');
  SecretBytes cek(kCekSize);
  std::string iv(kIvSize, '\0');
  if (RAND_bytes(reinterpret_cast<uint8_t*>(salt.data()), kSaltSize) != 1 ||
      RAND_bytes(cek.data(), kCekSize) != 1 ||
      RAND_bytes(reinterpret_cast<uint8_t*>(iv.data()), kIvSize) != 1) {
    return Internal("jwe: " + OpensslError());
  }

  // Member order as step writes it (sorted): alg, cty, enc, p2c, p2s.
  JsonPtr header(json_object());
  std::string p2s = Base64UrlEncode(salt);
  if (!header || json_object_set_new(header.get(), "alg", json_string(kAlg)) != 0 ||
      (!cty.empty() && json_object_set_new(header.get(), "cty",
                                           json_stringn(cty.data(), cty.size())) != 0) ||
      json_object_set_new(header.get(), "enc", json_string(kEnc)) != 0 ||
      json_object_set_new(header.get(), "p2c", json_integer(p2c)) != 0 ||
      json_object_set_new(header.get(), "p2s", json_string(p2s.c_str())) != 0) {
    return Internal("jwe: out of memory");
  }
  char* text = json_dumps(header.get(), JSON_COMPACT);
  if (text == nullptr) return Internal("jwe: cannot serialise header");
  std::string header_b64 = Base64UrlEncode(text);
  free(text);

  SecretBytes kek;
  STEPCA_RETURN_IF_ERROR(DeriveKek(password, salt, p2c, &kek));
  std::string wrapped;
  if (!AesKeyWrap(/*encrypt=*/true, kek, cek.str(), &wrapped) ||
      wrapped.size() != kWrappedSize) {
    return Internal("jwe: key wrap failed: " + OpensslError());
  }

  EvpCipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  std::string ciphertext(plaintext.size() + 16, '\0');
  std::string tag(kTagSize, '\0');
  int len = 0;
  int fin = 0;
  if (!ctx ||
      EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, kIvSize, nullptr) != 1 ||
      EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, cek.data(), U8(iv)) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &len, U8(header_b64),
                        static_cast<int>(header_b64.size())) != 1 ||
      EVP_EncryptUpdate(ctx.get(), reinterpret_cast<uint8_t*>(ciphertext.data()), &len,
                        U8(plaintext), static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), reinterpret_cast<uint8_t*>(ciphertext.data()) + len,
                          &fin) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagSize, tag.data()) != 1) {
    return Internal("jwe: " + OpensslError());
  }
  ciphertext.resize(static_cast<size_t>(len + fin));

  return header_b64 + "." + Base64UrlEncode(wrapped) + "." + Base64UrlEncode(iv) +
         "." + Base64UrlEncode(ciphertext) + "." + Base64UrlEncode(tag);
}

}  // namespace stepca
