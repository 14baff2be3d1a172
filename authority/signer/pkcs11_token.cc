#include "authority/signer/pkcs11_token.h"

#include <dlfcn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>
#include <p11-kit/pkcs11.h>

#include <cerrno>
#include <chrono>
#include <functional>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <vector>

namespace stepca {
namespace {

std::string CkrName(CK_RV rv) {
  switch (rv) {
    case CKR_OK: return "CKR_OK";
    case CKR_GENERAL_ERROR: return "CKR_GENERAL_ERROR";
    case CKR_ARGUMENTS_BAD: return "CKR_ARGUMENTS_BAD";
    case CKR_DEVICE_ERROR: return "CKR_DEVICE_ERROR";
    case CKR_DEVICE_REMOVED: return "CKR_DEVICE_REMOVED";
    case CKR_TOKEN_NOT_PRESENT: return "CKR_TOKEN_NOT_PRESENT";
    case CKR_TOKEN_NOT_RECOGNIZED: return "CKR_TOKEN_NOT_RECOGNIZED";
    case CKR_SLOT_ID_INVALID: return "CKR_SLOT_ID_INVALID";
    case CKR_SESSION_HANDLE_INVALID: return "CKR_SESSION_HANDLE_INVALID";
    case CKR_SESSION_CLOSED: return "CKR_SESSION_CLOSED";
    case CKR_USER_NOT_LOGGED_IN: return "CKR_USER_NOT_LOGGED_IN";
    case CKR_PIN_INCORRECT: return "CKR_PIN_INCORRECT";
    case CKR_PIN_LOCKED: return "CKR_PIN_LOCKED";
    case CKR_PIN_LEN_RANGE: return "CKR_PIN_LEN_RANGE";
    case CKR_MECHANISM_INVALID: return "CKR_MECHANISM_INVALID";
    case CKR_KEY_HANDLE_INVALID: return "CKR_KEY_HANDLE_INVALID";
    case CKR_OBJECT_HANDLE_INVALID: return "CKR_OBJECT_HANDLE_INVALID";
    case CKR_CRYPTOKI_NOT_INITIALIZED: return "CKR_CRYPTOKI_NOT_INITIALIZED";
    case CKR_FUNCTION_FAILED: return "CKR_FUNCTION_FAILED";
    case CKR_TEMPLATE_INCONSISTENT: return "CKR_TEMPLATE_INCONSISTENT";
    case CKR_ATTRIBUTE_VALUE_INVALID: return "CKR_ATTRIBUTE_VALUE_INVALID";
    default: {
      char buf[32];
      std::snprintf(buf, sizeof buf, "CKR 0x%lx", static_cast<unsigned long>(rv));
      return buf;
    }
  }
}

// The session is gone but the token is there: open another.
bool SessionLost(CK_RV rv) {
  return rv == CKR_SESSION_HANDLE_INVALID || rv == CKR_SESSION_CLOSED;
}

// The token or the module's view of it is gone: finalize and start again.
bool DeviceLost(CK_RV rv) {
  return rv == CKR_DEVICE_REMOVED || rv == CKR_TOKEN_NOT_PRESENT || rv == CKR_DEVICE_ERROR ||
         rv == CKR_TOKEN_NOT_RECOGNIZED || rv == CKR_SLOT_ID_INVALID ||
         rv == CKR_CRYPTOKI_NOT_INITIALIZED || rv == CKR_GENERAL_ERROR ||
         rv == CKR_KEY_HANDLE_INVALID || rv == CKR_OBJECT_HANDLE_INVALID;
}

bool PinRejected(CK_RV rv) {
  return rv == CKR_PIN_INCORRECT || rv == CKR_PIN_LOCKED || rv == CKR_PIN_INVALID ||
         rv == CKR_PIN_LEN_RANGE || rv == CKR_PIN_EXPIRED;
}

// Token labels are 32 bytes padded with spaces.
std::string Trim(const unsigned char* p, size_t n) {
  std::string s(reinterpret_cast<const char*>(p), n);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.pop_back();
  return s;
}

// The DER OID a CKA_EC_PARAMS holds for a curve.
Result<std::string> EcParamsFor(const std::string& crv) {
  int nid = crv == "P-256" ? NID_X9_62_prime256v1 : crv == "P-384" ? NID_secp384r1 : NID_undef;
  if (nid == NID_undef) return InvalidArgument("pkcs11: unsupported curve " + crv + " (want P-256 or P-384)");
  const ASN1_OBJECT* obj = OBJ_nid2obj(nid);
  unsigned char* der = nullptr;
  int len = i2d_ASN1_OBJECT(obj, &der);
  if (len <= 0) return Internal("pkcs11: cannot encode curve");
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(len));
  OPENSSL_free(der);
  return out;
}

Result<EvpPkeyPtr> EcPublicKey(const std::string& params, const std::string& point_attr) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(params.data());
  OsslPtr<ASN1_OBJECT, ASN1_OBJECT_free> obj(d2i_ASN1_OBJECT(nullptr, &p, static_cast<long>(params.size())));
  if (!obj) return Internal("pkcs11: the key's CKA_EC_PARAMS is not a named curve");
  const char* group = OBJ_nid2sn(OBJ_obj2nid(obj.get()));
  if (group == nullptr) return Internal("pkcs11: the key's curve is unknown");
  // CKA_EC_POINT is a DER OCTET STRING; some modules return the bare point.
  std::string point = point_attr;
  const unsigned char* q = reinterpret_cast<const unsigned char*>(point_attr.data());
  Asn1OctetStringPtr os(d2i_ASN1_OCTET_STRING(nullptr, &q, static_cast<long>(point_attr.size())));
  if (os && q == reinterpret_cast<const unsigned char*>(point_attr.data()) + point_attr.size())
    point.assign(reinterpret_cast<const char*>(ASN1_STRING_get0_data(os.get())),
                 static_cast<size_t>(ASN1_STRING_length(os.get())));
  OsslPtr<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free> bld(OSSL_PARAM_BLD_new());
  if (!bld ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1)
    return Internal("pkcs11: out of memory");
  OsslPtr<OSSL_PARAM, OSSL_PARAM_free> params_list(OSSL_PARAM_BLD_to_param(bld.get()));
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
  EVP_PKEY* key = nullptr;
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params_list.get()) != 1)
    return Internal("pkcs11: cannot read the key's EC point: " + OpensslError());
  return EvpPkeyPtr(key);
}

Result<EvpPkeyPtr> RsaPublicKey(const std::string& n, const std::string& e) {
  BignumPtr bn(BN_bin2bn(reinterpret_cast<const unsigned char*>(n.data()), static_cast<int>(n.size()), nullptr));
  BignumPtr be(BN_bin2bn(reinterpret_cast<const unsigned char*>(e.data()), static_cast<int>(e.size()), nullptr));
  OsslPtr<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free> bld(OSSL_PARAM_BLD_new());
  if (!bn || !be || !bld || OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, be.get()) != 1)
    return Internal("pkcs11: out of memory");
  OsslPtr<OSSL_PARAM, OSSL_PARAM_free> params(OSSL_PARAM_BLD_to_param(bld.get()));
  EvpPkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
  EVP_PKEY* key = nullptr;
  if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) != 1)
    return Internal("pkcs11: cannot read the key's RSA modulus: " + OpensslError());
  return EvpPkeyPtr(key);
}

class Token : public Pkcs11Token {
 public:
  Token(Pkcs11Uri uri, std::string pin) : uri_(std::move(uri)), pin_(std::move(pin)) {}

  ~Token() override {
    std::unique_lock<std::shared_mutex> wl(state_mu_);
    Teardown();
    if (dl_ != nullptr) dlclose(dl_);
    Wipe(pin_);
  }

  Status Load() {
    dl_ = dlopen(uri_.module_path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (dl_ == nullptr) {
      const char* e = dlerror();
      return InvalidArgument("pkcs11: cannot load module " + uri_.module_path + ": " +
                             (e != nullptr ? e : "unknown error"));
    }
    auto get = reinterpret_cast<CK_RV (*)(CK_FUNCTION_LIST_PTR_PTR)>(dlsym(dl_, "C_GetFunctionList"));
    if (get == nullptr)
      return InvalidArgument("pkcs11: " + uri_.module_path + " has no C_GetFunctionList");
    CK_RV rv = get(&fl_);
    if (rv != CKR_OK || fl_ == nullptr)
      return InvalidArgument("pkcs11: " + uri_.module_path + ": C_GetFunctionList: " + CkrName(rv));
    return Status::Ok();
  }

  // Brings the token up now; used where a failure must be seen at once.
  Status Bringup() {
    std::unique_lock<std::shared_mutex> wl(state_mu_);
    last_attempt_ = {};
    Status st = BringupLocked();
    ERR_clear_error();  // see Call
    return st;
  }

  void ForgetAttempt() {
    std::unique_lock<std::shared_mutex> wl(state_mu_);
    last_attempt_ = {};
  }

  Result<EvpPkeyPtr> ReadPublicKey(const Pkcs11KeyRef& key) override {
    EvpPkeyPtr out;
    Status st = Call(false, [&](CK_SESSION_HANDLE h, Status* err) -> CK_RV {
      CK_OBJECT_HANDLE obj = 0;
      CK_RV rv = FindObject(h, CKO_PUBLIC_KEY, key, &obj);
      if (rv != CKR_OK) return rv;
      bool from_private = false;
      if (obj == CK_INVALID_HANDLE) {
        rv = FindObject(h, CKO_PRIVATE_KEY, key, &obj);
        if (rv != CKR_OK) return rv;
        if (obj == CK_INVALID_HANDLE) {
          *err = NotFound("pkcs11: no key " + Describe(key) + " on the token");
          return CKR_OK;
        }
        from_private = true;
      }
      CK_KEY_TYPE type = 0;
      CK_ATTRIBUTE a = {CKA_KEY_TYPE, &type, sizeof type};
      rv = fl_->C_GetAttributeValue(h, obj, &a, 1);
      if (rv != CKR_OK) return rv;
      if (type == CKK_EC) {
        if (from_private) {
          *err = NotFound("pkcs11: the EC key " + Describe(key) + " has no public key object");
          return CKR_OK;
        }
        std::string params, point;
        if ((rv = Attribute(h, obj, CKA_EC_PARAMS, &params)) != CKR_OK) return rv;
        if ((rv = Attribute(h, obj, CKA_EC_POINT, &point)) != CKR_OK) return rv;
        auto k = EcPublicKey(params, point);
        if (!k.ok()) *err = k.status(); else out = std::move(k).value();
      } else if (type == CKK_RSA) {
        std::string n, e;
        if ((rv = Attribute(h, obj, CKA_MODULUS, &n)) != CKR_OK) return rv;
        if ((rv = Attribute(h, obj, CKA_PUBLIC_EXPONENT, &e)) != CKR_OK) return rv;
        auto k = RsaPublicKey(n, e);
        if (!k.ok()) *err = k.status(); else out = std::move(k).value();
      } else {
        *err = InvalidArgument("pkcs11: the key " + Describe(key) + " is neither EC nor RSA");
      }
      return CKR_OK;
    });
    if (!st.ok()) return st;
    return out;
  }

  Status FindPrivateKey(const Pkcs11KeyRef& key) override {
    return Call(false, [&](CK_SESSION_HANDLE h, Status* err) -> CK_RV {
      CK_OBJECT_HANDLE obj = 0;
      CK_RV rv = PrivateKeyHandle(h, key, &obj);
      if (rv == CKR_OK && obj == CK_INVALID_HANDLE)
        *err = NotFound("pkcs11: no private key " + Describe(key) + " on the token");
      return rv;
    });
  }

  Result<std::string> Sign(const Pkcs11KeyRef& key, Pkcs11Mechanism mechanism,
                           std::string_view data) override {
    CK_RSA_PKCS_PSS_PARAMS pss{};
    CK_MECHANISM mech{CKM_ECDSA, nullptr, 0};
    switch (mechanism) {
      case Pkcs11Mechanism::kEcdsa: mech.mechanism = CKM_ECDSA; break;
      case Pkcs11Mechanism::kRsaPkcs1: mech.mechanism = CKM_RSA_PKCS; break;
      case Pkcs11Mechanism::kRsaPssSha256:
      case Pkcs11Mechanism::kRsaPssSha384: {
        const bool s384 = mechanism == Pkcs11Mechanism::kRsaPssSha384;
        pss.hashAlg = s384 ? CKM_SHA384 : CKM_SHA256;
        pss.mgf = s384 ? CKG_MGF1_SHA384 : CKG_MGF1_SHA256;
        pss.sLen = s384 ? 48 : 32;
        mech = {CKM_RSA_PKCS_PSS, &pss, sizeof pss};
        break;
      }
    }
    std::string sig;
    Status st = Call(false, [&](CK_SESSION_HANDLE h, Status* err) -> CK_RV {
      CK_OBJECT_HANDLE obj = 0;
      CK_RV rv = PrivateKeyHandle(h, key, &obj);
      if (rv != CKR_OK) return rv;
      if (obj == CK_INVALID_HANDLE) {
        // Objects vanish from a token that was swapped; say so as 503.
        *err = Unavailable("pkcs11: no private key " + Describe(key) + " on the token");
        return CKR_OK;
      }
      rv = fl_->C_SignInit(h, &mech, obj);
      if (rv != CKR_OK) {
        ForgetKey(key);
        return rv;
      }
      // A key that asks for the PIN before every signature (a YubiKey's
      // slot 9c through ykcs11) gets a context-specific login here.
      CK_BBOOL always = CK_FALSE;
      CK_ATTRIBUTE attr{CKA_ALWAYS_AUTHENTICATE, &always, sizeof always};
      if (fl_->C_GetAttributeValue(h, obj, &attr, 1) == CKR_OK && always == CK_TRUE && !pin_.empty()) {
        rv = fl_->C_Login(h, CKU_CONTEXT_SPECIFIC, reinterpret_cast<CK_UTF8CHAR_PTR>(&pin_[0]),
                          pin_.size());
        if (rv != CKR_OK) return rv;
      }
      auto* in = reinterpret_cast<CK_BYTE_PTR>(const_cast<char*>(data.data()));
      CK_ULONG len = 0;
      rv = fl_->C_Sign(h, in, data.size(), nullptr, &len);
      if (rv != CKR_OK) return rv;
      sig.assign(len, '\0');
      rv = fl_->C_Sign(h, in, data.size(), reinterpret_cast<CK_BYTE_PTR>(&sig[0]), &len);
      if (rv != CKR_OK) return rv;
      sig.resize(len);
      return CKR_OK;
    });
    if (!st.ok()) return st;
    return sig;
  }

  Result<EvpPkeyPtr> GenerateKeyPair(const Pkcs11KeyRef& key, const std::string& kty,
                                     const std::string& crv, int bits) override {
    if (key.id.empty() || key.label.empty())
      return InvalidArgument("pkcs11: a new key needs an id and an object label");
    std::string ec_params;
    if (kty == "EC") {
      STEPCA_ASSIGN_OR_RETURN(ec_params, EcParamsFor(crv.empty() ? "P-256" : crv));
    } else if (kty != "RSA") {
      return InvalidArgument("pkcs11: unsupported key type " + kty + " (want EC or RSA)");
    }
    Status exists = Call(true, [&](CK_SESSION_HANDLE h, Status* err) -> CK_RV {
      for (const Pkcs11KeyRef& k : {Pkcs11KeyRef{key.id, ""}, Pkcs11KeyRef{"", key.label}}) {
        CK_OBJECT_HANDLE obj = 0;
        CK_RV rv = FindObject(h, CKO_PRIVATE_KEY, k, &obj);
        if (rv != CKR_OK) return rv;
        if (obj != CK_INVALID_HANDLE) {
          *err = AlreadyExists("pkcs11: the token already holds a key " + Describe(k));
          return CKR_OK;
        }
      }
      CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
      CK_ULONG modulus_bits = static_cast<CK_ULONG>(bits > 0 ? bits : 3072);
      CK_BYTE exponent[] = {0x01, 0x00, 0x01};
      auto* id = const_cast<char*>(key.id.data());
      auto* label = const_cast<char*>(key.label.data());
      std::vector<CK_ATTRIBUTE> pub = {
          {CKA_TOKEN, &yes, sizeof yes},
          {CKA_VERIFY, &yes, sizeof yes},
          {CKA_ID, id, key.id.size()},
          {CKA_LABEL, label, key.label.size()},
      };
      std::vector<CK_ATTRIBUTE> priv = {
          {CKA_TOKEN, &yes, sizeof yes},     {CKA_PRIVATE, &yes, sizeof yes},
          {CKA_SENSITIVE, &yes, sizeof yes}, {CKA_EXTRACTABLE, &no, sizeof no},
          {CKA_SIGN, &yes, sizeof yes},      {CKA_ID, id, key.id.size()},
          {CKA_LABEL, label, key.label.size()},
      };
      CK_MECHANISM mech{CKM_EC_KEY_PAIR_GEN, nullptr, 0};
      if (kty == "EC") {
        pub.push_back({CKA_EC_PARAMS, &ec_params[0], ec_params.size()});
      } else {
        mech.mechanism = CKM_RSA_PKCS_KEY_PAIR_GEN;
        pub.push_back({CKA_MODULUS_BITS, &modulus_bits, sizeof modulus_bits});
        pub.push_back({CKA_PUBLIC_EXPONENT, exponent, sizeof exponent});
      }
      CK_OBJECT_HANDLE hpub = 0, hpriv = 0;
      return fl_->C_GenerateKeyPair(h, &mech, pub.data(), pub.size(), priv.data(), priv.size(),
                                    &hpub, &hpriv);
    });
    if (!exists.ok()) return exists;
    return ReadPublicKey(key);
  }

 private:
  using Op = std::function<CK_RV(CK_SESSION_HANDLE, Status*)>;

  std::string Describe(const Pkcs11KeyRef& k) const {
    Pkcs11Uri u;
    u.id = k.id;
    u.object = k.label;
    return DescribePkcs11Key(u);
  }

  std::string TokenName() const {
    if (!uri_.token.empty()) return "token \"" + uri_.token + "\"";
    if (uri_.slot_id) return "slot " + std::to_string(*uri_.slot_id);
    return "the token";
  }

  Status Error(CK_RV rv, const std::string& what) const {
    std::string m = "pkcs11: " + what + " on " + TokenName() + ": " + CkrName(rv);
    if (DeviceLost(rv) || SessionLost(rv)) return Unavailable(m);
    return Internal(m);
  }

  CK_RV Attribute(CK_SESSION_HANDLE h, CK_OBJECT_HANDLE obj, CK_ATTRIBUTE_TYPE t, std::string* out) {
    CK_ATTRIBUTE a = {t, nullptr, 0};
    CK_RV rv = fl_->C_GetAttributeValue(h, obj, &a, 1);
    if (rv != CKR_OK) return rv;
    out->assign(a.ulValueLen, '\0');
    a.pValue = &(*out)[0];
    return fl_->C_GetAttributeValue(h, obj, &a, 1);
  }

  CK_RV FindObject(CK_SESSION_HANDLE h, CK_OBJECT_CLASS cls, const Pkcs11KeyRef& key,
                   CK_OBJECT_HANDLE* out) {
    *out = CK_INVALID_HANDLE;
    std::vector<CK_ATTRIBUTE> tmpl = {{CKA_CLASS, &cls, sizeof cls}};
    if (!key.id.empty()) tmpl.push_back({CKA_ID, const_cast<char*>(key.id.data()), key.id.size()});
    if (!key.label.empty())
      tmpl.push_back({CKA_LABEL, const_cast<char*>(key.label.data()), key.label.size()});
    CK_RV rv = fl_->C_FindObjectsInit(h, tmpl.data(), tmpl.size());
    if (rv != CKR_OK) return rv;
    CK_OBJECT_HANDLE found[2];
    CK_ULONG n = 0;
    rv = fl_->C_FindObjects(h, found, 2, &n);
    fl_->C_FindObjectsFinal(h);
    if (rv != CKR_OK) return rv;
    if (n >= 1) *out = found[0];
    return CKR_OK;
  }

  // The private key's handle, looked up once per module generation.
  CK_RV PrivateKeyHandle(CK_SESSION_HANDLE h, const Pkcs11KeyRef& key, CK_OBJECT_HANDLE* out) {
    const std::string cache_key = key.id + '\0' + key.label;
    {
      std::lock_guard<std::mutex> l(pool_mu_);
      auto it = handles_.find(cache_key);
      if (it != handles_.end()) {
        *out = it->second;
        return CKR_OK;
      }
    }
    CK_RV rv = FindObject(h, CKO_PRIVATE_KEY, key, out);
    if (rv == CKR_OK && *out != CK_INVALID_HANDLE) {
      std::lock_guard<std::mutex> l(pool_mu_);
      handles_[cache_key] = *out;
    }
    return rv;
  }

  void ForgetKey(const Pkcs11KeyRef& key) {
    std::lock_guard<std::mutex> l(pool_mu_);
    handles_.erase(key.id + '\0' + key.label);
  }

  // With state_mu_ held exclusively.
  Status BringupLocked() {
    if (ready_) return Status::Ok();
    {
      std::lock_guard<std::mutex> l(login_mu_);
      if (pin_rejected_) return pin_error_;
    }
    // A token that is away is asked again at most once a second, so a
    // burst of requests does not hammer the module.
    const auto now = std::chrono::steady_clock::now();
    if (last_attempt_ != std::chrono::steady_clock::time_point{} &&
        now - last_attempt_ < std::chrono::seconds(1))
      return last_error_.ok() ? Unavailable("pkcs11: " + TokenName() + " is unavailable") : last_error_;
    last_attempt_ = now;
    // Workers starting together may find the token busy (SoftHSM locks its
    // files while another process scans them): a few quick tries.
    for (int i = 0; i < 3; ++i) {
      if (i > 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
      last_error_ = BringupOnce();
      if (last_error_.ok()) break;
      Teardown();
      if (last_error_.code() == Code::kPermissionDenied) break;  // a refused PIN
    }
    return last_error_;
  }

  Status BringupOnce() {
    if (!initialized_) {
      CK_C_INITIALIZE_ARGS args{};
      args.flags = CKF_OS_LOCKING_OK;
      CK_RV rv = fl_->C_Initialize(&args);
      if (rv != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED)
        return Unavailable("pkcs11: C_Initialize of " + uri_.module_path + ": " + CkrName(rv));
      initialized_ = true;
    }
    CK_ULONG n = 0;
    CK_RV rv = fl_->C_GetSlotList(CK_TRUE, nullptr, &n);
    if (rv != CKR_OK) return Error(rv, "C_GetSlotList");
    std::vector<CK_SLOT_ID> slots(n);
    if (n > 0 && (rv = fl_->C_GetSlotList(CK_TRUE, slots.data(), &n)) != CKR_OK)
      return Error(rv, "C_GetSlotList");
    slots.resize(n);
    bool found = false;
    for (CK_SLOT_ID s : slots) {
      if (uri_.slot_id && *uri_.slot_id != s) continue;
      CK_TOKEN_INFO info;
      if (fl_->C_GetTokenInfo(s, &info) != CKR_OK) continue;
      if (!uri_.token.empty() && Trim(info.label, sizeof info.label) != uri_.token) continue;
      if (!uri_.serial.empty() && Trim(info.serialNumber, sizeof info.serialNumber) != uri_.serial)
        continue;
      slot_ = s;
      found = true;
      break;
    }
    if (!found) return Unavailable("pkcs11: " + TokenName() + " is not present");
    CK_SESSION_HANDLE h = 0;
    rv = fl_->C_OpenSession(slot_, CKF_SERIAL_SESSION, nullptr, nullptr, &h);
    if (rv != CKR_OK) return Error(rv, "C_OpenSession");
    Status st = Login(h);
    if (!st.ok()) {
      fl_->C_CloseSession(h);
      return st;
    }
    ready_ = true;
    std::lock_guard<std::mutex> l(pool_mu_);
    idle_.push_back(h);
    return Status::Ok();
  }

  // Login state belongs to the application, not the session: one login
  // serves every session of this process.
  Status Login(CK_SESSION_HANDLE h) {
    std::lock_guard<std::mutex> l(login_mu_);
    if (pin_rejected_) return pin_error_;
    CK_SESSION_INFO info;
    CK_RV rv = fl_->C_GetSessionInfo(h, &info);
    if (rv != CKR_OK) return Error(rv, "C_GetSessionInfo");
    if (info.state != CKS_RO_PUBLIC_SESSION && info.state != CKS_RW_PUBLIC_SESSION)
      return Status::Ok();
    if (pin_.empty()) return Status::Ok();
    rv = fl_->C_Login(h, CKU_USER, reinterpret_cast<CK_UTF8CHAR_PTR>(&pin_[0]), pin_.size());
    if (rv == CKR_OK || rv == CKR_USER_ALREADY_LOGGED_IN) return Status::Ok();
    if (PinRejected(rv)) {
      pin_rejected_ = true;
      pin_error_ = PermissionDenied("pkcs11: login to " + TokenName() + " failed: " + CkrName(rv) +
                                    " (the PIN of the kms uri was refused; it is not tried again)");
      return pin_error_;
    }
    return Error(rv, "C_Login");
  }

  // With state_mu_ held exclusively.
  void Teardown() {
    {
      std::lock_guard<std::mutex> l(pool_mu_);
      idle_.clear();
      handles_.clear();
    }
    if (initialized_ && fl_ != nullptr) fl_->C_Finalize(nullptr);
    initialized_ = false;
    ready_ = false;
  }

  // Runs op on a pooled session (a fresh read-write one when rw), retrying
  // through the recoveries the header promises.
  // Modules built on OpenSSL (SoftHSM) leave entries on this thread's
  // OpenSSL error queue; nginx would report them at the next TLS handshake.
  Status Call(bool rw, const Op& op) {
    Status st = CallInner(rw, op);
    ERR_clear_error();
    return st;
  }

  Status CallInner(bool rw, const Op& op) {
    Status last = Unavailable("pkcs11: " + TokenName() + " is unavailable");
    for (int attempt = 0; attempt < 3; ++attempt) {
      bool reset = false;
      {
        std::shared_lock<std::shared_mutex> rl(state_mu_);
        if (ready_) {
          CK_SESSION_HANDLE h = 0;
          CK_RV rv = CKR_OK;
          bool have = false;
          if (!rw) {
            std::lock_guard<std::mutex> l(pool_mu_);
            if (!idle_.empty()) {
              h = idle_.back();
              idle_.pop_back();
              have = true;
            }
          }
          if (!have) {
            CK_FLAGS flags = CKF_SERIAL_SESSION | (rw ? CKF_RW_SESSION : 0);
            rv = fl_->C_OpenSession(slot_, flags, nullptr, nullptr, &h);
          }
          if (rv == CKR_OK) {
            Status login = Login(h);
            if (!login.ok() && login.code() != Code::kUnavailable) {
              Release(h, rw, true);
              return login;
            }
            Status err;
            rv = op(h, &err);
            if (rv == CKR_USER_NOT_LOGGED_IN) {
              // Logged out under us (a token reset): the next try logs in.
              Release(h, rw, true);
              last = Error(rv, "signing");
              continue;
            }
            if (SessionLost(rv)) {
              last = Error(rv, "the session");
              continue;  // the handle is dead: not returned to the pool
            }
            Release(h, rw, rv == CKR_OK);
            if (rv == CKR_OK) return err;
            if (!DeviceLost(rv)) return Error(rv, "the operation");
          }
          last = Error(rv, "the token");
          reset = true;
        }
      }
      std::unique_lock<std::shared_mutex> wl(state_mu_);
      if (reset && ready_) {
        Teardown();
        last_attempt_ = {};  // the first try after a loss is at once
      }
      Status st = BringupLocked();
      if (!st.ok()) return st;
    }
    return last;
  }

  void Release(CK_SESSION_HANDLE h, bool rw, bool keep) {
    if (rw || !keep) {
      fl_->C_CloseSession(h);
      return;
    }
    std::lock_guard<std::mutex> l(pool_mu_);
    if (idle_.size() < kMaxIdle) {
      idle_.push_back(h);
      return;
    }
    fl_->C_CloseSession(h);
  }

  static constexpr size_t kMaxIdle = 8;

  Pkcs11Uri uri_;
  std::string pin_;
  void* dl_ = nullptr;
  CK_FUNCTION_LIST_PTR fl_ = nullptr;

  // Shared by every operation in flight; exclusive to (re)initialise.
  std::shared_mutex state_mu_;
  bool initialized_ = false;
  bool ready_ = false;
  CK_SLOT_ID slot_ = 0;
  std::chrono::steady_clock::time_point last_attempt_{};
  Status last_error_;
  // Logins are serialised; a refused PIN stays refused.
  std::mutex login_mu_;
  bool pin_rejected_ = false;
  Status pin_error_;

  std::mutex pool_mu_;
  std::vector<CK_SESSION_HANDLE> idle_;
  std::map<std::string, CK_OBJECT_HANDLE> handles_;
};

Result<std::unique_ptr<Token>> Load(const Pkcs11Uri& uri, std::string pin) {
  if (uri.module_path.empty()) return InvalidArgument("pkcs11: the URI has no module-path");
  auto t = std::make_unique<Token>(uri, std::move(pin));
  STEPCA_RETURN_IF_ERROR(t->Load());
  return t;
}

}  // namespace

Result<std::unique_ptr<Pkcs11Token>> OpenPkcs11Token(const Pkcs11Uri& uri, std::string pin) {
  STEPCA_ASSIGN_OR_RETURN(std::unique_ptr<Token> t, Load(uri, std::move(pin)));
  STEPCA_RETURN_IF_ERROR(t->Bringup());
  std::unique_ptr<Pkcs11Token> out = std::move(t);
  return out;
}

Result<std::unique_ptr<Pkcs11Token>> LoadPkcs11Module(const Pkcs11Uri& uri, std::string pin) {
  STEPCA_ASSIGN_OR_RETURN(std::unique_ptr<Token> t, Load(uri, std::move(pin)));
  // A token that is away now is tried again by the first operation, at once.
  if (!t->Bringup().ok()) t->ForgetAttempt();
  std::unique_ptr<Pkcs11Token> out = std::move(t);
  return out;
}

Result<std::string> ResolvePkcs11Pin(const Pkcs11Uri& uri) {
  if (!uri.pin_value.empty()) return uri.pin_value;
  if (uri.pin_source.empty()) return std::string();
  std::ifstream in(uri.pin_source, std::ios::binary);
  if (!in) return InvalidArgument("pkcs11: cannot read pin-source " + uri.pin_source + ": " + std::strerror(errno));
  std::string pin;
  std::getline(in, pin);
  while (!pin.empty() && (pin.back() == '\r' || pin.back() == ' ')) pin.pop_back();
  return pin;
}

}  // namespace stepca
