// Small file helpers for the CLI: whole-file reads, writes with an explicit
// mode (the mode is set even when the file already existed), directories,
// password files, step's path resolution.
#ifndef STEPCA_CLI_FILES_H
#define STEPCA_CLI_FILES_H

#include <sys/types.h>

#include <string>

#include "authority/status.h"

namespace stepca {
namespace cli {

Result<std::string> ReadFile(const std::string& path);

// Writes through a temporary file in the same directory and renames it, so
// a reader never sees half a file; the result has exactly `mode`.
Status WriteFile(const std::string& path, const std::string& content,
                 mode_t mode);

// mkdir -p; created directories (and the last one, always) get `mode`.
Status MakeDirs(const std::string& path, mode_t mode);

// A password file as step reads it: trailing white space is trimmed.
Result<std::string> ReadPasswordFile(const std::string& path);

// $STEPPATH, else $HOME/.step.
std::string DefaultStepPath();

// path made absolute against the current directory (no symlink resolution).
std::string AbsolutePath(const std::string& path);

std::string JoinPath(const std::string& dir, const std::string& name);

}  // namespace cli
}  // namespace stepca

#endif  // STEPCA_CLI_FILES_H
