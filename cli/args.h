// Command-line flags the way step's CLI reads them: "--name value",
// "--name=value", repeatable flags, boolean flags, positional arguments in
// any position.
#ifndef STEPCA_CLI_ARGS_H
#define STEPCA_CLI_ARGS_H

#include <map>
#include <string>
#include <vector>

#include "authority/status.h"

namespace stepca {
namespace cli {

struct FlagSpec {
  std::string name;     // without the dashes
  bool has_value = true;
};

class Args {
 public:
  // argv excludes the program and the subcommand. Unknown flags and flags
  // missing their value are kInvalidArgument.
  static Result<Args> Parse(const std::vector<std::string>& argv,
                            const std::vector<FlagSpec>& specs);

  bool Has(const std::string& name) const { return values_.count(name) > 0; }
  // The last value given for the flag, or def.
  std::string Get(const std::string& name, const std::string& def = "") const;
  std::vector<std::string> GetAll(const std::string& name) const;
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  std::map<std::string, std::vector<std::string>> values_;
  std::vector<std::string> positional_;
};

}  // namespace cli
}  // namespace stepca

#endif  // STEPCA_CLI_ARGS_H
