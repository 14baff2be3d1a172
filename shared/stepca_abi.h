/*
 * The one C ABI between the nginx module (C) and the authority library (C++).
 * Opaque handles, plain structs; no C++ exception ever crosses it.
 * Every function is safe to call from an nginx thread-pool thread except
 * where noted.
 */
#ifndef STEPCA_ABI_H
#define STEPCA_ABI_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define STEPCA_ERRLEN 512

typedef struct stepca_authority_s stepca_authority_t;

typedef struct {
    const char *ca_json_path;       /* required */
    const char *password_file;      /* NULL: use ca.json "password" */
    const char *store_uri;          /* "lmdb:/dir" or "redis://..." ; NULL: lmdb default */
    const char *version;            /* reported by /version; NULL: built-in */

    /* ACME (authority/acme/options.h); 0 / NULL: the default.  A value out
     * of range makes stepca_authority_load fail, naming the directive. */
    const char *acme_base_url;      /* "https://host[:port]"; NULL: from Host */
    int         acme_http01_port;   /* 0: 80 */
    int         acme_tls_alpn01_port; /* 0: 443 */
    const char *acme_dns_resolver;  /* "ip[:port]"; NULL: /etc/resolv.conf */
    size_t      acme_validation_threads; /* 0: 4 */
    size_t      acme_validation_queue;   /* 0: 1024 */

    /* Registration authority: the upstream provisioner's password (step-ca's
     * --issuer-password-file); NULL: authority.certificateIssuer.password. */
    const char *issuer_password_file;
} stepca_options_t;

typedef struct {
    const char *data;
    size_t      len;
} stepca_str_t;

/* Facts about one HTTP request, gathered on the event loop. */
typedef struct {
    stepca_str_t method;
    stepca_str_t path;              /* decoded URI path, no query */
    stepca_str_t query;             /* raw query string, without '?' */
    stepca_str_t scheme;            /* "http" or "https" */
    stepca_str_t host;              /* Host header (or server name) */
    stepca_str_t authorization;     /* Authorization header, may be empty */
    stepca_str_t content_type;
    stepca_str_t request_id;        /* X-Request-Id, or empty */
    stepca_str_t legacy_request_id; /* X-Smallstep-Id, or empty */
    stepca_str_t client_addr;       /* address text after realip, no port */
    stepca_str_t peer_cert_der;     /* the TLS client certificate, may be empty;
                                     * NOT verified by nginx (optional_no_ca):
                                     * the library checks it against its roots */
    stepca_str_t body;
} stepca_request_t;

typedef struct {
    char *name;
    char *value;
} stepca_header_t;

/* Log levels match nginx's NGX_LOG_* numbers. */
#define STEPCA_LOG_NONE  0
#define STEPCA_LOG_ERR   4
#define STEPCA_LOG_WARN  5
#define STEPCA_LOG_INFO  7

/*
 * A response.  Every header the library answered is here (the array is
 * sized for them).  If the library cannot allocate the response it fills
 * none of it: status 500, body NULL, no headers, no log message; the module
 * then answers its own 500 and logs an alert.
 */
typedef struct {
    int              status;
    char            *content_type;  /* NULL: no Content-Type header */
    char            *body;
    size_t           body_len;
    stepca_header_t *headers;       /* nheaders of them; NULL when none */
    size_t           nheaders;
    int              log_level;     /* STEPCA_LOG_*; what the module should log */
    char            *log_message;   /* never contains a token, key or password */
} stepca_response_t;

/*
 * Configuration time (master process, also under "nginx -t"): parse ca.json,
 * unlock the intermediate key, check everything. On failure returns NULL and
 * writes one line naming the file and the field into err.
 */
stepca_authority_t *stepca_authority_load(const stepca_options_t *opts,
    char *err, size_t errlen);

/* Warnings found while loading (unsupported ca.json fields...), one per
 * call; returns NULL when there are no more. */
const char *stepca_authority_warning(stepca_authority_t *a, size_t i);

/* Bytes of shared memory the counters need (stepca_authority_use_metrics_memory). */
size_t stepca_metrics_size(void);

/*
 * Configuration time, master process, before the workers fork: keep the
 * counters in mem (stepca_metrics_size() bytes, 8-byte aligned, shared by
 * every worker; an nginx shared memory zone).  Zeroed memory starts from
 * zero; memory an authority of an earlier configuration used keeps its
 * counts, so a reload does not reset them.
 */
int stepca_authority_use_metrics_memory(stepca_authority_t *a, void *mem,
    size_t size, char *err, size_t errlen);

/* Master process, after configuration: prepare the store (create the LMDB
 * directory and hand it to the worker user). uid/gid -1: leave owner. */
int stepca_authority_prepare_store(stepca_authority_t *a, long uid, long gid,
    char *err, size_t errlen);

/* Worker process, after fork: open per-process resources (store). */
int stepca_authority_init_process(stepca_authority_t *a, char *err,
    size_t errlen);

/* Worker process exit. */
void stepca_authority_exit_process(stepca_authority_t *a);

void stepca_authority_free(stepca_authority_t *a);

/* Handle one request. Thread-safe; blocking (store, crypto): call it from a
 * thread-pool thread. Always fills resp, never fails. */
void stepca_handle(stepca_authority_t *a, const stepca_request_t *req,
    stepca_response_t *resp);

void stepca_response_free(stepca_response_t *resp);

/* The node's counters and gauges as Prometheus text (format 0.0.4), summed
 * over every worker (the counters live in the shared memory given to
 * stepca_authority_use_metrics_memory). Only reads memory: safe on the event loop. Always
 * fills resp (200, or a 500 body); free it with stepca_response_free. */
void stepca_metrics(stepca_authority_t *a, stepca_response_t *resp);

#ifdef __cplusplus
}
#endif

#endif /* STEPCA_ABI_H */
