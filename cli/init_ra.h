// `stepca init --ra stepcas`: the configuration `step ca init --ra StepCAS`
// writes for a registration authority: the upstream's root (downloaded by
// its fingerprint), a ca.json naming the upstream and its provisioner, and
// a JWK provisioner of the RA's own. No CA key: the upstream signs.
#ifndef STEPCA_CLI_INIT_RA_H
#define STEPCA_CLI_INIT_RA_H

#include <ostream>
#include <string>
#include <vector>

#include "authority/status.h"

namespace stepca {
namespace cli {

struct InitRaOptions {
  std::string ra;                     // "stepcas" (step's "StepCAS"; any case)
  std::string issuer;                 // the upstream's URL
  std::string issuer_fingerprint;     // its root's SHA-256, hex
  std::string issuer_provisioner;     // an upstream JWK provisioner
  std::vector<std::string> dns;       // the RA's dnsNames, dns[0] in ca-url
  std::string address;
  std::string provisioner;            // the RA's own JWK provisioner
  std::string provisioner_password;
  std::string steppath;
  bool acme = false;
  bool force = false;
  int p2c = 600000;
};

struct InitRaResult {
  std::string steppath, root_cert, ca_config, defaults, db_dir, ca_url, fingerprint;
};

// "stepcas" in any case is Ok; vaultcas and cloudcas are kUnimplemented,
// anything else kInvalidArgument.
Status CheckRaType(const std::string& ra);

// Fetches <issuer>/root/<fingerprint> and refuses a root whose SHA-256 is
// not the fingerprint; vaultcas and cloudcas are kUnimplemented.
Result<InitRaResult> InitRa(const InitRaOptions& options);

void PrintInitRaSummary(const InitRaResult& r, std::ostream& out);

}  // namespace cli
}  // namespace stepca

#endif  // STEPCA_CLI_INIT_RA_H
