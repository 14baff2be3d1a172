
/*
 * nginx-stepca: the CA's own TLS certificate, as step-ca keeps one.
 *
 * nginx needs a certificate when it merges a server's ssl configuration,
 * before the authority is loaded: "stepca_tls_certificate on" puts a
 * self-signed placeholder in ssl_certificate's place (a "data:" value, so
 * no file), then, once the authority is loaded (the master, also under
 * "nginx -t"), the first issued certificate replaces it in the server's
 * SSL_CTX.  Workers inherit that SSL_CTX.  Each worker then renews from a
 * timer at two thirds of the certificate's life: the signature runs in the
 * thread pool, and the new certificate and key are swapped into the SSL_CTX
 * on the event loop.  A connection copies the SSL_CTX's certificate when it
 * is accepted, so the swap changes only later handshakes, and a handshake
 * costs what it costs with a plain ssl_certificate (bench/README.md).
 *
 * Each worker keeps its own key: no private key is ever written to a file
 * or to the store, at the price of one signature per worker per renewal.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include "ngx_http_stepca_tls.h"

#if (NGX_HTTP_SSL)
#include <openssl/pem.h>
#endif


#define NGX_HTTP_STEPCA_TLS_RETRY_MAX  60       /* seconds */
#define NGX_HTTP_STEPCA_TLS_WAIT_MAX   86400    /* seconds */


/* per renewal: what the pool thread reads and writes */

typedef struct {
    stepca_authority_t         *authority;
    time_t                      lifetime;
    stepca_tls_cert_t           cert;
    int                         rc;
    char                        err[STEPCA_ERRLEN];
} ngx_http_stepca_tls_task_ctx_t;


#if (NGX_HTTP_SSL)

static ngx_int_t ngx_http_stepca_tls_install(ngx_http_stepca_tls_t *t,
    stepca_tls_cert_t *c, ngx_log_t *log);
static void ngx_http_stepca_tls_schedule(ngx_http_stepca_tls_t *t,
    time_t at);
static void ngx_http_stepca_tls_timer_handler(ngx_event_t *ev);
static void ngx_http_stepca_tls_thread_handler(void *data, ngx_log_t *log);
static void ngx_http_stepca_tls_done_handler(ngx_event_t *ev);
static ngx_int_t ngx_http_stepca_tls_push(ngx_conf_t *cf, ngx_array_t **a,
    const char *pem);

char *
ngx_http_stepca_tls_placeholder(ngx_conf_t *cf)
{
    ngx_int_t                 rc;
    stepca_tls_cert_t         c;
    ngx_http_ssl_srv_conf_t  *sslcf;
    char                      err[STEPCA_ERRLEN];

    sslcf = ngx_http_conf_get_module_srv_conf(cf, ngx_http_ssl_module);

    if (sslcf->certificates != NGX_CONF_UNSET_PTR
        || sslcf->certificate_keys != NGX_CONF_UNSET_PTR)
    {
        return "cannot be used with \"ssl_certificate\" in the same server: "
               "the CA issues this server's certificate itself";
    }

    err[0] = '\0';

    if (stepca_tls_placeholder(&c, err, sizeof(err)) != 0) {
        err[sizeof(err) - 1] = '\0';
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "stepca: %s", err);
        return NGX_CONF_ERROR;
    }

    rc = ngx_http_stepca_tls_push(cf, &sslcf->certificates, c.chain_pem);

    if (rc == NGX_OK) {
        rc = ngx_http_stepca_tls_push(cf, &sslcf->certificate_keys,
                                      c.key_pem);
    }

    stepca_tls_cert_free(&c);

    return rc == NGX_OK ? NGX_CONF_OK : NGX_CONF_ERROR;
}


ngx_http_stepca_tls_t *
ngx_http_stepca_tls_create(ngx_conf_t *cf, ngx_http_core_srv_conf_t *cscf,
    stepca_authority_t *authority, ngx_thread_pool_t *thread_pool,
    time_t lifetime, ngx_uint_t slot, u_char *file, ngx_uint_t line)
{
    ngx_int_t                 rc;
    stepca_tls_cert_t         c;
    ngx_http_stepca_tls_t    *t;
    ngx_http_ssl_srv_conf_t  *sslcf;
    char                      err[STEPCA_ERRLEN];

    sslcf = cscf->ctx->srv_conf[ngx_http_ssl_module.ctx_index];

    if (sslcf->certificates == NULL || sslcf->certificates->nelts != 1
        || sslcf->ssl.ctx == NULL)
    {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "stepca: \"stepca_tls_certificate\" is on in the "
                      "server in %s:%ui, which also has \"ssl_certificate\": "
                      "remove one of them", file, line);
        return NULL;
    }

    err[0] = '\0';

    if (stepca_tls_check(authority, err, sizeof(err)) != 0) {
        err[sizeof(err) - 1] = '\0';
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "stepca: \"stepca_tls_certificate\" in the server in "
                      "%s:%ui: %s", file, line, err);
        return NULL;
    }

    t = ngx_pcalloc(cf->pool, sizeof(ngx_http_stepca_tls_t));
    if (t == NULL) {
        return NULL;
    }

    t->authority = authority;
    t->ssl_ctx = sslcf->ssl.ctx;
    t->thread_pool = thread_pool;
    t->lifetime = lifetime;
    t->slot = slot;
    t->file = file;
    t->line = line;

    if (stepca_tls_issue(authority, (long long) lifetime, &c, err,
                         sizeof(err))
        != 0)
    {
        err[sizeof(err) - 1] = '\0';
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "stepca: cannot issue the TLS certificate of the "
                      "server in %s:%ui: %s", file, line, err);
        return NULL;
    }

    rc = ngx_http_stepca_tls_install(t, &c, cf->log);

    stepca_tls_cert_free(&c);

    return rc == NGX_OK ? t : NULL;
}



ngx_int_t
ngx_http_stepca_tls_init_process(ngx_cycle_t *cycle, ngx_http_stepca_tls_t *t)
{
    ngx_http_stepca_tls_task_ctx_t  *tctx;

    t->task = ngx_thread_task_alloc(cycle->pool,
                                    sizeof(ngx_http_stepca_tls_task_ctx_t));
    if (t->task == NULL) {
        return NGX_ERROR;
    }

    tctx = t->task->ctx;
    tctx->authority = t->authority;
    tctx->lifetime = t->lifetime;

    t->task->handler = ngx_http_stepca_tls_thread_handler;
    t->task->event.handler = ngx_http_stepca_tls_done_handler;
    t->task->event.data = t;
    t->task->event.log = cycle->log;

    t->timer.handler = ngx_http_stepca_tls_timer_handler;
    t->timer.data = t;
    t->timer.log = cycle->log;
    /* a worker that is shutting down does not wait for the next renewal */
    t->timer.cancelable = 1;

    ngx_http_stepca_tls_schedule(t, t->renew_at);

    return NGX_OK;
}


/* The leaf, its chain and key in one call, replacing the certificate of
 * the same key type (the placeholder and every issued one are P-256). */

static ngx_int_t
ngx_http_stepca_tls_install(ngx_http_stepca_tls_t *t, stepca_tls_cert_t *c,
    ngx_log_t *log)
{
    int              ok;
    BIO             *bio;
    X509            *leaf, *x;
    EVP_PKEY        *pkey;
    STACK_OF(X509)  *chain;
    u_char           until[sizeof("Mon, 28 Sep 1970 06:00:00 GMT")];
    u_char           renew[sizeof("Mon, 28 Sep 1970 06:00:00 GMT")];

    leaf = NULL;
    pkey = NULL;
    ok = 0;

    chain = sk_X509_new_null();
    if (chain == NULL) {
        goto failed;
    }

    bio = BIO_new_mem_buf(c->chain_pem, -1);
    if (bio == NULL) {
        goto failed;
    }

    leaf = PEM_read_bio_X509(bio, NULL, NULL, NULL);

    while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
        if (!sk_X509_push(chain, x)) {
            X509_free(x);
            BIO_free(bio);
            goto failed;
        }
    }

    BIO_free(bio);

    /* the loop above ends on "no start line" */
    ERR_clear_error();

    bio = BIO_new_mem_buf(c->key_pem, -1);
    if (bio == NULL) {
        goto failed;
    }

    pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    BIO_free(bio);

    if (leaf == NULL || pkey == NULL) {
        goto failed;
    }

    ok = SSL_CTX_use_cert_and_key(t->ssl_ctx, leaf, pkey, chain, 1);

failed:

    X509_free(leaf);
    EVP_PKEY_free(pkey);
    sk_X509_pop_free(chain, X509_free);

    if (!ok) {
        ngx_ssl_error(NGX_LOG_ALERT, log, 0,
                      "stepca: cannot install the TLS certificate of the "
                      "server in %s:%ui", t->file, t->line);
        return NGX_ERROR;
    }

    t->renew_at = (time_t) c->renew_at;
    t->not_after = (time_t) c->not_after;

    stepca_tls_installed(t->authority, (unsigned) t->slot, c->not_after);

    ngx_http_time(until, t->not_after);
    ngx_http_time(renew, t->renew_at);

    ngx_log_error(NGX_LOG_INFO, log, 0,
                  "stepca: TLS certificate of the server in %s:%ui: "
                  "serial %s, valid until %*s, renewed from %*s",
                  t->file, t->line, c->serial,
                  sizeof(until) - 1, until, sizeof(renew) - 1, renew);

    return NGX_OK;
}


static void
ngx_http_stepca_tls_schedule(ngx_http_stepca_tls_t *t, time_t at)
{
    time_t  now;

    now = ngx_time();

    /* a long lifetime is waited for a day at a time (the handler checks) */
    at = ngx_min(at, now + NGX_HTTP_STEPCA_TLS_WAIT_MAX);

    ngx_add_timer(&t->timer, at > now ? (ngx_msec_t) (at - now) * 1000 : 1);
}


static void
ngx_http_stepca_tls_timer_handler(ngx_event_t *ev)
{
    ngx_http_stepca_tls_t *t = ev->data;

    time_t  retry;

    if (ngx_exiting || ngx_quit || ngx_terminate) {
        return;
    }

    if (t->task->event.active) {
        return;     /* the renewal in flight re-arms the timer */
    }

    /* a failed renewal retries after renew_at, so this is only the wait */
    if (ngx_time() < t->renew_at) {
        ngx_http_stepca_tls_schedule(t, t->renew_at);
        return;
    }

    if (ngx_thread_task_post(t->thread_pool, t->task) == NGX_OK) {
        return;
    }

    retry = (t->not_after - ngx_time()) / 10;
    retry = ngx_max(1, ngx_min(retry, NGX_HTTP_STEPCA_TLS_RETRY_MAX));

    ngx_log_error(NGX_LOG_ERR, ev->log, 0,
                  "stepca: cannot post the TLS certificate renewal of the "
                  "server in %s:%ui to the thread pool, retrying in %T s",
                  t->file, t->line, retry);

    ngx_http_stepca_tls_schedule(t, ngx_time() + retry);
}


/* pool thread: the key and the signature */

static void
ngx_http_stepca_tls_thread_handler(void *data, ngx_log_t *log)
{
    ngx_http_stepca_tls_task_ctx_t *tctx = data;

    tctx->err[0] = '\0';
    tctx->rc = stepca_tls_issue(tctx->authority, (long long) tctx->lifetime,
                                &tctx->cert, tctx->err, sizeof(tctx->err));
}


/* event loop: the swap */

static void
ngx_http_stepca_tls_done_handler(ngx_event_t *ev)
{
    ngx_http_stepca_tls_t *t = ev->data;

    time_t                           retry;
    ngx_http_stepca_tls_task_ctx_t  *tctx;

    tctx = t->task->ctx;

    if (tctx->rc == 0) {
        if (!ngx_exiting
            && ngx_http_stepca_tls_install(t, &tctx->cert, ev->log) == NGX_OK)
        {
            stepca_tls_cert_free(&tctx->cert);
            ngx_http_stepca_tls_schedule(t, t->renew_at);
            return;
        }

        stepca_tls_cert_free(&tctx->cert);

    } else {
        tctx->err[sizeof(tctx->err) - 1] = '\0';
        ngx_log_error(NGX_LOG_ERR, ev->log, 0,
                      "stepca: cannot renew the TLS certificate of the "
                      "server in %s:%ui: %s", t->file, t->line, tctx->err);
    }

    if (ngx_exiting) {
        return;
    }

    /* the served certificate is still valid: try again well before it ends */

    retry = (t->not_after - ngx_time()) / 10;
    retry = ngx_max(1, ngx_min(retry, NGX_HTTP_STEPCA_TLS_RETRY_MAX));

    ngx_http_stepca_tls_schedule(t, ngx_time() + retry);
}


/* A "data:" value for ssl_certificate or ssl_certificate_key, in cf->pool. */

static ngx_int_t
ngx_http_stepca_tls_push(ngx_conf_t *cf, ngx_array_t **a, const char *pem)
{
    size_t      len;
    ngx_str_t  *s;

    *a = ngx_array_create(cf->pool, 1, sizeof(ngx_str_t));
    if (*a == NULL) {
        return NGX_ERROR;
    }

    s = ngx_array_push(*a);
    if (s == NULL) {
        return NGX_ERROR;
    }

    len = ngx_strlen(pem);

    s->len = sizeof("data:") - 1 + len;
    s->data = ngx_pnalloc(cf->pool, s->len + 1);
    if (s->data == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(ngx_cpymem(s->data, "data:", sizeof("data:") - 1), pem, len);
    s->data[s->len] = '\0';

    return NGX_OK;
}

#else

char *
ngx_http_stepca_tls_placeholder(ngx_conf_t *cf)
{
    return "needs nginx built with ngx_http_ssl_module";
}


ngx_http_stepca_tls_t *
ngx_http_stepca_tls_create(ngx_conf_t *cf, ngx_http_core_srv_conf_t *cscf,
    stepca_authority_t *authority, ngx_thread_pool_t *thread_pool,
    time_t lifetime, ngx_uint_t slot, u_char *file, ngx_uint_t line)
{
    return NULL;
}



ngx_int_t
ngx_http_stepca_tls_init_process(ngx_cycle_t *cycle, ngx_http_stepca_tls_t *t)
{
    return NGX_OK;
}

#endif
