// Every field of step-ca 0.19's ca.json, and what this CA does with it.
//
// A user migrating from step-ca must be able to trust the start-up log: a
// field is either honoured or named in a warning, never dropped in silence.
// The parsers read the fields; this inventory walks the same document and
// names what no parser honours, including fields step-ca itself does not
// know (a misspelt "maxTLSCertDuration" would otherwise change nothing and
// say nothing).
#ifndef STEPCA_AUTHORITY_CONFIG_FIELD_INVENTORY_H
#define STEPCA_AUTHORITY_CONFIG_FIELD_INVENTORY_H

#include <jansson.h>

#include <string>
#include <vector>

namespace stepca {

enum class FieldUse {
  kHonoured,      // read and applied; its members are checked too
  kHonouredWhole, // read and applied as a whole (a JWK, free-form data)
  kParserWarns,   // the parser that reads it writes a warning of its own
  kNotServed,     // accepted, not applied: named in a warning with the reason
};

struct FieldRule {
  // Dotted path from the top of ca.json. Provisioner members are
  // "provisioner.<TYPE>.<field>", with "*" for any type, and
  // "claims.<field>" holds the claims shared by authority and provisioners.
  const char* path;
  FieldUse use;
  const char* why;  // for kNotServed: what happens instead
};

// The whole table, for the README check and for tests.
const std::vector<FieldRule>& FieldInventory();

// One warning per field present in root that is not honoured, in document
// order: "<path>: <why>", or for a field step-ca 0.19 does not define
// "<path>: unknown field, ignored (...)".
std::vector<std::string> UnhonouredFields(const json_t* root);

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_CONFIG_FIELD_INVENTORY_H
