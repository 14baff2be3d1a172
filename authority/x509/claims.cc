#include "authority/x509/claims.h"

#include <optional>

namespace stepca {

namespace {

std::string FieldName(const std::string& field, const char* key) {
  return "field \"" + field + "." + key + "\"";
}

// Reads one duration claim: a Go duration string or, as step-ca also
// accepts, a JSON integer of nanoseconds. Absent or null leaves *out unset.
Status ReadDuration(const json_t* obj, const char* key, const std::string& field,
                    std::optional<Duration>* out) {
  const json_t* v = json_object_get(obj, key);
  if (!v || json_is_null(v)) return Status::Ok();
  if (json_is_string(v)) {
    std::string text(json_string_value(v), json_string_length(v));
    auto d = ParseGoDuration(text);
    if (!d) return InvalidArgument(FieldName(field, key) + ": invalid duration \"" + text + "\"");
    *out = *d;
    return Status::Ok();
  }
  if (json_is_integer(v)) {
    *out = Duration(json_integer_value(v));
    return Status::Ok();
  }
  return InvalidArgument(FieldName(field, key) + ": must be a duration string such as \"24h\"");
}

Status ReadBool(const json_t* obj, const char* key, const std::string& field, bool* out) {
  const json_t* v = json_object_get(obj, key);
  if (!v || json_is_null(v)) return Status::Ok();
  if (!json_is_boolean(v)) return InvalidArgument(FieldName(field, key) + ": must be a boolean");
  *out = json_is_true(v);
  return Status::Ok();
}

struct Triple {
  const char* min_key;
  const char* max_key;
  const char* default_key;
  Duration* min;
  Duration* max;
  Duration* def;
};

// Reads min/max/default of one certificate kind onto the values in t.
Status ApplyTriple(const json_t* obj, const Triple& t, bool provisioner_layer,
                   const std::string& field) {
  std::optional<Duration> min, max, def;
  STEPCA_RETURN_IF_ERROR(ReadDuration(obj, t.min_key, field, &min));
  STEPCA_RETURN_IF_ERROR(ReadDuration(obj, t.max_key, field, &max));
  STEPCA_RETURN_IF_ERROR(ReadDuration(obj, t.default_key, field, &def));
  if (min) *t.min = *min;
  if (max) *t.max = *max;
  if (def) {
    *t.def = *def;
    // step-ca: a provisioner default outside the global bounds moves the
    // bound it crosses, unless the provisioner also set that bound.
    if (provisioner_layer) {
      if (!min && *def < *t.min) *t.min = *def;
      if (!max && *def > *t.max) *t.max = *def;
    }
  }
  return Status::Ok();
}

Status ValidateTls(const Claims& c, const std::string& field) {
  struct {
    const char* key;
    Duration d;
  } all[] = {{"minTLSCertDuration", c.min_tls},
             {"maxTLSCertDuration", c.max_tls},
             {"defaultTLSCertDuration", c.default_tls}};
  for (const auto& x : all) {
    if (x.d <= Duration(0)) {
      return InvalidArgument(FieldName(field, x.key) + ": duration \"" + FormatGoDuration(x.d) +
                             "\" must be greater than 0");
    }
  }
  if (c.min_tls > c.max_tls) {
    return InvalidArgument(FieldName(field, "minTLSCertDuration") + ": " +
                           FormatGoDuration(c.min_tls) +
                           " is greater than maxTLSCertDuration " + FormatGoDuration(c.max_tls));
  }
  if (c.default_tls < c.min_tls) {
    return InvalidArgument(FieldName(field, "defaultTLSCertDuration") + ": " +
                           FormatGoDuration(c.default_tls) +
                           " is less than minTLSCertDuration " + FormatGoDuration(c.min_tls));
  }
  if (c.default_tls > c.max_tls) {
    return InvalidArgument(FieldName(field, "defaultTLSCertDuration") + ": " +
                           FormatGoDuration(c.default_tls) +
                           " is greater than maxTLSCertDuration " + FormatGoDuration(c.max_tls));
  }
  return Status::Ok();
}

}  // namespace

Result<Claims> ApplyClaims(const Claims& base, const json_t* claims,
                           bool provisioner_layer, const std::string& field) {
  Claims c = base;
  if (claims && !json_is_null(claims)) {
    if (!json_is_object(claims)) {
      return InvalidArgument("field \"" + field + "\": must be an object");
    }
    const Triple triples[] = {
        {"minTLSCertDuration", "maxTLSCertDuration", "defaultTLSCertDuration", &c.min_tls,
         &c.max_tls, &c.default_tls},
        {"minUserSSHCertDuration", "maxUserSSHCertDuration", "defaultUserSSHCertDuration",
         &c.min_user_ssh, &c.max_user_ssh, &c.default_user_ssh},
        {"minHostSSHCertDuration", "maxHostSSHCertDuration", "defaultHostSSHCertDuration",
         &c.min_host_ssh, &c.max_host_ssh, &c.default_host_ssh},
    };
    for (const auto& t : triples) {
      STEPCA_RETURN_IF_ERROR(ApplyTriple(claims, t, provisioner_layer, field));
    }
    STEPCA_RETURN_IF_ERROR(ReadBool(claims, "enableSSHCA", field, &c.enable_ssh_ca));
    STEPCA_RETURN_IF_ERROR(ReadBool(claims, "disableRenewal", field, &c.disable_renewal));
    STEPCA_RETURN_IF_ERROR(
        ReadBool(claims, "allowRenewalAfterExpiry", field, &c.allow_renewal_after_expiry));
    STEPCA_RETURN_IF_ERROR(ReadBool(claims, "disableSmallstepExtensions", field,
                                    &c.disable_smallstep_extensions));
  }
  STEPCA_RETURN_IF_ERROR(ValidateTls(c, field));
  return c;
}

}  // namespace stepca
