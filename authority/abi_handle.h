// What a stepca_authority_t handle holds, for the files that implement the
// C ABI (abi.cc, tls/tls_abi.cc).
#ifndef STEPCA_AUTHORITY_ABI_HANDLE_H
#define STEPCA_AUTHORITY_ABI_HANDLE_H

#include <memory>

#include "authority/authority.h"

struct stepca_authority_s {
  std::unique_ptr<stepca::Authority> authority;
};

#define STEPCA_EXPORT extern "C" __attribute__((visibility("default")))

#endif  // STEPCA_AUTHORITY_ABI_HANDLE_H
