// Encoding helpers shared by the state layer's record files (internal to
// authority/state): compact JSON in member order, and tolerant readers.
#ifndef STEPCA_AUTHORITY_STATE_RECORD_JSON_H
#define STEPCA_AUTHORITY_STATE_RECORD_JSON_H

#include <jansson.h>

#include <optional>
#include <string>
#include <string_view>

#include "authority/ossl.h"
#include "shared/duration.h"

namespace stepca {
namespace state_json {

// Compact, in insertion order: the bytes a compare-and-set compares.
std::string Dump(const json_t* value);
// nullptr when the bytes are not a JSON object.
JsonPtr LoadObject(std::string_view bytes);
// "" / nullopt when the member is missing or of another type.
std::string String(const json_t* object, const char* name);
std::optional<TimePoint> Time(const json_t* object, const char* name);

}  // namespace state_json
}  // namespace stepca

#endif  // STEPCA_AUTHORITY_STATE_RECORD_JSON_H
