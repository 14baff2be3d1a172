
/*
 * nginx-stepca: the CA's own TLS certificate ("stepca_tls_certificate on"),
 * kept fresh in the SSL_CTX of each server block that opts in.  Called by
 * ngx_http_stepca_module.c at parse time, after the authority is loaded,
 * and in each worker.
 */


#ifndef _NGX_HTTP_STEPCA_TLS_H_INCLUDED_
#define _NGX_HTTP_STEPCA_TLS_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <stepca_tls_abi.h>


#define NGX_HTTP_STEPCA_TLS_LIFETIME  86400     /* step-ca's own: 24h */


/* per server block that opts in; lives in the cycle's pool */

typedef struct {
    stepca_authority_t         *authority;
#if (NGX_HTTP_SSL)
    SSL_CTX                    *ssl_ctx;
#else
    void                       *ssl_ctx;
#endif
    ngx_thread_pool_t          *thread_pool;
    time_t                      lifetime;
    ngx_uint_t                  slot;           /* for the metric */
    time_t                      renew_at;       /* of the certificate served */
    time_t                      not_after;
    u_char                     *file;           /* the server block */
    ngx_uint_t                  line;

    ngx_event_t                 timer;
    ngx_thread_task_t          *task;           /* worker: one renewal at a time */
} ngx_http_stepca_tls_t;


/* "stepca_tls_certificate on" in a server{}: the placeholder that stands for
 * ssl_certificate until ngx_http_stepca_tls_create replaces it. */
char *ngx_http_stepca_tls_placeholder(ngx_conf_t *cf);

/* After the authority is loaded (master, also "nginx -t"): checks, issues
 * the first certificate and installs it into the server's SSL_CTX. */
ngx_http_stepca_tls_t *ngx_http_stepca_tls_create(ngx_conf_t *cf,
    ngx_http_core_srv_conf_t *cscf, stepca_authority_t *authority,
    ngx_thread_pool_t *thread_pool, time_t lifetime, ngx_uint_t slot,
    u_char *file, ngx_uint_t line);

/* Worker start: the renewal timer. */
ngx_int_t ngx_http_stepca_tls_init_process(ngx_cycle_t *cycle,
    ngx_http_stepca_tls_t *t);


#endif /* _NGX_HTTP_STEPCA_TLS_H_INCLUDED_ */
