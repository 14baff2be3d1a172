// `stepca init`: the PKI and configuration `step ca init` writes, file for
// file, so the real step-ca can run from it too; plus config/nginx-stepca.conf,
// the nginx configuration of this CA, whose listener's certificate the CA
// issues and renews itself (stepca_tls_certificate), and, only when asked
// (--tls-files) or with --kms, a TLS certificate and key for an
// ssl_certificate of your own.
#ifndef STEPCA_CLI_INIT_H
#define STEPCA_CLI_INIT_H

#include <jansson.h>

#include <ostream>
#include <string>
#include <vector>

#include "authority/ossl.h"
#include "authority/status.h"

namespace stepca {
namespace cli {

struct InitOptions {
  std::string name;                  // PKI name: "<name> Root CA"...
  std::vector<std::string> dns;      // dnsNames, dns[0] goes in ca-url
  std::string address;               // listen address, HOST:PORT or :PORT
  std::string provisioner;           // JWK provisioner name
  std::string password;              // CA keys
  std::string provisioner_password;  // provisioner JWE
  std::string steppath;
  bool acme = false;
  bool ssh = false;                  // SSH user and host CA keys, as `step ca init --ssh`
  bool force = false;                // overwrite an existing config/ca.json
  std::string kty = "EC";            // CA keys: EC (P-256), OKP, RSA
  int p2c = 600000;                  // PBES2 iterations of encryptedKey
  // When set, the intermediate is made from this X.509 template (its
  // .Subject: O=<name>, CN=<name> Intermediate CA), signed by the root.
  std::string intermediate_template;
  std::string intermediate_template_name;  // the file, for errors
  // A pkcs11: URI (module, token, PIN): the CA keys are made on that token
  // and ca.json names them there (key + kms); password is then unused.
  std::string kms;
  // --tls-files: also a TLS certificate and key for an ssl_certificate of
  // the operator's own (90 days; nothing renews them). Always with kms,
  // whose key the nginx master never opens, so stepca_tls_certificate
  // cannot serve that listener.
  bool tls_files = false;
};

struct InitResult {
  std::string steppath;  // absolute
  std::string root_cert, root_key, intermediate_cert, intermediate_key;
  std::string tls_cert, tls_key;  // empty unless written (tls_files or kms)
  std::string ca_config, defaults, db_dir, templates_dir;
  std::string nginx_conf;  // config/nginx-stepca.conf
  // With --ssh: the CA keys (.pub beside them under certs/).
  std::string ssh_user_pub, ssh_user_key, ssh_host_pub, ssh_host_key;
  std::string fingerprint;
  std::string ca_url;
};

Result<InitResult> InitPki(const InitOptions& options);

// Pieces, exposed for tests.

// "https://<host>[:port]" for dnsNames[0] and the listen address; the port
// is left out when it is 443; IPv6 hosts get brackets.
Result<std::string> CaUrlFor(const std::string& dns_name,
                             const std::string& address);

// The members of a JWK in go-jose's marshalling order (use, kty, kid, crv,
// alg, k, x, y, n, e, d, p, q, dp, dq, qi), so our JSON matches step's.
JsonPtr OrderJwkMembers(const json_t* jwk);

// step's JWK provisioner entry: {"type":"JWK","name","key","encryptedKey"}.
Result<JsonPtr> MakeJwkProvisioner(const std::string& name,
                                   const std::string& password, int p2c);

// config/nginx-stepca.conf: the directives of this CA for nginx's http {}
// and its server {}, which keeps its own TLS certificate fresh
// ("stepca_tls_certificate on"); with --kms (a key the nginx master never
// opens) it names tls.crt and tls.key instead.
std::string NginxSnippet(const InitOptions& options, const InitResult& result);

// The "logger" and "db" members step writes into ca.json (step-ca's own
// database there, which the module never reads; `stepca migrate` does).
JsonPtr StepLogger();
JsonPtr StepDb(const std::string& dir);

// A JSON array of strings.
JsonPtr StringArray(const std::vector<std::string>& values);

// The "tls" section step writes: its default TLS options.
JsonPtr DefaultTlsOptions();

// ca.json text, tab indented like step's, with a trailing newline.
std::string FormatCaJson(const json_t* config);

void PrintInitSummary(const InitResult& r, std::ostream& out);

}  // namespace cli
}  // namespace stepca

#endif  // STEPCA_CLI_INIT_H
