// The C ABI over Authority. No exception crosses it: every entry point
// catches everything and turns it into an error value or a 500.
#include "shared/stepca_abi.h"

#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <new>

#include "authority/abi_handle.h"
#include "authority/abi_response.h"
#include "authority/api/router.h"
#include "authority/authority.h"
#include "authority/metrics.h"

namespace {

void CopyError(const std::string& msg, char* err, size_t errlen) {
  if (err == nullptr || errlen == 0) return;
  std::strncpy(err, msg.c_str(), errlen - 1);
  err[errlen - 1] = '\0';
}

std::string_view View(const stepca_str_t& s) {
  return s.data == nullptr ? std::string_view() : std::string_view(s.data, s.len);
}

void Fill(const stepca::HttpResponse& r, stepca_response_t* out) {
  stepca::FillAbiResponse(r, out, std::malloc);
}

void FillInternalError(const char* why, stepca_response_t* out) {
  try {
    stepca::HttpResponse r = stepca::ErrorResponse(stepca::Internal(why));
    r.log_message = why;  // the module adds the "stepca: " prefix
    Fill(r, out);
  } catch (...) {
    // The ABI's "no memory" response: the module answers its own 500.
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
    if (opts->issuer_password_file) o.issuer_password_file = opts->issuer_password_file;
    if (opts->store_uri) o.store_uri = opts->store_uri;
    if (opts->version) o.version = opts->version;
    // 0 / NULL keep AcmeOptions' defaults; anything else is checked by Load.
    if (opts->acme_base_url) o.acme.base_url = opts->acme_base_url;
    if (opts->acme_http01_port != 0) o.acme.http01_port = opts->acme_http01_port;
    if (opts->acme_tls_alpn01_port != 0) o.acme.tls_alpn01_port = opts->acme_tls_alpn01_port;
    if (opts->acme_dns_resolver) o.acme.dns_resolver = opts->acme_dns_resolver;
    if (opts->acme_validation_threads != 0)
      o.acme.validation_threads = opts->acme_validation_threads;
    if (opts->acme_validation_queue != 0) o.acme.validation_queue = opts->acme_validation_queue;
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

STEPCA_EXPORT size_t stepca_metrics_size(void) { return stepca::Metrics::SharedSize(); }

STEPCA_EXPORT int stepca_authority_use_metrics_memory(stepca_authority_t* a, void* mem,
                                                      size_t size, char* err, size_t errlen) {
  try {
    stepca::Status st = a->authority->metrics().UseSharedMemory(mem, size);
    if (st.ok()) return 0;
    CopyError(st.LogText(), err, errlen);
  } catch (const std::exception& e) {
    CopyError(e.what(), err, errlen);
  } catch (...) {
    CopyError("internal error while placing the counters", err, errlen);
  }
  return -1;
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
  stepca::FreeAbiResponse(resp);
}
