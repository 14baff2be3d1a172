// The C ABI over Authority. No exception crosses it: every entry point
// catches everything and turns it into an error value or a 500.
#include "shared/stepca_abi.h"

#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <new>

#include "authority/api/router.h"
#include "authority/authority.h"
#include "authority/metrics.h"

#define STEPCA_EXPORT extern "C" __attribute__((visibility("default")))

struct stepca_authority_s {
  std::unique_ptr<stepca::Authority> authority;
};

namespace {

void CopyError(const std::string& msg, char* err, size_t errlen) {
  if (err == nullptr || errlen == 0) return;
  std::strncpy(err, msg.c_str(), errlen - 1);
  err[errlen - 1] = '\0';
}

char* Dup(const std::string& s) {
  char* p = static_cast<char*>(std::malloc(s.size() + 1));
  if (p == nullptr) return nullptr;
  std::memcpy(p, s.data(), s.size());
  p[s.size()] = '\0';
  return p;
}

std::string_view View(const stepca_str_t& s) {
  return s.data == nullptr ? std::string_view() : std::string_view(s.data, s.len);
}

int LogLevel(stepca::LogLevel l) {
  switch (l) {
    case stepca::LogLevel::kError: return STEPCA_LOG_ERR;
    case stepca::LogLevel::kWarn: return STEPCA_LOG_WARN;
    case stepca::LogLevel::kInfo: return STEPCA_LOG_INFO;
    default: return STEPCA_LOG_NONE;
  }
}

void Fill(const stepca::HttpResponse& r, stepca_response_t* out) {
  std::memset(out, 0, sizeof *out);
  out->status = r.status;
  out->content_type = r.content_type.empty() ? nullptr : Dup(r.content_type);
  out->body = Dup(r.body);
  out->body_len = out->body != nullptr ? r.body.size() : 0;
  for (const auto& h : r.headers) {
    if (out->nheaders == STEPCA_MAX_HEADERS) break;
    out->headers[out->nheaders].name = Dup(h.first);
    out->headers[out->nheaders].value = Dup(h.second);
    out->nheaders++;
  }
  out->log_level = LogLevel(r.log_level);
  out->log_message = r.log_message.empty() ? nullptr : Dup(r.log_message);
}

void FillInternalError(const char* why, stepca_response_t* out) {
  stepca::HttpResponse r = stepca::ErrorResponse(stepca::Internal(why));
  r.log_message = std::string("stepca: ") + why;
  try {
    Fill(r, out);
  } catch (...) {
    std::memset(out, 0, sizeof *out);
    out->status = 500;
  }
}

}  // namespace

STEPCA_EXPORT stepca_authority_t* stepca_authority_load(const stepca_options_t* opts, char* err,
                                                         size_t errlen) {
  try {
    if (opts == nullptr || opts->ca_json_path == nullptr) {
      CopyError("the ca.json path is not set", err, errlen);
      return nullptr;
    }
    stepca::AuthorityOptions o;
    o.ca_json = opts->ca_json_path;
    if (opts->password_file) o.password_file = opts->password_file;
    if (opts->store_uri) o.store_uri = opts->store_uri;
    if (opts->version) o.version = opts->version;
    auto a = stepca::Authority::Load(o);
    if (!a.ok()) {
      CopyError(a.status().LogText(), err, errlen);
      return nullptr;
    }
    auto* h = new stepca_authority_s;
    h->authority = std::move(a).value();
    return h;
  } catch (const std::exception& e) {
    CopyError(std::string("internal error while loading: ") + e.what(), err, errlen);
  } catch (...) {
    CopyError("internal error while loading", err, errlen);
  }
  return nullptr;
}

STEPCA_EXPORT const char* stepca_authority_warning(stepca_authority_t* a, size_t i) {
  if (a == nullptr || i >= a->authority->warnings().size()) return nullptr;
  return a->authority->warnings()[i].c_str();
}

STEPCA_EXPORT int stepca_authority_prepare_store(stepca_authority_t* a, long uid, long gid,
                                                 char* err, size_t errlen) {
  try {
    stepca::Status st = a->authority->PrepareStore(uid, gid);
    if (st.ok()) return 0;
    CopyError(st.LogText(), err, errlen);
  } catch (const std::exception& e) {
    CopyError(e.what(), err, errlen);
  } catch (...) {
    CopyError("internal error while preparing the store", err, errlen);
  }
  return -1;
}

STEPCA_EXPORT int stepca_authority_init_process(stepca_authority_t* a, char* err, size_t errlen) {
  try {
    stepca::Status st = a->authority->InitProcess();
    if (st.ok()) return 0;
    CopyError(st.LogText(), err, errlen);
  } catch (const std::exception& e) {
    CopyError(e.what(), err, errlen);
  } catch (...) {
    CopyError("internal error while opening the store", err, errlen);
  }
  return -1;
}

STEPCA_EXPORT void stepca_authority_exit_process(stepca_authority_t* a) {
  try {
    if (a != nullptr) a->authority->ExitProcess();
  } catch (...) {
  }
}

STEPCA_EXPORT void stepca_authority_free(stepca_authority_t* a) {
  try {
    delete a;
  } catch (...) {
  }
}

STEPCA_EXPORT void stepca_handle(stepca_authority_t* a, const stepca_request_t* req,
                                 stepca_response_t* resp) {
  try {
    stepca::HttpRequest r;
    r.method = View(req->method);
    r.path = View(req->path);
    r.query = View(req->query);
    r.scheme = View(req->scheme);
    r.host = View(req->host);
    r.authorization = View(req->authorization);
    r.content_type = View(req->content_type);
    r.request_id = View(req->request_id);
    r.legacy_request_id = View(req->legacy_request_id);
    r.client_addr = View(req->client_addr);
    r.peer_cert_der = View(req->peer_cert_der);
    r.body = View(req->body);
    Fill(HandleHttp(*a->authority, r), resp);
  } catch (const std::bad_alloc&) {
    FillInternalError("out of memory", resp);
  } catch (const std::exception& e) {
    FillInternalError(e.what(), resp);
  } catch (...) {
    FillInternalError("unknown exception", resp);
  }
}

STEPCA_EXPORT void stepca_metrics(stepca_authority_t* a, stepca_response_t* resp) {
  try {
    stepca::HttpResponse r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = a->authority->metrics().Render(*a->authority);
    Fill(r, resp);
  } catch (const std::bad_alloc&) {
    FillInternalError("out of memory", resp);
  } catch (const std::exception& e) {
    FillInternalError(e.what(), resp);
  } catch (...) {
    FillInternalError("unknown exception", resp);
  }
}

STEPCA_EXPORT void stepca_response_free(stepca_response_t* resp) {
  if (resp == nullptr) return;
  std::free(resp->content_type);
  std::free(resp->body);
  for (size_t i = 0; i < resp->nheaders; ++i) {
    std::free(resp->headers[i].name);
    std::free(resp->headers[i].value);
  }
  std::free(resp->log_message);
  std::memset(resp, 0, sizeof *resp);
}
