// MakeStore and PrepareStore: choosing the backend, and the master process's
// one-time preparation of the LMDB directory.
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "authority/store/lmdb_store.h"
#include "authority/store/redis_store.h"
#include "authority/store/store.h"

namespace stepca {
namespace {

Status SysError(const std::string& what, const std::string& path, int err) {
  return Unavailable("store unavailable: " + what + " \"" + path +
                     "\": " + std::strerror(err));
}

// mkdir -p: missing parents get 0755, the last component `mode`.
Status MakeDirs(const std::string& dir, mode_t mode) {
  struct stat st;
  if (stat(dir.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) {
      return Unavailable("store unavailable: \"" + dir + "\" is not a directory");
    }
    return Status::Ok();
  }
  if (errno != ENOENT) return SysError("stat", dir, errno);
  size_t slash = dir.find_last_of('/');
  if (slash != std::string::npos && slash > 0) {
    STEPCA_RETURN_IF_ERROR(MakeDirs(dir.substr(0, slash), 0755));
  }
  if (mkdir(dir.c_str(), mode) != 0 && errno != EEXIST) {
    return SysError("mkdir", dir, errno);
  }
  // The umask may have taken bits away from `mode`, never added any; make
  // the final mode exact.
  if (chmod(dir.c_str(), mode) != 0) return SysError("chmod", dir, errno);
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<Store>> MakeStore(const StoreConfig& config) {
  switch (config.kind) {
    case StoreConfig::Kind::kLmdb:
      if (config.lmdb_dir.empty()) {
        return InvalidArgument("lmdb store: no directory configured");
      }
      if (config.lmdb_map_size < (size_t{1} << 20)) {
        return InvalidArgument("lmdb store: map_size below 1 MiB");
      }
      return std::unique_ptr<Store>(new LmdbStore(config));
    case StoreConfig::Kind::kRedis: {
      STEPCA_ASSIGN_OR_RETURN(std::unique_ptr<RedisStore> s,
                              RedisStore::Create(config));
      return std::unique_ptr<Store>(std::move(s));
    }
  }
  return InvalidArgument("unknown store kind");
}

Status PrepareStore(const StoreConfig& config, long uid, long gid) {
  if (config.kind != StoreConfig::Kind::kLmdb) return Status::Ok();
  if (config.lmdb_dir.empty() || config.lmdb_dir[0] != '/') {
    return InvalidArgument("lmdb store: directory must be an absolute path");
  }
  STEPCA_RETURN_IF_ERROR(MakeDirs(config.lmdb_dir, 0700));
  if (uid == -1 && gid == -1) return Status::Ok();
  // chown's -1 means "unchanged" for either id.
  const uid_t u = static_cast<uid_t>(uid);
  const gid_t g = static_cast<gid_t>(gid);
  for (const char* name : {"", "/data.mdb", "/lock.mdb"}) {
    std::string path = config.lmdb_dir + name;
    if (chown(path.c_str(), u, g) != 0) {
      if (errno == ENOENT && name[0] != '\0') continue;
      return SysError("chown", path, errno);
    }
  }
  return Status::Ok();
}

}  // namespace stepca
