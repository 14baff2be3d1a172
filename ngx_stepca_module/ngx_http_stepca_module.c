
/*
 * nginx-stepca: a step-ca compatible certificate authority as an nginx
 * module.  This file is the glue: directives, configuration, and the
 * hand-off of each request to the authority library (shared/stepca_abi.h)
 * in an nginx thread pool, so that the event loop never blocks.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <stepca_abi.h>


#if !(NGX_THREADS)
#error ngx_http_stepca_module needs nginx built --with-threads
#endif


#define NGX_HTTP_STEPCA_MAX_BODY   (1024 * 1024)
#define NGX_HTTP_STEPCA_GUARD      60000

#define NGX_HTTP_STEPCA_DEFAULT_STORE  "lmdb:/var/lib/nginx-stepca"
#define NGX_HTTP_STEPCA_DEFAULT_POOL   "default"

#define NGX_HTTP_STEPCA_ERROR_500                                             \
    "{\"status\":500,\"message\":\"The certificate authority encountered "    \
    "an Internal Server Error. Please see the certificate authority logs "   \
    "for more info.\"}\n"


/* per cycle: the http main configuration, which owns the authority */

typedef struct {
    ngx_str_t                   ca_json;
    ngx_str_t                   password_file;
    ngx_str_t                   store;
    ngx_str_t                   thread_pool_name;
    ngx_str_t                   client_cert_header;
    ngx_array_t                *trusted_proxies;    /* of ngx_cidr_t */
    ngx_int_t                   realip_index;       /* $realip_remote_addr */

    ngx_thread_pool_t          *thread_pool;    /* looked up per worker */
    stepca_authority_t         *authority;

    ngx_uint_t                  ready;          /* init_process succeeded */
    ngx_uint_t                  used;           /* a location says "stepca" */
    u_char                     *used_file;
    ngx_uint_t                  used_line;
} ngx_http_stepca_main_conf_t;


/* per request: one part of the body that nginx spooled to a temp file */

typedef struct {
    ngx_fd_t                    fd;
    off_t                       offset;
    size_t                      len;
    u_char                     *dst;
} ngx_http_stepca_file_part_t;


/*
 * per request: the task context.  It lives in the task allocated from
 * r->pool; the pool thread reads and writes only this memory.
 */

typedef struct {
    stepca_authority_t         *authority;
    stepca_request_t            req;
    stepca_response_t           resp;

    ngx_http_stepca_file_part_t *parts;
    ngx_uint_t                  nparts;

    ngx_err_t                   read_err;       /* set by the pool thread */
    unsigned                    short_read:1;   /* set by the pool thread */
    unsigned                    handled:1;      /* set by the pool thread */
} ngx_http_stepca_task_ctx_t;


/* per request: what the event loop keeps */

typedef struct {
    ngx_thread_task_t          *task;
    ngx_event_t                 guard;          /* armed while the task runs */
} ngx_http_stepca_ctx_t;


static ngx_int_t ngx_http_stepca_handler(ngx_http_request_t *r);
static void ngx_http_stepca_body_handler(ngx_http_request_t *r);
static ngx_int_t ngx_http_stepca_gather(ngx_http_request_t *r,
    ngx_http_stepca_task_ctx_t *tctx);
static ngx_int_t ngx_http_stepca_gather_body(ngx_http_request_t *r,
    ngx_http_stepca_task_ctx_t *tctx);
static ngx_int_t ngx_http_stepca_copy_str(ngx_pool_t *pool,
    stepca_str_t *dst, ngx_str_t *src);
static ngx_table_elt_t *ngx_http_stepca_find_header(ngx_http_request_t *r,
    u_char *name, size_t len);
static ngx_int_t ngx_http_stepca_peer_cert(ngx_http_request_t *r,
    stepca_str_t *dst);
#if (NGX_HTTP_SSL)
static ngx_int_t ngx_http_stepca_cert_der(ngx_http_request_t *r, X509 *cert,
    stepca_str_t *dst);
#endif
static ngx_int_t ngx_http_stepca_forwarded_cert(ngx_http_request_t *r,
    stepca_str_t *dst);
static void ngx_http_stepca_thread_handler(void *data, ngx_log_t *log);
static void ngx_http_stepca_thread_event_handler(ngx_event_t *ev);
static void ngx_http_stepca_guard_handler(ngx_event_t *ev);
static void ngx_http_stepca_respond(ngx_http_request_t *r);
static ngx_int_t ngx_http_stepca_send(ngx_http_request_t *r,
    stepca_response_t *resp);
static void ngx_http_stepca_internal_error(ngx_http_request_t *r);
static ngx_int_t ngx_http_stepca_send_error(ngx_http_request_t *r);
static void ngx_http_stepca_response_cleanup(void *data);
static ngx_int_t ngx_http_stepca_metrics_handler(ngx_http_request_t *r);
static void ngx_http_stepca_metrics_cleanup(void *data);

static char *ngx_http_stepca(ngx_conf_t *cf, ngx_command_t *cmd, void *conf);
static char *ngx_http_stepca_set_handler(ngx_conf_t *cf,
    ngx_http_handler_pt handler);
static char *ngx_http_stepca_metrics(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_stepca_postconfiguration(ngx_conf_t *cf);
static void *ngx_http_stepca_create_main_conf(ngx_conf_t *cf);
static char *ngx_http_stepca_init_main_conf(ngx_conf_t *cf, void *conf);
static char *ngx_http_stepca_cstr(ngx_conf_t *cf, ngx_str_t *s);
static char *ngx_http_stepca_trusted_proxy(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static void ngx_http_stepca_authority_cleanup(void *data);
static ngx_int_t ngx_http_stepca_init_module(ngx_cycle_t *cycle);
static ngx_int_t ngx_http_stepca_init_process(ngx_cycle_t *cycle);
static void ngx_http_stepca_exit_process(ngx_cycle_t *cycle);


static ngx_command_t  ngx_http_stepca_commands[] = {

    { ngx_string("stepca_ca_json"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_stepca_main_conf_t, ca_json),
      NULL },

    { ngx_string("stepca_password_file"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_stepca_main_conf_t, password_file),
      NULL },

    { ngx_string("stepca_store"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_stepca_main_conf_t, store),
      NULL },

    { ngx_string("stepca_thread_pool"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_stepca_main_conf_t, thread_pool_name),
      NULL },

    { ngx_string("stepca_client_cert_header"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_str_slot,
      NGX_HTTP_MAIN_CONF_OFFSET,
      offsetof(ngx_http_stepca_main_conf_t, client_cert_header),
      NULL },

    { ngx_string("stepca_trusted_proxy"),
      NGX_HTTP_MAIN_CONF|NGX_CONF_TAKE1,
      ngx_http_stepca_trusted_proxy,
      NGX_HTTP_MAIN_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("stepca"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_stepca,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("stepca_metrics"),
      NGX_HTTP_LOC_CONF|NGX_CONF_NOARGS,
      ngx_http_stepca_metrics,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_stepca_module_ctx = {
    NULL,                                  /* preconfiguration */
    ngx_http_stepca_postconfiguration,     /* postconfiguration */

    ngx_http_stepca_create_main_conf,      /* create main configuration */
    ngx_http_stepca_init_main_conf,        /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    NULL,                                  /* create location configuration */
    NULL                                   /* merge location configuration */
};


ngx_module_t  ngx_http_stepca_module = {
    NGX_MODULE_V1,
    &ngx_http_stepca_module_ctx,           /* module context */
    ngx_http_stepca_commands,              /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    ngx_http_stepca_init_module,           /* init module */
    ngx_http_stepca_init_process,          /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    ngx_http_stepca_exit_process,          /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


/* request path (event loop) */

static ngx_int_t
ngx_http_stepca_handler(ngx_http_request_t *r)
{
    ngx_int_t                     rc;
    ngx_http_stepca_main_conf_t  *smcf;

    smcf = ngx_http_get_module_main_conf(r, ngx_http_stepca_module);

    if (smcf->authority == NULL || !smcf->ready) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "stepca: the authority is not ready in this worker");

        if (ngx_http_discard_request_body(r) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_stepca_send_error(r);
    }

    if (r->headers_in.content_length_n > NGX_HTTP_STEPCA_MAX_BODY) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "stepca: request body of %O bytes is too large",
                      r->headers_in.content_length_n);
        return NGX_HTTP_REQUEST_ENTITY_TOO_LARGE;
    }

    r->request_body_in_single_buf = 1;

    rc = ngx_http_read_client_request_body(r, ngx_http_stepca_body_handler);

    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) {
        return rc;
    }

    return NGX_DONE;
}


static void
ngx_http_stepca_body_handler(ngx_http_request_t *r)
{
    ngx_thread_task_t            *task;
    ngx_pool_cleanup_t           *cln;
    ngx_http_stepca_ctx_t        *ctx;
    ngx_http_stepca_task_ctx_t   *tctx;
    ngx_http_stepca_main_conf_t  *smcf;

    smcf = ngx_http_get_module_main_conf(r, ngx_http_stepca_module);

    if (r->connection->error) {
        ngx_http_finalize_request(r, NGX_HTTP_CLIENT_CLOSED_REQUEST);
        return;
    }

    if (smcf->thread_pool == NULL) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "stepca: thread pool \"%V\" is not available",
                      &smcf->thread_pool_name);
        ngx_http_stepca_internal_error(r);
        return;
    }

    ctx = ngx_pcalloc(r->pool, sizeof(ngx_http_stepca_ctx_t));
    if (ctx == NULL) {
        ngx_http_stepca_internal_error(r);
        return;
    }

    task = ngx_thread_task_alloc(r->pool, sizeof(ngx_http_stepca_task_ctx_t));
    if (task == NULL) {
        ngx_http_stepca_internal_error(r);
        return;
    }

    tctx = task->ctx;
    tctx->authority = smcf->authority;

    switch (ngx_http_stepca_gather(r, tctx)) {

    case NGX_OK:
        break;

    case NGX_DECLINED:
        /* the body is too large */
        ngx_http_finalize_request(r, NGX_HTTP_REQUEST_ENTITY_TOO_LARGE);
        return;

    default:
        ngx_http_stepca_internal_error(r);
        return;
    }

    /* whatever the thread fills in is freed with the request */

    cln = ngx_pool_cleanup_add(r->pool, 0);
    if (cln == NULL) {
        ngx_http_stepca_internal_error(r);
        return;
    }

    cln->handler = ngx_http_stepca_response_cleanup;
    cln->data = tctx;

    ctx->task = task;
    ngx_http_set_ctx(r, ctx, ngx_http_stepca_module);

    task->handler = ngx_http_stepca_thread_handler;
    task->event.data = r;
    task->event.handler = ngx_http_stepca_thread_event_handler;

    if (ngx_thread_task_post(smcf->thread_pool, task) != NGX_OK) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "stepca: cannot post a task to thread pool \"%V\"",
                      &smcf->thread_pool_name);
        ngx_http_stepca_internal_error(r);
        return;
    }

    /*
     * The request must outlive the task: "blocked" keeps
     * ngx_http_close_request() and ngx_http_terminate_request() from
     * freeing it until the completion handler runs.  The reference taken by
     * ngx_http_read_client_request_body() is released when the completion
     * handler finalizes the request.
     */

    r->main->blocked++;
    r->aio = 1;
    r->write_event_handler = ngx_http_stepca_respond;

    /*
     * A worker that is shutting down (reload, QUIT) exits as soon as no
     * timer is left, and a thread task arms none: this timer keeps the
     * worker, and so the connection, alive until the task completes.
     */

    ctx->guard.handler = ngx_http_stepca_guard_handler;
    ctx->guard.data = r;
    ctx->guard.log = r->connection->log;

    ngx_add_timer(&ctx->guard, NGX_HTTP_STEPCA_GUARD);
}


static ngx_int_t
ngx_http_stepca_gather(ngx_http_request_t *r, ngx_http_stepca_task_ctx_t *tctx)
{
    ngx_str_t                  s;
    ngx_table_elt_t           *h;
    stepca_request_t          *req;
    ngx_http_core_srv_conf_t  *cscf;

    req = &tctx->req;

    if (ngx_http_stepca_copy_str(r->pool, &req->method, &r->method_name)
        != NGX_OK
        || ngx_http_stepca_copy_str(r->pool, &req->path, &r->uri) != NGX_OK
        || ngx_http_stepca_copy_str(r->pool, &req->query, &r->args) != NGX_OK
        || ngx_http_stepca_copy_str(r->pool, &req->client_addr,
                                    &r->connection->addr_text)
           != NGX_OK)
    {
        return NGX_ERROR;
    }

#if (NGX_HTTP_SSL)
    if (r->connection->ssl) {
        ngx_str_set(&s, "https");

    } else
#endif
    {
        ngx_str_set(&s, "http");
    }

    if (ngx_http_stepca_copy_str(r->pool, &req->scheme, &s) != NGX_OK) {
        return NGX_ERROR;
    }

    if (r->headers_in.host) {
        s = r->headers_in.host->value;

    } else {
        cscf = ngx_http_get_module_srv_conf(r, ngx_http_core_module);
        s = cscf->server_name;
    }

    if (ngx_http_stepca_copy_str(r->pool, &req->host, &s) != NGX_OK) {
        return NGX_ERROR;
    }

    h = r->headers_in.authorization;
    if (h && ngx_http_stepca_copy_str(r->pool, &req->authorization, &h->value)
             != NGX_OK)
    {
        return NGX_ERROR;
    }

    h = r->headers_in.content_type;
    if (h && ngx_http_stepca_copy_str(r->pool, &req->content_type, &h->value)
             != NGX_OK)
    {
        return NGX_ERROR;
    }

    h = ngx_http_stepca_find_header(r, (u_char *) "X-Request-Id",
                                    sizeof("X-Request-Id") - 1);
    if (h && ngx_http_stepca_copy_str(r->pool, &req->request_id, &h->value)
             != NGX_OK)
    {
        return NGX_ERROR;
    }

    h = ngx_http_stepca_find_header(r, (u_char *) "X-Smallstep-Id",
                                    sizeof("X-Smallstep-Id") - 1);
    if (h && ngx_http_stepca_copy_str(r->pool, &req->legacy_request_id,
                                      &h->value)
             != NGX_OK)
    {
        return NGX_ERROR;
    }

    if (ngx_http_stepca_peer_cert(r, &req->peer_cert_der) != NGX_OK) {
        return NGX_ERROR;
    }

    /* our own handshake's certificate always wins */

    if (req->peer_cert_der.len == 0
        && ngx_http_stepca_forwarded_cert(r, &req->peer_cert_der) != NGX_OK)
    {
        return NGX_ERROR;
    }

    return ngx_http_stepca_gather_body(r, tctx);
}


/*
 * Copies the body into one request-pool buffer.  Parts held in memory are
 * copied now; parts that nginx spooled to a temp file are only recorded
 * here and read by the pool thread, so the event loop never reads a file.
 */

static ngx_int_t
ngx_http_stepca_gather_body(ngx_http_request_t *r,
    ngx_http_stepca_task_ctx_t *tctx)
{
    off_t                         total;
    size_t                        n;
    u_char                       *p;
    ngx_buf_t                    *b;
    ngx_uint_t                    nparts;
    ngx_chain_t                  *cl;
    ngx_http_stepca_file_part_t  *part;

    if (r->request_body == NULL || r->request_body->bufs == NULL) {
        return NGX_OK;
    }

    total = 0;
    nparts = 0;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;

        if (b->in_file) {
            if (b->file == NULL) {
                ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                              "stepca: request body buffer without a file");
                return NGX_ERROR;
            }

            total += b->file_last - b->file_pos;
            nparts++;

        } else {
            total += b->last - b->pos;
        }
    }

    if (total > NGX_HTTP_STEPCA_MAX_BODY) {
        ngx_log_error(NGX_LOG_INFO, r->connection->log, 0,
                      "stepca: request body of %O bytes is too large", total);
        return NGX_DECLINED;
    }

    if (total == 0) {
        return NGX_OK;
    }

    p = ngx_pnalloc(r->pool, (size_t) total);
    if (p == NULL) {
        return NGX_ERROR;
    }

    if (nparts) {
        tctx->parts = ngx_pcalloc(r->pool,
                                  nparts * sizeof(ngx_http_stepca_file_part_t));
        if (tctx->parts == NULL) {
            return NGX_ERROR;
        }
    }

    tctx->req.body.data = (const char *) p;
    tctx->req.body.len = (size_t) total;

    for (cl = r->request_body->bufs; cl; cl = cl->next) {
        b = cl->buf;

        if (b->in_file) {
            n = (size_t) (b->file_last - b->file_pos);

            part = &tctx->parts[tctx->nparts++];
            part->fd = b->file->fd;
            part->offset = b->file_pos;
            part->len = n;
            part->dst = p;

        } else {
            n = b->last - b->pos;
            ngx_memcpy(p, b->pos, n);
        }

        p += n;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_stepca_copy_str(ngx_pool_t *pool, stepca_str_t *dst, ngx_str_t *src)
{
    u_char  *p;

    if (src->len == 0) {
        dst->data = "";
        dst->len = 0;
        return NGX_OK;
    }

    p = ngx_pnalloc(pool, src->len + 1);
    if (p == NULL) {
        return NGX_ERROR;
    }

    ngx_memcpy(p, src->data, src->len);
    p[src->len] = '\0';

    dst->data = (const char *) p;
    dst->len = src->len;

    return NGX_OK;
}


static ngx_table_elt_t *
ngx_http_stepca_find_header(ngx_http_request_t *r, u_char *name, size_t len)
{
    ngx_uint_t        i;
    ngx_list_part_t  *part;
    ngx_table_elt_t  *h;

    part = &r->headers_in.headers.part;
    h = part->elts;

    for (i = 0; /* void */; i++) {

        if (i >= part->nelts) {
            if (part->next == NULL) {
                break;
            }

            part = part->next;
            h = part->elts;
            i = 0;
        }

        if (h[i].hash == 0) {
            continue;
        }

        if (h[i].key.len == len
            && ngx_strncasecmp(h[i].key.data, name, len) == 0)
        {
            return &h[i];
        }
    }

    return NULL;
}


static ngx_int_t
ngx_http_stepca_peer_cert(ngx_http_request_t *r, stepca_str_t *dst)
{
#if (NGX_HTTP_SSL)
    X509  *cert;

    if (r->connection->ssl == NULL) {
        return NGX_OK;
    }

    cert = SSL_get_peer_certificate(r->connection->ssl->connection);
    if (cert == NULL) {
        return NGX_OK;
    }

    return ngx_http_stepca_cert_der(r, cert, dst);
#else
    return NGX_OK;
#endif
}


#if (NGX_HTTP_SSL)

/* cert's DER in request memory; cert is freed */

static ngx_int_t
ngx_http_stepca_cert_der(ngx_http_request_t *r, X509 *cert, stepca_str_t *dst)
{
    int      len;
    u_char  *p, *der;

    len = i2d_X509(cert, NULL);
    der = len > 0 ? ngx_pnalloc(r->pool, len) : NULL;

    if (der == NULL) {
        X509_free(cert);
        return NGX_ERROR;
    }

    p = der;
    len = i2d_X509(cert, &p);
    X509_free(cert);

    if (len <= 0) {
        ngx_ssl_error(NGX_LOG_ERR, r->connection->log, 0,
                      "stepca: i2d_X509() failed");
        return NGX_ERROR;
    }

    dst->data = (const char *) der;
    dst->len = len;

    return NGX_OK;
}

#endif


/*
 * The client certificate a trusted TLS-terminating proxy forwards in
 * stepca_client_cert_header (URL-encoded PEM, as $ssl_client_escaped_cert).
 * Trust is decided on the address that connected to us: the one before
 * realip (and the PROXY protocol) replaced it, so that a client can never
 * make itself a "proxy" by what it writes in a header.  From anyone else
 * the header is ignored with a warning.  The library verifies the
 * certificate itself, as it does a handshake's.
 */

static ngx_int_t
ngx_http_stepca_forwarded_cert(ngx_http_request_t *r, stepca_str_t *dst)
{
#if (NGX_HTTP_SSL)
    BIO                          *bio;
    X509                         *cert;
    u_char                       *p, *der, *pem;
    ngx_str_t                     addr;
    ngx_addr_t                    peer;
    ngx_table_elt_t              *h;
    ngx_http_variable_value_t    *vv;
    ngx_http_stepca_main_conf_t  *smcf;

    smcf = ngx_http_get_module_main_conf(r, ngx_http_stepca_module);

    if (smcf->client_cert_header.len == 0) {
        return NGX_OK;
    }

    h = ngx_http_stepca_find_header(r, smcf->client_cert_header.data,
                                    smcf->client_cert_header.len);
    if (h == NULL || h->value.len == 0) {
        return NGX_OK;
    }

    addr = r->connection->addr_text;

    if (smcf->realip_index != NGX_ERROR) {
        vv = ngx_http_get_indexed_variable(r, smcf->realip_index);

        if (vv && !vv->not_found && vv->len) {
            addr.data = vv->data;
            addr.len = vv->len;
        }
    }

    if (smcf->trusted_proxies == NULL
        || ngx_parse_addr(r->pool, &peer, addr.data, addr.len) != NGX_OK
        || ngx_cidr_match(peer.sockaddr, smcf->trusted_proxies) != NGX_OK)
    {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "stepca: ignoring the \"%V\" header from %V, "
                      "which is not a trusted proxy",
                      &smcf->client_cert_header, &addr);
        return NGX_OK;
    }

    pem = ngx_pnalloc(r->pool, h->value.len);
    if (pem == NULL) {
        return NGX_ERROR;
    }

    p = h->value.data;
    der = pem;
    ngx_unescape_uri(&der, &p, h->value.len, 0);

    bio = BIO_new_mem_buf(pem, (int) (der - pem));
    if (bio == NULL) {
        return NGX_ERROR;
    }

    cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    BIO_free(bio);

    if (cert == NULL) {
        ERR_clear_error();
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "stepca: the \"%V\" header from %V does not hold "
                      "a PEM certificate", &smcf->client_cert_header, &addr);
        return NGX_OK;
    }

    return ngx_http_stepca_cert_der(r, cert, dst);
#else
    return NGX_OK;
#endif
}


/* the pool thread: touches only the task context, never r or its pool */

static void
ngx_http_stepca_thread_handler(void *data, ngx_log_t *log)
{
    ngx_http_stepca_task_ctx_t *tctx = data;

    size_t                        done;
    ssize_t                       n;
    ngx_uint_t                    i;
    ngx_http_stepca_file_part_t  *part;

    for (i = 0; i < tctx->nparts; i++) {
        part = &tctx->parts[i];
        done = 0;

        while (done < part->len) {
            n = pread(part->fd, part->dst + done, part->len - done,
                      part->offset + done);

            if (n == -1) {
                if (ngx_errno == NGX_EINTR) {
                    continue;
                }

                tctx->read_err = ngx_errno;
                return;
            }

            if (n == 0) {
                tctx->short_read = 1;
                return;
            }

            done += n;
        }
    }

    stepca_handle(tctx->authority, &tctx->req, &tctx->resp);
    tctx->handled = 1;
}


/* back on the event loop */

static void
ngx_http_stepca_thread_event_handler(ngx_event_t *ev)
{
    ngx_connection_t       *c;
    ngx_http_request_t     *r;
    ngx_http_stepca_ctx_t  *ctx;

    r = ev->data;
    c = r->connection;

    ngx_http_set_log_request(c->log, r);

    ctx = ngx_http_get_module_ctx(r, ngx_http_stepca_module);

    if (ctx && ctx->guard.timer_set) {
        ngx_del_timer(&ctx->guard);
    }

    ngx_log_debug2(NGX_LOG_DEBUG_HTTP, c->log, 0,
                   "stepca thread done: \"%V?%V\"", &r->uri, &r->args);

    r->main->blocked--;
    r->aio = 0;

    /*
     * ngx_http_stepca_respond(), or ngx_http_request_finalizer() if the
     * request was terminated (client gone, worker exiting) meanwhile.
     */

    r->write_event_handler(r);

    ngx_http_run_posted_requests(c);
}


static void
ngx_http_stepca_guard_handler(ngx_event_t *ev)
{
    ngx_log_error(NGX_LOG_WARN, ev->log, 0,
                  "stepca: the request has been in the thread pool for "
                  "%M ms", (ngx_msec_t) NGX_HTTP_STEPCA_GUARD);

    ev->timedout = 0;

    ngx_add_timer(ev, NGX_HTTP_STEPCA_GUARD);
}


static void
ngx_http_stepca_respond(ngx_http_request_t *r)
{
    ngx_int_t                    rc;
    ngx_http_stepca_ctx_t       *ctx;
    ngx_http_stepca_task_ctx_t  *tctx;

    if (r->aio) {
        /* a write event while the task still runs */
        return;
    }

    r->write_event_handler = ngx_http_request_empty_handler;

    ctx = ngx_http_get_module_ctx(r, ngx_http_stepca_module);

    if (ctx == NULL || ctx->task == NULL) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "stepca: response handler without a task");
        ngx_http_stepca_internal_error(r);
        return;
    }

    tctx = ctx->task->ctx;

    if (r->connection->error) {
        ngx_http_finalize_request(r, NGX_HTTP_CLIENT_CLOSED_REQUEST);
        return;
    }

    if (tctx->read_err) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, tctx->read_err,
                      "stepca: cannot read the request body temp file");
        ngx_http_stepca_internal_error(r);
        return;
    }

    if (tctx->short_read) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "stepca: the request body temp file is truncated");
        ngx_http_stepca_internal_error(r);
        return;
    }

    if (!tctx->handled) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "stepca: the task finished without a response");
        ngx_http_stepca_internal_error(r);
        return;
    }

    if (tctx->resp.log_level > STEPCA_LOG_NONE
        && tctx->resp.log_level <= NGX_LOG_DEBUG
        && tctx->resp.log_message)
    {
        ngx_log_error((ngx_uint_t) tctx->resp.log_level, r->connection->log,
                      0, "stepca: %s", tctx->resp.log_message);
    }

    rc = ngx_http_stepca_send(r, &tctx->resp);

    if (rc == NGX_HTTP_INTERNAL_SERVER_ERROR) {
        ngx_http_stepca_internal_error(r);
        return;
    }

    ngx_http_finalize_request(r, rc);
}


/*
 * Sends the library's response.  The body is sent straight from the
 * library's memory, which the r->pool cleanup frees with the request.
 */

static ngx_int_t
ngx_http_stepca_send(ngx_http_request_t *r, stepca_response_t *resp)
{
    size_t            i, len;
    ngx_int_t         rc;
    ngx_buf_t        *b;
    ngx_chain_t       out;
    ngx_table_elt_t  *h;

    if (resp->status < 100 || resp->status > 999) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "stepca: the library answered status %d",
                      resp->status);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (resp->nheaders > STEPCA_MAX_HEADERS) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "stepca: the library answered %uz headers",
                      resp->nheaders);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    r->headers_out.status = resp->status;
    r->headers_out.content_length_n = resp->body_len;

    if (resp->content_type) {
        len = ngx_strlen(resp->content_type);
        r->headers_out.content_type.data = (u_char *) resp->content_type;
        r->headers_out.content_type.len = len;
        r->headers_out.content_type_len = len;
        r->headers_out.content_type_lowcase = NULL;
    }

    for (i = 0; i < resp->nheaders; i++) {
        if (resp->headers[i].name == NULL || resp->headers[i].value == NULL) {
            continue;
        }

        h = ngx_list_push(&r->headers_out.headers);
        if (h == NULL) {
            return NGX_ERROR;
        }

        h->hash = 1;
        h->key.data = (u_char *) resp->headers[i].name;
        h->key.len = ngx_strlen(resp->headers[i].name);
        h->value.data = (u_char *) resp->headers[i].value;
        h->value.len = ngx_strlen(resp->headers[i].value);
    }

    if (resp->body_len == 0) {
        r->header_only = 1;
    }

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->pos = (u_char *) resp->body;
    b->last = b->pos + resp->body_len;
    b->memory = 1;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


static void
ngx_http_stepca_internal_error(ngx_http_request_t *r)
{
    ngx_http_finalize_request(r, ngx_http_stepca_send_error(r));
}


/* step-ca's JSON 500; the caller finalizes the request with the result */

static ngx_int_t
ngx_http_stepca_send_error(ngx_http_request_t *r)
{
    ngx_int_t    rc;
    ngx_buf_t   *b;
    ngx_chain_t  out;

    static u_char  body[] = NGX_HTTP_STEPCA_ERROR_500;

    if (r->header_sent) {
        return NGX_ERROR;
    }

    ngx_http_clean_header(r);

    r->headers_out.status = NGX_HTTP_INTERNAL_SERVER_ERROR;
    r->headers_out.content_length_n = sizeof(body) - 1;
    ngx_str_set(&r->headers_out.content_type, "application/json");
    r->headers_out.content_type_len = r->headers_out.content_type.len;
    r->headers_out.content_type_lowcase = NULL;

    rc = ngx_http_send_header(r);

    if (rc == NGX_ERROR || rc > NGX_OK || r->header_only) {
        return rc;
    }

    b = ngx_calloc_buf(r->pool);
    if (b == NULL) {
        return NGX_ERROR;
    }

    b->pos = body;
    b->last = body + sizeof(body) - 1;
    b->memory = 1;
    b->last_buf = (r == r->main) ? 1 : 0;
    b->last_in_chain = 1;

    out.buf = b;
    out.next = NULL;

    return ngx_http_output_filter(r, &out);
}


static void
ngx_http_stepca_response_cleanup(void *data)
{
    ngx_http_stepca_task_ctx_t *tctx = data;

    if (tctx->handled) {
        stepca_response_free(&tctx->resp);
        tctx->handled = 0;
    }
}


/*
 * stepca_metrics: the Prometheus text of the node's counters.  The library
 * only reads shared memory here, so it runs on the event loop.
 */

static ngx_int_t
ngx_http_stepca_metrics_handler(ngx_http_request_t *r)
{
    ngx_int_t                     rc;
    stepca_response_t            *resp;
    ngx_pool_cleanup_t           *cln;
    ngx_http_stepca_main_conf_t  *smcf;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    smcf = ngx_http_get_module_main_conf(r, ngx_http_stepca_module);

    if (smcf->authority == NULL) {
        return ngx_http_stepca_send_error(r);
    }

    cln = ngx_pool_cleanup_add(r->pool, sizeof(stepca_response_t));
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    resp = cln->data;
    ngx_memzero(resp, sizeof(stepca_response_t));

    stepca_metrics(smcf->authority, resp);
    cln->handler = ngx_http_stepca_metrics_cleanup;

    return ngx_http_stepca_send(r, resp);
}


static void
ngx_http_stepca_metrics_cleanup(void *data)
{
    stepca_response_free(data);
}


/* configuration */

static char *
ngx_http_stepca_metrics(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    return ngx_http_stepca_set_handler(cf, ngx_http_stepca_metrics_handler);
}


static char *
ngx_http_stepca(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    return ngx_http_stepca_set_handler(cf, ngx_http_stepca_handler);
}


/* A location served by the module; the first one also makes the CA required. */
static char *
ngx_http_stepca_set_handler(ngx_conf_t *cf, ngx_http_handler_pt handler)
{
    ngx_http_core_loc_conf_t     *clcf;
    ngx_http_stepca_main_conf_t  *smcf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->handler == handler) {
        return "is duplicate";
    }

    clcf->handler = handler;

    smcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_stepca_module);

    if (!smcf->used) {
        smcf->used = 1;
        smcf->used_file = cf->conf_file->file.name.data;
        smcf->used_line = cf->conf_file->line;
    }

    return NGX_CONF_OK;
}


static void *
ngx_http_stepca_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_stepca_main_conf_t  *smcf;

    smcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_stepca_main_conf_t));
    if (smcf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     smcf->ca_json = { 0, NULL };
     *     smcf->password_file = { 0, NULL };
     *     smcf->store = { 0, NULL };
     *     smcf->thread_pool_name = { 0, NULL };
     *     smcf->client_cert_header = { 0, NULL };
     *     smcf->thread_pool = NULL;
     *     smcf->authority = NULL;
     *     smcf->ready = 0;
     *     smcf->used = 0;
     *     smcf->trusted_proxies = NULL;
     */

    smcf->realip_index = NGX_ERROR;

    return smcf;
}


static char *
ngx_http_stepca_init_main_conf(ngx_conf_t *cf, void *conf)
{
    ngx_http_stepca_main_conf_t *smcf = conf;

    if (smcf->ca_json.data == NULL) {
        return NGX_CONF_OK;
    }

    if (ngx_conf_full_name(cf->cycle, &smcf->ca_json, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    if (ngx_http_stepca_cstr(cf, &smcf->ca_json) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    if (smcf->password_file.data) {
        if (ngx_conf_full_name(cf->cycle, &smcf->password_file, 1) != NGX_OK)
        {
            return NGX_CONF_ERROR;
        }

        if (ngx_http_stepca_cstr(cf, &smcf->password_file) != NGX_CONF_OK) {
            return NGX_CONF_ERROR;
        }
    }

    if (smcf->store.data == NULL) {
        ngx_str_set(&smcf->store, NGX_HTTP_STEPCA_DEFAULT_STORE);
    }

    if (smcf->client_cert_header.len) {
        ngx_str_t  realip = ngx_string("realip_remote_addr");

        if (smcf->trusted_proxies == NULL) {
            ngx_log_error(NGX_LOG_WARN, cf->log, 0,
                          "stepca: \"stepca_client_cert_header\" is set "
                          "but no \"stepca_trusted_proxy\": the header "
                          "will always be ignored");
        }

        smcf->realip_index = ngx_http_get_variable_index(cf, &realip);
        if (smcf->realip_index == NGX_ERROR) {
            return NGX_CONF_ERROR;
        }
    }

    if (ngx_http_stepca_cstr(cf, &smcf->store) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    if (smcf->thread_pool_name.data == NULL) {
        ngx_str_set(&smcf->thread_pool_name, NGX_HTTP_STEPCA_DEFAULT_POOL);
    }

    /* a pool other than "default" must be declared by "thread_pool" */

    if (ngx_thread_pool_add(cf, &smcf->thread_pool_name) == NULL) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* stepca_trusted_proxy <address or CIDR>: may be repeated */

static char *
ngx_http_stepca_trusted_proxy(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_stepca_main_conf_t *smcf = conf;

    ngx_int_t    rc;
    ngx_str_t   *value;
    ngx_cidr_t  *cidr;

    value = cf->args->elts;

    if (smcf->trusted_proxies == NULL) {
        smcf->trusted_proxies = ngx_array_create(cf->pool, 2,
                                                 sizeof(ngx_cidr_t));
        if (smcf->trusted_proxies == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    cidr = ngx_array_push(smcf->trusted_proxies);
    if (cidr == NULL) {
        return NGX_CONF_ERROR;
    }

    rc = ngx_ptocidr(&value[1], cidr);

    if (rc == NGX_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0, "invalid value \"%V\"",
                           &value[1]);
        return NGX_CONF_ERROR;
    }

    if (rc == NGX_DONE) {
        ngx_conf_log_error(NGX_LOG_WARN, cf, 0,
                           "low address bits of %V are meaningless",
                           &value[1]);
    }

    return NGX_CONF_OK;
}


/* makes s NUL-terminated for the C ABI, in cf->pool */

static char *
ngx_http_stepca_cstr(ngx_conf_t *cf, ngx_str_t *s)
{
    u_char  *p;

    p = ngx_pnalloc(cf->pool, s->len + 1);
    if (p == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memcpy(p, s->data, s->len);
    p[s->len] = '\0';
    s->data = p;

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_stepca_postconfiguration(ngx_conf_t *cf)
{
    size_t                        i;
    const char                   *w;
    stepca_options_t              opts;
    ngx_pool_cleanup_t           *cln;
    stepca_authority_t           *a;
    ngx_http_stepca_main_conf_t  *smcf;
    char                          err[STEPCA_ERRLEN];

    smcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_stepca_module);

    if (smcf->ca_json.data == NULL) {
        if (smcf->used) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "stepca: \"stepca\" is used in %s:%ui but "
                          "\"stepca_ca_json\" is not set",
                          smcf->used_file, smcf->used_line);
            return NGX_ERROR;
        }

        return NGX_OK;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NGX_ERROR;
    }

    ngx_memzero(&opts, sizeof(stepca_options_t));

    opts.ca_json_path = (const char *) smcf->ca_json.data;
    opts.password_file = (const char *) smcf->password_file.data;
    opts.store_uri = (const char *) smcf->store.data;
    opts.version = NULL;

    err[0] = '\0';

    a = stepca_authority_load(&opts, err, sizeof(err));

    if (a == NULL) {
        err[sizeof(err) - 1] = '\0';
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0, "stepca: %s",
                      err[0] ? err : "cannot load the authority");
        return NGX_ERROR;
    }

    cln->handler = ngx_http_stepca_authority_cleanup;
    cln->data = a;

    smcf->authority = a;

    for (i = 0; /* void */; i++) {
        w = stepca_authority_warning(a, i);
        if (w == NULL) {
            break;
        }

        ngx_log_error(NGX_LOG_WARN, cf->log, 0, "stepca: %s", w);
    }

    return NGX_OK;
}


static void
ngx_http_stepca_authority_cleanup(void *data)
{
    stepca_authority_t *a = data;

    stepca_authority_free(a);
}


/* processes */

static ngx_int_t
ngx_http_stepca_init_module(ngx_cycle_t *cycle)
{
    long                          uid, gid;
    ngx_core_conf_t              *ccf;
    ngx_http_stepca_main_conf_t  *smcf;
    char                          err[STEPCA_ERRLEN];

    smcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_stepca_module);

    if (smcf == NULL || smcf->authority == NULL || ngx_test_config) {
        return NGX_OK;
    }

    uid = -1;
    gid = -1;

    if (geteuid() == 0) {
        ccf = (ngx_core_conf_t *) ngx_get_conf(cycle->conf_ctx,
                                               ngx_core_module);

        if (ccf->user != (ngx_uid_t) NGX_CONF_UNSET_UINT) {
            uid = (long) ccf->user;
        }

        if (ccf->group != (ngx_gid_t) NGX_CONF_UNSET_UINT) {
            gid = (long) ccf->group;
        }
    }

    err[0] = '\0';

    if (stepca_authority_prepare_store(smcf->authority, uid, gid,
                                       err, sizeof(err))
        != 0)
    {
        err[sizeof(err) - 1] = '\0';
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0, "stepca: %s",
                      err[0] ? err : "cannot prepare the store");
        return NGX_ERROR;
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_stepca_init_process(ngx_cycle_t *cycle)
{
    ngx_http_stepca_main_conf_t  *smcf;
    char                          err[STEPCA_ERRLEN];

    smcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_stepca_module);

    if (smcf == NULL || smcf->authority == NULL) {
        return NGX_OK;
    }

    smcf->thread_pool = ngx_thread_pool_get(cycle, &smcf->thread_pool_name);

    if (smcf->thread_pool == NULL) {
        ngx_log_error(NGX_LOG_ERR, cycle->log, 0,
                      "stepca: thread pool \"%V\" not found",
                      &smcf->thread_pool_name);
    }

    err[0] = '\0';

    if (stepca_authority_init_process(smcf->authority, err, sizeof(err))
        != 0)
    {
        /* the worker keeps running; requests answer 500 and log why */
        err[sizeof(err) - 1] = '\0';
        ngx_log_error(NGX_LOG_ALERT, cycle->log, 0, "stepca: %s",
                      err[0] ? err : "cannot initialize the worker");
        return NGX_OK;
    }

    smcf->ready = 1;

    return NGX_OK;
}


static void
ngx_http_stepca_exit_process(ngx_cycle_t *cycle)
{
    ngx_http_stepca_main_conf_t  *smcf;

    smcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_stepca_module);

    if (smcf == NULL || smcf->authority == NULL || !smcf->ready) {
        return;
    }

    smcf->ready = 0;

    stepca_authority_exit_process(smcf->authority);
}
