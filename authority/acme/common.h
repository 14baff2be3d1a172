// Small text and time helpers shared by the ACME resource files.
#ifndef STEPCA_AUTHORITY_ACME_COMMON_H
#define STEPCA_AUTHORITY_ACME_COMMON_H

#include <jansson.h>

#include <string>
#include <string_view>

namespace stepca {
namespace acme {

std::string RandomId();  // 128 bits, base64url
std::string Dump(const json_t* j);
std::string PathEscape(const std::string& s);
bool StartsWith(std::string_view s, std::string_view prefix);
std::string Lower(std::string s);
// The canonical text of an IP identifier, or "" when it is not one.
std::string CanonicalIp(const std::string& s);
std::string Now3339();
// True when rfc3339 is a time in the past.
bool Expired(const std::string& rfc3339);
// True when a "processing" mark set at `since` is older than
// kProcessingTimeout (or unreadable): its worker is presumed dead.
bool ProcessingIsStale(const std::string& since);

}  // namespace acme
}  // namespace stepca

#endif  // STEPCA_AUTHORITY_ACME_COMMON_H
