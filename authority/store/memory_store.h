// An in-memory Store for unit tests: one process, no files, no server.
//
// Thread-safe (one mutex). Time comes from the function given at creation,
// so a test moves a fake clock forward instead of sleeping; an entry with
// ttl t written at time w is live while now < w + t. OpenInProcess and
// CloseInProcess do nothing, and the entries do not survive the object.
#ifndef STEPCA_AUTHORITY_STORE_MEMORY_STORE_H
#define STEPCA_AUTHORITY_STORE_MEMORY_STORE_H

#include <chrono>
#include <functional>
#include <memory>

#include "authority/store/store.h"

namespace stepca {

using StoreClock = std::function<std::chrono::system_clock::time_point()>;

// now: the time source; empty means the system clock.
std::unique_ptr<Store> MakeMemoryStore(StoreClock now = {});

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_STORE_MEMORY_STORE_H
