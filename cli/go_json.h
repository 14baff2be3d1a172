// JSON text the way Go's encoding/json writes it, so that files we write
// are byte-identical to step's: MarshalIndent layout (one member per line,
// "key": value, empty {} and [] kept short), keys in insertion order, Go's
// string escaping (<, >, & and U+2028/2029 as \u escapes) and Go's
// shortest float formatting (1.2, not 1.19999...).
#ifndef STEPCA_CLI_GO_JSON_H
#define STEPCA_CLI_GO_JSON_H

#include <jansson.h>

#include <string>

namespace stepca {
namespace cli {

// indent empty: compact (json.Marshal). Otherwise json.MarshalIndent(v, "",
// indent). No trailing newline.
std::string GoJson(const json_t* value, const std::string& indent = "");

}  // namespace cli
}  // namespace stepca

#endif  // STEPCA_CLI_GO_JSON_H
