// Helpers for the CLI tests (header only, so nothing of it reaches the
// stepca binary): scratch directories and fixture files.
#ifndef STEPCA_CLI_TESTING_UTIL_H
#define STEPCA_CLI_TESTING_UTIL_H

#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>

#include "cli/files.h"

// The build passes the absolute path; the fallback is the repository's copy
// for a compiler run from the top of the tree.
#ifndef STEPCA_FIXTURES_DIR
#define STEPCA_FIXTURES_DIR "testdata/step-0.19"
#endif

namespace stepca {
namespace cli {
namespace testing {

// A fresh directory under $TMPDIR (or /tmp), removed by the destructor.
class ScratchDir {
 public:
  ScratchDir() {
    const char* tmp = getenv("TMPDIR");
    std::string templ = std::string(tmp != nullptr && *tmp ? tmp : "/tmp") +
                        "/stepca-cli-test-XXXXXX";
    if (mkdtemp(templ.data()) != nullptr) path_ = templ;
  }
  ~ScratchDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

inline std::string FixturePath(const std::string& relative) {
  return std::string(STEPCA_FIXTURES_DIR) + "/" + relative;
}

// Contents of a file under the step 0.19 fixtures directory ("" if absent).
inline std::string FixtureFile(const std::string& relative) {
  auto r = ReadFile(FixturePath(relative));
  return r.ok() ? r.value() : "";
}

// stat mode bits (& 0777), -1 when missing.
inline int FileMode(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return -1;
  return static_cast<int>(st.st_mode & 0777);
}

}  // namespace testing
}  // namespace cli
}  // namespace stepca

#endif  // STEPCA_CLI_TESTING_UTIL_H
