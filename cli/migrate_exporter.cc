#include "cli/migrate_exporter.h"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace stepca {
namespace cli {
namespace {

std::string SelfDir() {
  char buf[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return "";
  std::string path(buf, static_cast<size_t>(n));
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? "" : path.substr(0, slash);
}

bool Executable(const std::string& path) { return access(path.c_str(), X_OK) == 0; }

// The exporter's own error lines, else its last lines (badger logs its
// progress to stderr too).
std::string Reason(const std::string& stderr_text) {
  std::string mine, all;
  size_t pos = 0;
  while (pos < stderr_text.size()) {
    size_t nl = stderr_text.find('\n', pos);
    std::string line = stderr_text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    pos = nl == std::string::npos ? stderr_text.size() : nl + 1;
    if (line.rfind("stepca-db-export: ", 0) == 0) mine += (mine.empty() ? "" : "; ") + line.substr(18);
    if (!line.empty()) all = line;
  }
  return !mine.empty() ? mine : all;
}

}  // namespace

std::string FindExporter(const std::string& explicit_path) {
  if (!explicit_path.empty()) return explicit_path;
  if (const char* env = getenv("STEPCA_DB_EXPORT"); env != nullptr && *env != '\0') return env;
  const std::string self = SelfDir();
  if (!self.empty()) {
    for (const char* rel : {"/stepca-db-export/bin/stepca-db-export", "/stepca-db-export"}) {
      if (Executable(self + rel)) return self + rel;
    }
  }
  if (Executable("/usr/lib/stepca/stepca-db-export")) return "/usr/lib/stepca/stepca-db-export";
  return "stepca-db-export";
}

Result<std::string> RunExporter(const ExportRequest& req) {
  std::vector<std::string> args = {req.exporter, "--type", req.type, "--source", req.source};
  if (!req.database.empty()) {
    args.push_back("--database");
    args.push_back(req.database);
  }
  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0) return Internal(std::string("pipe: ") + strerror(errno));
  if (pipe2(err_pipe, O_CLOEXEC) != 0) {
    close(out_pipe[0]);
    close(out_pipe[1]);
    return Internal(std::string("pipe: ") + strerror(errno));
  }
  pid_t pid = fork();
  if (pid < 0) return Internal(std::string("fork: ") + strerror(errno));
  if (pid == 0) {
    dup2(out_pipe[1], 1);
    dup2(err_pipe[1], 2);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execvp(argv[0], argv.data());
    dprintf(2, "stepca-db-export: cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
  }
  close(out_pipe[1]);
  close(err_pipe[1]);
  // Both pipes are drained together, so neither fills while the other waits.
  std::string out, errs;
  struct pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&out, &errs};
  int open_fds = 2;
  while (open_fds > 0) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      char buf[65536];
      ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        sinks[i]->append(buf, static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  for (auto& f : fds)
    if (f.fd >= 0) close(f.fd);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return out;
  const std::string why = Reason(errs);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 2)
    return InvalidArgument("not a step-ca database: " + why);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
    return Internal(why + " (build it with scripts/build-db-export.sh, or name it with --exporter)");
  return Internal("reading the step-ca database failed: " + (why.empty() ? "the exporter died" : why));
}

}  // namespace cli
}  // namespace stepca
