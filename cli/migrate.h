// stepca migrate: brings a step-ca 0.19 database's certificate records,
// revocations and ACME accounts into our store (docs/migrating-from-step-ca.md).
//
//   stepca migrate --config ca.json [--from SOURCE | --from-json FILE]
//                  [--db-type TYPE] [--database NAME] [--store URI]
//                  [--acme-provisioner NAME] [--exporter PATH]
//
// SOURCE and TYPE default to ca.json's db.dataSource and db.type; the
// database is read by tools/stepca-db-export (Go, outside the module), or
// --from-json reads what it wrote. URI is the stepca_store directive's
// value (default lmdb:/var/lib/nginx-stepca). The whole export is read and
// checked before the first write; the report goes to out.
#ifndef STEPCA_CLI_MIGRATE_H
#define STEPCA_CLI_MIGRATE_H

#include <ostream>
#include <string>
#include <vector>

namespace stepca {
namespace cli {

int RunMigrate(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err);

}  // namespace cli
}  // namespace stepca

#endif  // STEPCA_CLI_MIGRATE_H
