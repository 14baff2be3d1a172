#include "cli/files.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <fstream>
#include <sstream>

namespace stepca {
namespace cli {

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return NotFound("open " + path + ": " + strerror(errno));
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Internal("read " + path + ": " + strerror(errno));
  return ss.str();
}

Status WriteFile(const std::string& path, const std::string& content,
                 mode_t mode) {
  std::string tmp = path + ".tmp-XXXXXX";
  int fd = mkstemp(tmp.data());
  if (fd < 0) return Internal("create " + path + ": " + strerror(errno));
  if (fchmod(fd, mode) != 0) {
    int e = errno;
    close(fd);
    unlink(tmp.c_str());
    return Internal("chmod " + path + ": " + strerror(e));
  }
  size_t off = 0;
  while (off < content.size()) {
    ssize_t n = write(fd, content.data() + off, content.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      close(fd);
      unlink(tmp.c_str());
      return Internal("write " + path + ": " + strerror(e));
    }
    off += static_cast<size_t>(n);
  }
  if (fsync(fd) != 0 || close(fd) != 0) {
    unlink(tmp.c_str());
    return Internal("write " + path + ": " + strerror(errno));
  }
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    int e = errno;
    unlink(tmp.c_str());
    return Internal("rename " + path + ": " + strerror(e));
  }
  return Status::Ok();
}

Status MakeDirs(const std::string& path, mode_t mode) {
  if (path.empty()) return InvalidArgument("empty directory name");
  for (size_t pos = 1; pos <= path.size(); ++pos) {
    if (pos != path.size() && path[pos] != '/') continue;
    std::string prefix = path.substr(0, pos);
    if (mkdir(prefix.c_str(), mode) != 0 && errno != EEXIST) {
      return Internal("mkdir " + prefix + ": " + strerror(errno));
    }
  }
  struct stat st;
  if (stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return Internal(path + " is not a directory");
  }
  if (chmod(path.c_str(), mode) != 0) {
    return Internal("chmod " + path + ": " + strerror(errno));
  }
  return Status::Ok();
}

Result<std::string> ReadPasswordFile(const std::string& path) {
  auto content = ReadFile(path);
  if (!content.ok()) {
    return InvalidArgument("error reading " + path + ": " +
                           content.status().message());
  }
  std::string pw = std::move(content).value();
  while (!pw.empty() && std::isspace(static_cast<unsigned char>(pw.back()))) {
    pw.pop_back();
  }
  return pw;
}

std::string DefaultStepPath() {
  const char* sp = getenv("STEPPATH");
  if (sp != nullptr && *sp != '\0') return sp;
  const char* home = getenv("HOME");
  return std::string(home != nullptr ? home : ".") + "/.step";
}

std::string AbsolutePath(const std::string& path) {
  if (!path.empty() && path[0] == '/') return path;
  char buf[4096];
  if (getcwd(buf, sizeof buf) == nullptr) return path;
  std::string p = path;
  while (p.rfind("./", 0) == 0) p = p.substr(2);
  if (p.empty() || p == ".") return buf;
  return JoinPath(buf, p);
}

std::string JoinPath(const std::string& dir, const std::string& name) {
  if (dir.empty()) return name;
  if (dir.back() == '/') return dir + name;
  return dir + "/" + name;
}

}  // namespace cli
}  // namespace stepca
