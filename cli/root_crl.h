// `stepca crl`: the root's CRL of intermediates, kept offline beside the
// root key, so that an intermediate can be revoked (the production guide's
// "Enable Active Revocation On Your Intermediate CA") without `openssl ca`
// and its index.txt.
//
//   stepca crl revoke CRT --db crl.json [--reason keyCompromise] [--ca ROOT]
//   stepca crl sign --db crl.json --ca ROOT --ca-key ROOT_KEY
//        [--ca-password-file F] [--not-after 720h] [--idp URL] [--pem] --out ca.crl
//   stepca crl show --db crl.json
//
// The database is a small JSON file: {"number": N, "entries": [{"serial",
// "subject", "revokedAt", "reasonCode", "notAfter"}]}. `sign` writes the CRL
// with number N+1 and stores N+1; a CRL with no entries is the guide's
// "empty CRL" of step 2.
#ifndef STEPCA_CLI_ROOT_CRL_H
#define STEPCA_CLI_ROOT_CRL_H

#include <ostream>
#include <string>
#include <vector>

#include "authority/ossl.h"
#include "authority/revocation/crl_builder.h"
#include "authority/status.h"

namespace stepca {
namespace cli {

struct RootCrlEntry {
  CrlEntry entry;
  std::string subject;   // one line, for people reading the file
  TimePoint not_after{};
};

struct RootCrlDb {
  int64_t number = 0;
  std::vector<RootCrlEntry> entries;
};

// A missing file is an empty database.
Result<RootCrlDb> LoadRootCrlDb(const std::string& path);
Status SaveRootCrlDb(const std::string& path, const RootCrlDb& db);

// Adds cert; kAlreadyExists when its serial is listed already.
Status AddToRootCrl(RootCrlDb* db, X509* cert, int reason_code, TimePoint revoked_at);

int RunCrl(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err);

}  // namespace cli
}  // namespace stepca

#endif  // STEPCA_CLI_ROOT_CRL_H
