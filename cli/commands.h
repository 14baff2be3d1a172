// The stepca subcommands: init, token, certificate, sign. Each reads its
// flags the way step does and returns the process exit code; results go
// to out, messages and errors to err.
#ifndef STEPCA_CLI_COMMANDS_H
#define STEPCA_CLI_COMMANDS_H

#include <ostream>
#include <string>
#include <vector>

namespace stepca {
namespace cli {

int RunInit(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err);
int RunToken(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err);
int RunCertificate(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err);
int RunSign(const std::vector<std::string>& argv, std::ostream& out, std::ostream& err);

// argv[0] is the program, argv[1] the subcommand.
int RunCli(int argc, const char* const* argv, std::ostream& out, std::ostream& err);

}  // namespace cli
}  // namespace stepca

#endif  // STEPCA_CLI_COMMANDS_H
