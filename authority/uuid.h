// Random (version 4) UUIDs in their 36-character text form: request ids,
// admin and provisioner ids, Google's request deduplication ids.
#ifndef STEPCA_AUTHORITY_UUID_H
#define STEPCA_AUTHORITY_UUID_H

#include <string>

namespace stepca {

std::string NewUuidV4();

}  // namespace stepca

#endif  // STEPCA_AUTHORITY_UUID_H
