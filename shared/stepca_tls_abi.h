/*
 * The C ABI of the CA's own TLS certificate ("stepca_tls_certificate"),
 * beside shared/stepca_abi.h: the module asks for a certificate, installs
 * it into the SSL_CTX of the servers that opt in, and says when it did so
 * (for the metric).  No C++ exception crosses it.
 */
#ifndef STEPCA_TLS_ABI_H
#define STEPCA_TLS_ABI_H

#include <stddef.h>

#include "stepca_abi.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    char       *chain_pem;   /* NUL-terminated: the leaf, then its chain */
    char       *key_pem;     /* NUL-terminated PKCS#8; wiped by _free */
    long long   not_before;  /* unix seconds */
    long long   not_after;
    long long   renew_at;    /* two thirds of the way */
    char        serial[64];  /* decimal, for the log */
} stepca_tls_cert_t;

/* Configuration time: 0 when this CA can keep its own TLS certificate
 * (dnsNames not empty, a local key the master can sign with); else -1 and
 * one line naming ca.json and the field in err. */
int stepca_tls_check(stepca_authority_t *a, char *err, size_t errlen);

/* A fresh key and a certificate for ca.json's dnsNames valid for lifetime
 * seconds (at least 60; never past the intermediate).  Blocking (a
 * signature): call it from a thread-pool thread in a worker, or at
 * configuration time.  Thread-safe.  0, or -1 with err. */
int stepca_tls_issue(stepca_authority_t *a, long long lifetime,
    stepca_tls_cert_t *out, char *err, size_t errlen);

/* A self-signed certificate for nginx's ssl_certificate at parse time,
 * replaced by an issued one before any connection (see ngx_http_stepca_tls.c). */
int stepca_tls_placeholder(stepca_tls_cert_t *out, char *err, size_t errlen);

void stepca_tls_cert_free(stepca_tls_cert_t *c);

/* The certificate of slot (one per server block that opts in) now served
 * by this process expires at not_after: the
 * stepca_tls_certificate_expiry_days gauge.  Safe on the event loop. */
void stepca_tls_installed(stepca_authority_t *a, unsigned slot,
    long long not_after);

#ifdef __cplusplus
}
#endif

#endif /* STEPCA_TLS_ABI_H */
