#include "authority/admin/linkedca.h"

#include <cstring>

#include "shared/base64.h"

namespace stepca::admin {
namespace {

struct TypeEntry {
  int number;
  const char* name;
  bool served;
};

// linkedca.Provisioner_Type, and whether this CA authorizes the type.
constexpr TypeEntry kTypes[] = {
    {1, "JWK", true},   {2, "OIDC", false},  {3, "GCP", false},    {4, "AWS", false},
    {5, "AZURE", false}, {6, "ACME", true},   {7, "X5C", true},     {8, "K8SSA", false},
    {9, "SSHPOP", true}, {10, "SCEP", false}, {11, "NEBULA", false},
};

// protojson bytes: standard base64, also accepted URL-safe.
Result<std::string> Bytes(const json_t* obj, const char* name, const std::string& field) {
  const json_t* v = json_object_get(obj, name);
  if (v == nullptr || json_is_null(v)) return std::string();
  if (!json_is_string(v)) return InvalidArgument(field + "." + name + " must be a base64 string");
  const std::string text(json_string_value(v), json_string_length(v));
  auto d = Base64Decode(text);
  if (!d) d = Base64UrlDecode(text);
  if (!d) return InvalidArgument(field + "." + name + " is not base64");
  return *d;
}

Status CopyString(const json_t* from, const char* name, json_t* to, const char* as) {
  const json_t* v = json_object_get(from, name);
  if (v == nullptr || json_is_null(v)) return Status::Ok();
  if (!json_is_string(v)) return InvalidArgument(std::string("claims: ") + name + " must be a string");
  if (json_string_length(v) > 0) json_object_set(to, as, const_cast<json_t*>(v));
  return Status::Ok();
}

Status Durations(const json_t* d, json_t* claims, const char* min, const char* max,
                 const char* def) {
  if (d == nullptr || json_is_null(d)) return Status::Ok();
  if (!json_is_object(d)) return InvalidArgument("claims: durations must be an object");
  STEPCA_RETURN_IF_ERROR(CopyString(d, "min", claims, min));
  STEPCA_RETURN_IF_ERROR(CopyString(d, "max", claims, max));
  return CopyString(d, "default", claims, def);
}

Status Bool(const json_t* from, const char* name, json_t* to, const char* as) {
  const json_t* v = json_object_get(from, name);
  if (v == nullptr || json_is_null(v)) return Status::Ok();
  if (!json_is_boolean(v)) return InvalidArgument(std::string(name) + " must be a boolean");
  json_object_set(to, as, const_cast<json_t*>(v));
  return Status::Ok();
}

// step-ca's claimsToCertificates: x509.enabled is not read; ssh.enabled is
// enableSSHCA.
Result<JsonPtr> ClaimsToConfig(const json_t* c) {
  JsonPtr out(json_object());
  if (c == nullptr || json_is_null(c)) return out;
  if (!json_is_object(c)) return InvalidArgument("claims must be an object");
  STEPCA_RETURN_IF_ERROR(Bool(c, "disableRenewal", out.get(), "disableRenewal"));
  STEPCA_RETURN_IF_ERROR(Bool(c, "allowRenewalAfterExpiry", out.get(), "allowRenewalAfterExpiry"));
  if (const json_t* x = json_object_get(c, "x509"); x && !json_is_null(x)) {
    if (!json_is_object(x)) return InvalidArgument("claims.x509 must be an object");
    STEPCA_RETURN_IF_ERROR(Durations(json_object_get(x, "durations"), out.get(),
                                     "minTLSCertDuration", "maxTLSCertDuration",
                                     "defaultTLSCertDuration"));
  }
  if (const json_t* s = json_object_get(c, "ssh"); s && !json_is_null(s)) {
    if (!json_is_object(s)) return InvalidArgument("claims.ssh must be an object");
    const json_t* enabled = json_object_get(s, "enabled");
    json_object_set_new(out.get(), "enableSSHCA", json_boolean(json_is_true(enabled)));
    STEPCA_RETURN_IF_ERROR(Durations(json_object_get(s, "userDurations"), out.get(),
                                     "minUserSSHCertDuration", "maxUserSSHCertDuration",
                                     "defaultUserSSHCertDuration"));
    STEPCA_RETURN_IF_ERROR(Durations(json_object_get(s, "hostDurations"), out.get(),
                                     "minHostSSHCertDuration", "maxHostSSHCertDuration",
                                     "defaultHostSSHCertDuration"));
  }
  return out;
}

// x509Template / sshTemplate {template: bytes, data: bytes} to
// options.<kind> {template, templateData}.
Status Template(const json_t* p, const char* member, const char* kind, json_t* options) {
  const json_t* t = json_object_get(p, member);
  if (t == nullptr || json_is_null(t)) return Status::Ok();
  if (!json_is_object(t)) return InvalidArgument(std::string(member) + " must be an object");
  STEPCA_ASSIGN_OR_RETURN(std::string text, Bytes(t, "template", member));
  STEPCA_ASSIGN_OR_RETURN(std::string data, Bytes(t, "data", member));
  if (text.empty() && data.empty()) return Status::Ok();
  JsonPtr o(json_object());
  if (!text.empty()) json_object_set_new(o.get(), "template", json_stringn(text.data(), text.size()));
  if (!data.empty()) {
    json_error_t err;
    JsonPtr d(json_loadb(data.data(), data.size(), 0, &err));
    if (!d || !json_is_object(d.get()))
      return InvalidArgument(std::string(member) + ".data must be a JSON object");
    json_object_set(o.get(), "templateData", d.get());
  }
  json_object_set(options, kind, o.get());
  return Status::Ok();
}

}  // namespace

const char* AdminTypeName(AdminType t) {
  switch (t) {
    case AdminType::kAdmin: return "ADMIN";
    case AdminType::kSuperAdmin: return "SUPER_ADMIN";
    default: return "UNKNOWN";
  }
}

Result<AdminType> ReadAdminType(const json_t* v) {
  if (json_is_string(v)) {
    if (std::strcmp(json_string_value(v), "ADMIN") == 0) return AdminType::kAdmin;
    if (std::strcmp(json_string_value(v), "SUPER_ADMIN") == 0) return AdminType::kSuperAdmin;
  } else if (json_is_integer(v)) {
    if (json_integer_value(v) == 1) return AdminType::kAdmin;
    if (json_integer_value(v) == 2) return AdminType::kSuperAdmin;
  }
  return InvalidArgument("invalid value for admin type");
}

Result<std::string> ReadProvisionerType(const json_t* v) {
  for (const auto& t : kTypes) {
    if ((json_is_string(v) && std::strcmp(json_string_value(v), t.name) == 0) ||
        (json_is_integer(v) && json_integer_value(v) == t.number))
      return std::string(t.name);
  }
  return InvalidArgument("provisioner type is missing or unknown");
}

Result<JsonPtr> ToConfigProvisioner(const json_t* p) {
  if (!json_is_object(p)) return InvalidArgument("provisioner must be a JSON object");
  STEPCA_ASSIGN_OR_RETURN(std::string type, ReadProvisionerType(json_object_get(p, "type")));
  for (const auto& t : kTypes)
    if (type == t.name && !t.served)
      return InvalidArgument("provisioner type " + type + " is not supported by this CA");
  const json_t* name = json_object_get(p, "name");
  if (!json_is_string(name) || json_string_length(name) == 0)
    return InvalidArgument("provisioner name cannot be empty");
  JsonPtr out(json_object());
  json_object_set_new(out.get(), "type", json_string(type.c_str()));
  json_object_set(out.get(), "name", const_cast<json_t*>(name));
  STEPCA_ASSIGN_OR_RETURN(JsonPtr claims, ClaimsToConfig(json_object_get(p, "claims")));
  if (json_object_size(claims.get()) > 0) json_object_set(out.get(), "claims", claims.get());
  // What the rest of the CA reads only from ca.json at load (name
  // policies, SSH templates) is refused rather than dropped: a provisioner
  // must never run looser than it was written.
  for (const char* member : {"policy", "webhooks", "sshTemplate"}) {
    const json_t* v = json_object_get(p, member);
    if (v == nullptr || json_is_null(v) || (json_is_object(v) && json_object_size(v) == 0) ||
        (json_is_array(v) && json_array_size(v) == 0))
      continue;
    return InvalidArgument(std::string(member) +
                           " is not supported through the admin API; configure such a "
                           "provisioner in ca.json");
  }
  JsonPtr options(json_object());
  STEPCA_RETURN_IF_ERROR(Template(p, "x509Template", "x509", options.get()));
  if (json_object_size(options.get()) > 0) json_object_set(out.get(), "options", options.get());

  const json_t* details = json_object_get(p, "details");
  if (details != nullptr && !json_is_null(details) && !json_is_object(details))
    return InvalidArgument("provisioner details must be an object");
  // protojson names the oneof member after the type ("JWK", "X5C", "ACME").
  const json_t* d = json_object_get(details, type.c_str());
  if (type == "JWK") {
    if (!json_is_object(d)) return InvalidArgument("JWK provisioner details are missing");
    STEPCA_ASSIGN_OR_RETURN(std::string pub, Bytes(d, "publicKey", "details.JWK"));
    STEPCA_ASSIGN_OR_RETURN(std::string enc, Bytes(d, "encryptedPrivateKey", "details.JWK"));
    json_error_t err;
    JsonPtr key(json_loadb(pub.data(), pub.size(), 0, &err));
    if (!key || !json_is_object(key.get()))
      return InvalidArgument("details.JWK.publicKey must be a JSON web key");
    json_object_set(out.get(), "key", key.get());
    if (!enc.empty()) json_object_set_new(out.get(), "encryptedKey", json_stringn(enc.data(), enc.size()));
  } else if (type == "X5C") {
    const json_t* roots = json_object_get(d, "roots");
    if (!json_is_array(roots) || json_array_size(roots) == 0)
      return InvalidArgument("X5C provisioner details.X5C.roots cannot be empty");
    std::string pem;
    size_t i;
    const json_t* r;
    json_array_foreach(roots, i, r) {
      if (!json_is_string(r)) return InvalidArgument("details.X5C.roots must be base64 strings");
      auto b = Base64Decode(std::string(json_string_value(r), json_string_length(r)));
      if (!b) return InvalidArgument("details.X5C.roots must be base64 strings");
      pem += *b;
      if (!pem.empty() && pem.back() != '\n') pem.push_back('\n');
    }
    json_object_set_new(out.get(), "roots", json_string(Base64Encode(pem).c_str()));
  } else if (type == "ACME") {
    if (d != nullptr && !json_is_object(d)) return InvalidArgument("details.ACME must be an object");
    // The ACME service reads these per provisioner from ca.json at load
    // (its EAB keys too), so a provisioner from the store would silently
    // run without them: an open ACME provisioner where EAB was asked for.
    for (const char* unsupported : {"forceCn", "requireEab"}) {
      if (json_is_true(json_object_get(d, unsupported)))
        return InvalidArgument(std::string("details.ACME.") + unsupported +
                               " is not supported through the admin API; "
                               "configure such an ACME provisioner in ca.json");
    }
  }
  return out;
}

}  // namespace stepca::admin
