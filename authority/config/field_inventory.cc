#include "authority/config/field_inventory.h"

#include <strings.h>


namespace stepca {
namespace {

constexpr FieldUse H = FieldUse::kHonoured;
constexpr FieldUse W = FieldUse::kHonouredWhole;
constexpr FieldUse P = FieldUse::kParserWarns;
constexpr FieldUse N = FieldUse::kNotServed;

constexpr char kLinked[] =
    "linked deployments (Smallstep Certificate Manager) are not supported; ignored";

constexpr char kTlsCiphers[] =
    "reported in sign responses (tlsOptions) but not applied to the listener: nginx's "
    "\"ssl_ciphers\" must carry it, with OpenSSL's names of the suites";
constexpr char kTlsVersions[] =
    "reported in sign responses (tlsOptions) but not applied to the listener: nginx's "
    "\"ssl_protocols\" must carry it (1.2 and 1.3: \"ssl_protocols TLSv1.2 TLSv1.3;\")";
constexpr char kTlsRenegotiation[] =
    "reported in sign responses (tlsOptions); no nginx directive carries it: nginx refuses "
    "client-initiated renegotiation, and TLS 1.3 has none";
constexpr char kCommonName[] =
    "not used: the CA's own TLS certificate (stepca_tls_certificate) is named after the first "
    "dnsNames entry, or comes from nginx's ssl_certificate";

// The provisioner types whose requests this version authorizes. The others
// are named by the provisioner parser as a whole, so their members are not
// listed one by one.
constexpr const char* kServedTypes[] = {"JWK", "X5C", "ACME", "SSHPOP", "OIDC",
                                        "K8sSA", "AWS", "GCP", "Azure"};

const std::vector<FieldRule> kRules = {
    {"root", H, ""},
    {"federatedRoots", H, ""},
    {"crt", H, ""},
    {"key", H, ""},
    {"password", H, ""},
    {"dnsNames", H, ""},
    {"address", P, ""},
    {"insecureAddress", P, ""},
    {"logger", H, ""},
    {"logger.format", H, ""},
    {"db", P, ""},  // named whole by the loader: the store is stepca_store
    {"kms", H, ""},
    {"kms.type", H, ""},  // pkcs11, yubikey, awskms, cloudkms, azurekms; others refused by name
    {"kms.uri", H, ""},
    {"kms.pin", H, ""},   // pkcs11/yubikey: the PIN when kms.uri has neither pin-value nor pin-source
    {"kms.region", H, ""},           // awskms, under region= of kms.uri
    {"kms.profile", H, ""},          // awskms, under profile= of kms.uri
    {"kms.credentialsFile", H, ""},  // cloudkms, under credentials-file= of kms.uri
    {"ssh", H, ""},
    {"ssh.hostKey", H, ""},
    {"ssh.userKey", H, ""},
    {"ssh.keys", W, ""},
    {"ssh.addUserPrincipal", H, ""},
    {"ssh.addUserCommand", H, ""},
    {"ssh.bastion", W, ""},
    {"templates", P, ""},
    {"crl", H, ""},
    {"crl.enabled", H, ""},
    {"crl.generateOnRevoke", H, ""},
    {"crl.cacheDuration", H, ""},
    {"crl.renewPeriod", H, ""},
    {"crl.idpURL", H, ""},
    // This CA's own extension (README "CRL and OCSP"); step-ca ignores it.
    {"nginxStepca", H, ""},
    {"nginxStepca.crlCheckInterval", H, ""},
    {"nginxStepca.ocsp", H, ""},
    {"nginxStepca.ocsp.enabled", H, ""},
    {"nginxStepca.ocsp.path", H, ""},
    {"nginxStepca.ocsp.url", H, ""},
    {"nginxStepca.ocsp.validity", H, ""},
    {"nginxStepca.upstream", H, ""},
    {"nginxStepca.upstream.clientCertHeader", H, ""},
    {"nginxStepca.upstream.connectTimeout", H, ""},
    {"nginxStepca.upstream.timeout", H, ""},
    {"nginxStepca.ocsp.responderCert", H, ""},
    {"nginxStepca.ocsp.responderKey", H, ""},
    {"cas", P, ""},
    {"monitoring", N, "not supported; scrape the stepca_metrics endpoint instead"},
    {"commonName", N, kCommonName},
    // Reported to clients as tlsOptions (as step-ca does), but nginx's own
    // directives configure the listener, so each member names its directive.
    {"tls", H, ""},
    {"tls.cipherSuites", N, kTlsCiphers},
    {"tls.minVersion", N, kTlsVersions},
    {"tls.maxVersion", N, kTlsVersions},
    {"tls.renegotiation", N, kTlsRenegotiation},

    {"authority", H, ""},
    {"authority.type", H, ""},  // "" / softcas, stepcas, vaultcas, cloudCAS; the loader refuses others
    {"authority.provisioners", H, ""},
    {"authority.claims", H, ""},
    {"authority.disableIssuedAtCheck", H, ""},
    {"authority.backdate", H, ""},
    {"authority.password", H, ""},
    {"authority.enableAdmin", H, ""},
    {"authority.template", W, ""},
    {"authority.policy", W, ""},
    {"authority.authorityId", N, kLinked},
    {"authority.deploymentType", N, kLinked},
    // The registration authority types (config/ra_config.cc); with a local
    // type the loader names the stepcas ones.
    {"authority.certificateAuthority", H, ""},
    {"authority.certificateAuthorityFingerprint", H, ""},
    {"authority.certificateIssuer", H, ""},
    {"authority.certificateIssuer.type", H, ""},
    {"authority.certificateIssuer.provisioner", H, ""},
    {"authority.certificateIssuer.password", H, ""},
    {"authority.certificateIssuer.key", H, ""},
    {"authority.certificateIssuer.crt", H, ""},
    {"authority.credentialsFile", H, ""},  // cloudCAS
    {"authority.config", H, ""},           // vaultcas, member by member:
    {"authority.config.pkiMountPath", H, ""},
    {"authority.config.pkiRoleDefault", H, ""},
    {"authority.config.pkiRoleRSA", H, ""},
    {"authority.config.pkiRoleEC", H, ""},
    {"authority.config.pkiRoleEd25519", H, ""},
    {"authority.config.authType", H, ""},
    {"authority.config.authMountPath", H, ""},
    {"authority.config.namespace", H, ""},
    {"authority.config.authOptions", H, ""},
    {"authority.config.authOptions.roleID", H, ""},
    {"authority.config.authOptions.secretID", H, ""},
    {"authority.config.authOptions.secretIDFile", H, ""},
    {"authority.config.authOptions.secretIDEnv", H, ""},
    {"authority.config.authOptions.isWrappingToken", H, ""},
    {"authority.config.authOptions.role", H, ""},
    {"authority.config.authOptions.tokenPath", H, ""},

    {"claims.minTLSCertDuration", H, ""},
    {"claims.maxTLSCertDuration", H, ""},
    {"claims.defaultTLSCertDuration", H, ""},
    {"claims.disableRenewal", H, ""},
    {"claims.allowRenewalAfterExpiry", H, ""},
    {"claims.minUserSSHCertDuration", H, ""},
    {"claims.maxUserSSHCertDuration", H, ""},
    {"claims.defaultUserSSHCertDuration", H, ""},
    {"claims.minHostSSHCertDuration", H, ""},
    {"claims.maxHostSSHCertDuration", H, ""},
    {"claims.defaultHostSSHCertDuration", H, ""},
    {"claims.enableSSHCA", H, ""},

    {"provisioner.*.type", H, ""},
    {"provisioner.*.name", H, ""},
    {"provisioner.*.claims", H, ""},
    {"provisioner.*.options", H, ""},
    {"provisioner.*.policy", W, ""},
    {"provisioner.*.options.x509", H, ""},
    {"provisioner.*.options.x509.template", H, ""},
    {"provisioner.*.options.x509.templateFile", H, ""},
    {"provisioner.*.options.x509.templateData", W, ""},
    {"provisioner.*.options.ssh", H, ""},
    {"provisioner.*.options.ssh.template", H, ""},
    {"provisioner.*.options.ssh.templateFile", H, ""},
    {"provisioner.*.options.ssh.templateData", W, ""},
    {"provisioner.JWK.key", W, ""},
    {"provisioner.JWK.encryptedKey", H, ""},
    {"provisioner.X5C.roots", H, ""},
    {"provisioner.ACME.requireEAB", H, ""},
    {"provisioner.ACME.challenges", H, ""},
    {"provisioner.ACME.nginxStepca", W, ""},
    {"provisioner.ACME.forceCN", H, ""},
    {"provisioner.OIDC.clientID", H, ""},
    {"provisioner.OIDC.clientSecret", H, ""},  // step's OAuth flow reads it from /provisioners
    {"provisioner.OIDC.configurationEndpoint", H, ""},
    {"provisioner.OIDC.tenantID", H, ""},
    {"provisioner.OIDC.admins", H, ""},
    {"provisioner.OIDC.domains", H, ""},
    {"provisioner.OIDC.groups", H, ""},
    {"provisioner.OIDC.listenAddress", H, ""},
    {"provisioner.K8sSA.publicKeys", H, ""},
    {"provisioner.AWS.accounts", H, ""},
    {"provisioner.AWS.disableCustomSANs", H, ""},
    {"provisioner.AWS.disableTrustOnFirstUse", H, ""},
    {"provisioner.AWS.instanceAge", H, ""},
    {"provisioner.AWS.iidRoots", H, ""},
    {"provisioner.AWS.imdsVersions", H, ""},  // for step on the instance (via /provisioners)
    {"provisioner.GCP.serviceAccounts", H, ""},
    {"provisioner.GCP.projectIDs", H, ""},
    {"provisioner.GCP.disableCustomSANs", H, ""},
    {"provisioner.GCP.disableTrustOnFirstUse", H, ""},
    {"provisioner.GCP.instanceAge", H, ""},
    // This CA's own extension: where Google's keys are (tests, air gaps).
    {"provisioner.GCP.certsURL", H, ""},
    {"provisioner.Azure.tenantID", H, ""},
    {"provisioner.Azure.resourceGroups", H, ""},
    {"provisioner.Azure.subscriptionIDs", H, ""},
    {"provisioner.Azure.objectIDs", H, ""},
    {"provisioner.Azure.audience", H, ""},
    {"provisioner.Azure.disableCustomSANs", H, ""},
    {"provisioner.Azure.disableTrustOnFirstUse", H, ""},
    // This CA's own extension: the tenant's discovery document elsewhere.
    {"provisioner.Azure.configurationEndpoint", H, ""},
};

const FieldRule* Find(const std::string& path) {
  for (const auto& r : kRules)
    if (path == r.path) return &r;
  return nullptr;
}

std::string CanonicalType(const char* type) {
  for (const char* t : kServedTypes)
    if (strcasecmp(t, type) == 0) return t;
  return "";
}

class Walker {
 public:
  std::vector<std::string> warnings;

  // doc: where the user sees the field; rule: its name in the table.
  void Object(const json_t* obj, const std::string& doc, const std::string& rule) {
    const char* key;
    const json_t* value;
    json_object_foreach(const_cast<json_t*>(obj), key, value) {
      Field(value, Join(doc, key), Join(rule, key));
    }
  }

 private:
  static std::string Join(const std::string& a, const char* b) {
    return a.empty() ? b : a + "." + b;
  }

  void Field(const json_t* value, const std::string& doc, const std::string& rule) {
    const FieldRule* r = Find(rule);
    if (r == nullptr) {
      warnings.push_back(doc + ": unknown field, ignored (step-ca 0.19 has no such field "
                               "either; check its spelling)");
      return;
    }
    if (r->use == FieldUse::kNotServed) {
      warnings.push_back(doc + ": " + r->why);
      return;
    }
    if (r->use != FieldUse::kHonoured || !json_is_object(value)) {
      if (rule == "authority.provisioners") Provisioners(value, doc);
      return;
    }
    if (rule == "authority.claims") {
      Object(value, doc, "claims");
      return;
    }
    Object(value, doc, rule);
  }

  void Provisioners(const json_t* list, const std::string& doc) {
    if (!json_is_array(list)) return;  // the loader refuses it
    size_t i;
    const json_t* p;
    json_array_foreach(list, i, p) {
      const json_t* type = json_object_get(p, "type");
      if (!json_is_object(p) || !json_is_string(type)) continue;  // refused by the parser
      const std::string canonical = CanonicalType(json_string_value(type));
      if (canonical.empty()) continue;  // named whole by the parser
      const std::string at = doc + "[" + std::to_string(i) + "]";
      const char* key;
      const json_t* value;
      json_object_foreach(const_cast<json_t*>(p), key, value) {
        ProvisionerField(value, at + "." + key, canonical, key);
      }
    }
  }

  void ProvisionerField(const json_t* value, const std::string& doc, const std::string& type,
                        const std::string& member) {
    const std::string typed = "provisioner." + type + "." + member;
    const std::string any = "provisioner.*." + member;
    const FieldRule* r = Find(typed);
    if (r == nullptr) r = Find(any);
    if (r == nullptr) {
      warnings.push_back(doc + ": unknown field for a " + type +
                         " provisioner, ignored (check its spelling)");
      return;
    }
    if (r->use == FieldUse::kNotServed) {
      warnings.push_back(doc + ": " + r->why);
      return;
    }
    if (r->use != FieldUse::kHonoured || !json_is_object(value)) return;
    if (member == "claims") {
      Object(value, doc, "claims");
      return;
    }
    const char* key;
    const json_t* sub;
    json_object_foreach(const_cast<json_t*>(value), key, sub) {
      ProvisionerField(sub, doc + "." + key, type, member + "." + key);
    }
  }
};

}  // namespace

const std::vector<FieldRule>& FieldInventory() { return kRules; }

std::vector<std::string> UnhonouredFields(const json_t* root) {
  Walker w;
  if (json_is_object(root)) w.Object(root, "", "");
  return std::move(w.warnings);
}

}  // namespace stepca
