#include "authority/abi_response.h"

#include <cstdlib>
#include <cstring>
#include <string>

namespace stepca {
namespace {

int LogLevel(stepca::LogLevel l) {
  switch (l) {
    case stepca::LogLevel::kError: return STEPCA_LOG_ERR;
    case stepca::LogLevel::kWarn: return STEPCA_LOG_WARN;
    case stepca::LogLevel::kInfo: return STEPCA_LOG_INFO;
    default: return STEPCA_LOG_NONE;
  }
}

// NUL-terminated copy; false when alloc fails.
bool Dup(const std::string& s, char** dst, AbiAlloc alloc) {
  char* p = static_cast<char*>(alloc(s.size() + 1));
  if (p == nullptr) return false;
  std::memcpy(p, s.data(), s.size());
  p[s.size()] = '\0';
  *dst = p;
  return true;
}

bool Copy(const HttpResponse& r, stepca_response_t* out, AbiAlloc alloc) {
  out->status = r.status;
  if (!r.content_type.empty() && !Dup(r.content_type, &out->content_type, alloc)) return false;
  if (!Dup(r.body, &out->body, alloc)) return false;
  out->body_len = r.body.size();
  if (!r.headers.empty()) {
    const size_t bytes = r.headers.size() * sizeof(stepca_header_t);
    out->headers = static_cast<stepca_header_t*>(alloc(bytes));
    if (out->headers == nullptr) return false;
    std::memset(out->headers, 0, bytes);
    // nheaders counts the entries made so far, so a failure frees them all.
    for (const auto& h : r.headers) {
      stepca_header_t* e = &out->headers[out->nheaders++];
      if (!Dup(h.first, &e->name, alloc) || !Dup(h.second, &e->value, alloc)) return false;
    }
  }
  out->log_level = LogLevel(r.log_level);
  if (!r.log_message.empty() && !Dup(r.log_message, &out->log_message, alloc)) return false;
  return true;
}

}  // namespace

bool FillAbiResponse(const HttpResponse& r, stepca_response_t* out, AbiAlloc alloc) {
  std::memset(out, 0, sizeof *out);
  if (Copy(r, out, alloc)) return true;
  FreeAbiResponse(out);
  out->status = 500;
  return false;
}

void FreeAbiResponse(stepca_response_t* out) {
  std::free(out->content_type);
  std::free(out->body);
  if (out->headers != nullptr) {
    for (size_t i = 0; i < out->nheaders; ++i) {
      std::free(out->headers[i].name);
      std::free(out->headers[i].value);
    }
    std::free(out->headers);
  }
  std::free(out->log_message);
  std::memset(out, 0, sizeof *out);
}

}  // namespace stepca
