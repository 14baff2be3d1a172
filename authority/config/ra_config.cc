#include "authority/config/ra_config.h"

#include <strings.h>

#include <cctype>

#include "authority/config/ca_config.h"
#include "authority/ossl.h"

namespace stepca {
namespace {

std::string Quote(const std::string& s) { return "\"" + s + "\""; }

class RaParser {
 public:
  explicit RaParser(const RaConfigContext& c) : c_(c) {}

  Result<RaConfig> Parse(const json_t* auth);

 private:
  Status Err(const std::string& field, const std::string& msg) const {
    return InvalidArgument(c_.ca_json + ": field " + Quote(field) + ": " + msg);
  }
  std::string Resolve(const std::string& p) const {
    if (p.empty() || p[0] == '/') return p;
    return c_.dir + "/" + p;
  }
  Result<std::string> String(const json_t* obj, const char* name, const std::string& field,
                             bool required) const {
    const json_t* v = obj == nullptr ? nullptr : json_object_get(obj, name);
    if (v == nullptr || json_is_null(v)) {
      if (required) return Err(field, "is required");
      return std::string();
    }
    if (!json_is_string(v)) return Err(field, "must be a string");
    std::string s(json_string_value(v), json_string_length(v));
    if (required && s.empty()) return Err(field, "is required");
    return s;
  }
  Status StepCas(const json_t* auth, RaConfig* out) const;
  Status Issuer(const json_t* iss, StepCasIssuerConfig* out) const;

  const RaConfigContext& c_;
};

// step-ca compares the type case-insensitively ("cloudCAS", "CloudCAS" and
// "cloudcas" are one), and "softcas" is its name for the local CA.
Result<CaServiceType> TypeOf(const std::string& t) {
  if (t.empty() || strcasecmp(t.c_str(), "softcas") == 0) return CaServiceType::kLocal;
  if (strcasecmp(t.c_str(), "stepcas") == 0) return CaServiceType::kStepCas;
  if (strcasecmp(t.c_str(), "cloudcas") == 0) return CaServiceType::kCloudCas;
  if (strcasecmp(t.c_str(), "vaultcas") == 0) return CaServiceType::kVaultCas;
  return InvalidArgument("");
}

Result<RaConfig> RaParser::Parse(const json_t* auth) {
  RaConfig out;
  STEPCA_ASSIGN_OR_RETURN(out.type_name, String(auth, "type", "authority.type", false));
  auto type = TypeOf(out.type_name);
  if (!type.ok())
    return Err("authority.type", "unknown type " + Quote(out.type_name) +
                                     ": use \"\" (this CA signs), \"stepcas\", \"cloudCAS\" or "
                                     "\"vaultcas\"");
  out.type = type.value();
  switch (out.type) {
    case CaServiceType::kLocal:
      return out;
    case CaServiceType::kStepCas:
      STEPCA_RETURN_IF_ERROR(StepCas(auth, &out));
      return out;
    case CaServiceType::kCloudCas:
    case CaServiceType::kVaultCas:
      // Refused rather than half served: a CA that starts must sign.
      return Err("authority.type",
                 Quote(out.type_name) +
                     " (registration authority over " +
                     (out.type == CaServiceType::kCloudCas ? "Google CAS" : "Vault") +
                     ") is not supported by this version yet; \"stepcas\" is");
  }
  return out;
}

Status RaParser::StepCas(const json_t* auth, RaConfig* out) const {
  STEPCA_ASSIGN_OR_RETURN(out->certificate_authority,
                          String(auth, "certificateAuthority", "authority.certificateAuthority", true));
  std::string& url = out->certificate_authority;
  while (!url.empty() && url.back() == '/') url.pop_back();
  if (url.rfind("https://", 0) != 0 || url.size() <= 8)
    return Err("authority.certificateAuthority",
               "must be the upstream step-ca's https:// URL, not " + Quote(url));
  STEPCA_ASSIGN_OR_RETURN(out->fingerprint,
                          String(auth, "certificateAuthorityFingerprint",
                                 "authority.certificateAuthorityFingerprint", true));
  std::string& fp = out->fingerprint;
  for (char& ch : fp) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  bool hex = fp.size() == 64;
  for (char ch : fp) hex = hex && std::isxdigit(static_cast<unsigned char>(ch));
  if (!hex)
    return Err("authority.certificateAuthorityFingerprint",
               "must be the SHA-256 of the upstream root in hex (64 characters)");
  const json_t* iss = json_object_get(auth, "certificateIssuer");
  if (iss == nullptr || json_is_null(iss)) return Err("authority.certificateIssuer", "is required");
  if (!json_is_object(iss)) return Err("authority.certificateIssuer", "must be an object");
  return Issuer(iss, &out->issuer);
}

Status RaParser::Issuer(const json_t* iss, StepCasIssuerConfig* out) const {
  const std::string f = "authority.certificateIssuer";
  STEPCA_ASSIGN_OR_RETURN(out->type, String(iss, "type", f + ".type", true));
  for (char& ch : out->type) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (out->type != "jwk" && out->type != "x5c")
    return Err(f + ".type", "must be \"jwk\" or \"x5c\", not " + Quote(out->type));
  STEPCA_ASSIGN_OR_RETURN(out->provisioner, String(iss, "provisioner", f + ".provisioner", true));
  const bool x5c = out->type == "x5c";
  STEPCA_ASSIGN_OR_RETURN(std::string key, String(iss, "key", f + ".key", x5c));
  out->key_path = Resolve(key);
  STEPCA_ASSIGN_OR_RETURN(std::string crt, String(iss, "crt", f + ".crt", x5c));
  if (!x5c && !crt.empty())
    return Err(f + ".crt", "is for an x5c issuer; a jwk issuer has none");
  out->crt_path = Resolve(crt);
  if (!c_.issuer_password_file.empty()) {
    auto p = ReadPasswordFile(c_.issuer_password_file);
    if (!p.ok())
      return InvalidArgument("issuer password file " + c_.issuer_password_file + ": " +
                             p.status().message());
    out->password = std::move(p).value();
  } else {
    STEPCA_ASSIGN_OR_RETURN(out->password, String(iss, "password", f + ".password", false));
  }
  // The upstream's encrypted key (jwk without key) cannot be opened
  // without a password; say so at load rather than at the first request.
  if (!x5c && out->key_path.empty() && out->password.empty())
    return Err(f + ".password",
               "is required to decrypt the upstream provisioner's key (or set "
               "stepca_issuer_password_file)");
  return Status::Ok();
}

}  // namespace

Result<RaConfig> ParseRaConfig(const json_t* authority, const RaConfigContext& context) {
  return RaParser(context).Parse(authority);
}

}  // namespace stepca
