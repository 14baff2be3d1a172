
/*
 * nginx-stepca: a step-ca compatible certificate authority as an nginx
 * module.  This file is the glue: directives, configuration, and the
 * hand-off of each request to the authority library (shared/stepca_abi.h)
 * in an nginx thread pool, so that the event loop never blocks.
 *
 * The CA directives are allowed in http{} and server{}, with the usual
 * inheritance.  One authority is loaded per distinct CA configuration (a
 * server that only inherits shares its parent's), each with its own store
 * and its own shared memory zone for the counters.
 */


#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

#include <stepca_abi.h>

#include "ngx_http_stepca_tls.h"


#if !(NGX_THREADS)
#error ngx_http_stepca_module needs nginx built --with-threads
#endif


#define NGX_HTTP_STEPCA_MAX_BODY       (1024 * 1024)
#define NGX_HTTP_STEPCA_GUARD          60000

#define NGX_HTTP_STEPCA_DEFAULT_STORE  "lmdb:/var/lib/nginx-stepca"
#define NGX_HTTP_STEPCA_DEFAULT_POOL   "default"

#define NGX_HTTP_STEPCA_ERROR_500                                             \
    "{\"status\":500,\"message\":\"The certificate authority encountered "    \
    "an Internal Server Error. Please see the certificate authority logs "   \
    "for more info.\"}\n"


/* per cycle: one loaded authority, shared by the servers that configure it */

typedef struct {
    stepca_authority_t         *authority;
    ngx_shm_zone_t             *metrics_zone;
    ngx_str_t                   store_id;       /* what two CAs may not share */
    void                       *conf;           /* the srv conf that loaded it */
    ngx_uint_t                  ready;          /* init_process succeeded */
} ngx_http_stepca_ca_t;


/* per cycle */

typedef struct {
    ngx_array_t                 cas;            /* of ngx_http_stepca_ca_t * */
    ngx_array_t                 tls;            /* of ngx_http_stepca_tls_t * */
} ngx_http_stepca_main_conf_t;


/* per server (and http{}, which servers inherit from) */

typedef struct {
    ngx_str_t                   ca_json;
    ngx_str_t                   password_file;
    ngx_str_t                   issuer_password_file;
    ngx_str_t                   store;
    ngx_str_t                   thread_pool_name;
    ngx_str_t                   client_cert_header;
    ngx_array_t                *trusted_proxies;    /* of ngx_cidr_t */

    ngx_str_t                   acme_base_url;
    ngx_int_t                   acme_http01_port;
    ngx_int_t                   acme_tls_alpn01_port;
    ngx_str_t                   acme_dns_resolver;
    ngx_int_t                   acme_validation_threads;
    ngx_int_t                   acme_validation_queue;
    size_t                      max_body_size;
    ngx_flag_t                  tls_certificate;    /* ngx_http_stepca_tls.c */
    time_t                      tls_lifetime;

    ngx_int_t                   realip_index;       /* $realip_remote_addr */
    ngx_thread_pool_t          *thread_pool;
    ngx_http_stepca_ca_t       *ca;

    u_char                     *file;           /* where the block starts */
    ngx_uint_t                  line;
    ngx_uint_t                  used;           /* a location says "stepca" */
    u_char                     *used_file;
    ngx_uint_t                  used_line;
} ngx_http_stepca_srv_conf_t;


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
static char *ngx_http_stepca_tls_certificate(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_stepca_metrics(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_stepca_set_path(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_stepca_set_num(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_stepca_set_size(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_stepca_set_base_url(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_stepca_set_resolver(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_stepca_is_port(u_char *p, size_t len);
static char *ngx_http_stepca_trusted_proxy(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static ngx_int_t ngx_http_stepca_postconfiguration(ngx_conf_t *cf);
static void *ngx_http_stepca_create_main_conf(ngx_conf_t *cf);
static void *ngx_http_stepca_create_srv_conf(ngx_conf_t *cf);
static char *ngx_http_stepca_merge_srv_conf(ngx_conf_t *cf, void *parent,
    void *child);
static ngx_int_t ngx_http_stepca_same_ca(ngx_http_stepca_srv_conf_t *a,
    ngx_http_stepca_srv_conf_t *b);
static void ngx_http_stepca_store_id(ngx_str_t *store, ngx_str_t *id);
static ngx_http_stepca_ca_t *ngx_http_stepca_load(ngx_conf_t *cf,
    ngx_http_stepca_main_conf_t *smcf, ngx_http_stepca_srv_conf_t *sscf);
static ngx_int_t ngx_http_stepca_init_metrics_zone(ngx_shm_zone_t *shm_zone,
    void *data);
static char *ngx_http_stepca_cstr(ngx_conf_t *cf, ngx_str_t *s);
static void ngx_http_stepca_authority_cleanup(void *data);
static ngx_int_t ngx_http_stepca_init_module(ngx_cycle_t *cycle);
static ngx_int_t ngx_http_stepca_init_process(ngx_cycle_t *cycle);
static void ngx_http_stepca_exit_process(ngx_cycle_t *cycle);


static ngx_conf_num_bounds_t  ngx_http_stepca_port_bounds = {
    NULL, 1, 65535
};

static ngx_conf_num_bounds_t  ngx_http_stepca_threads_bounds = {
    NULL, 1, 256
};

static ngx_conf_num_bounds_t  ngx_http_stepca_queue_bounds = {
    NULL, 1, 1000000
};

/* cmd->post of a path directive: relative to the configuration prefix */
static ngx_uint_t  ngx_http_stepca_full_name = 1;


#define NGX_HTTP_STEPCA_CONF  (NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_TAKE1)

static ngx_command_t  ngx_http_stepca_commands[] = {

    { ngx_string("stepca_ca_json"),
      NGX_HTTP_STEPCA_CONF,
      ngx_http_stepca_set_path,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_stepca_srv_conf_t, ca_json),
      &ngx_http_stepca_full_name },

    { ngx_string("stepca_password_file"),
      NGX_HTTP_STEPCA_CONF,
      ngx_http_stepca_set_path,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_stepca_srv_conf_t, password_file),
      &ngx_http_stepca_full_name },

    { ngx_string("stepca_issuer_password_file"),
      NGX_HTTP_STEPCA_CONF,
      ngx_http_stepca_set_path,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_stepca_srv_conf_t, issuer_password_file),
      &ngx_http_stepca_full_name },

    { ngx_string("stepca_store"),
      NGX_HTTP_STEPCA_CONF,
      ngx_http_stepca_set_path,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_stepca_srv_conf_t, store),
      NULL },

    { ngx_string("stepca_thread_pool"),
      NGX_HTTP_STEPCA_CONF,
      ngx_conf_set_str_slot,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_stepca_srv_conf_t, thread_pool_name),
      NULL },

    { ngx_string("stepca_client_cert_header"),
      NGX_HTTP_STEPCA_CONF,
      ngx_conf_set_str_slot,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_stepca_srv_conf_t, client_cert_header),
      NULL },

    { ngx_string("stepca_trusted_proxy"),
      NGX_HTTP_STEPCA_CONF,
      ngx_http_stepca_trusted_proxy,
      NGX_HTTP_SRV_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("stepca_acme_base_url"),
      NGX_HTTP_STEPCA_CONF,
      ngx_http_stepca_set_base_url,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_stepca_srv_conf_t, acme_base_url),
      NULL },

    { ngx_string("stepca_acme_http01_port"),
      NGX_HTTP_STEPCA_CONF,
      ngx_http_stepca_set_num,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_stepca_srv_conf_t, acme_http01_port),
      &ngx_http_stepca_port_bounds },

    { ngx_string("stepca_acme_tls_alpn01_port"),
      NGX_HTTP_STEPCA_CONF,
      ngx_http_stepca_set_num,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_stepca_srv_conf_t, acme_tls_alpn01_port),
      &ngx_http_stepca_port_bounds },

    { ngx_string("stepca_acme_dns_resolver"),
      NGX_HTTP_STEPCA_CONF,
      ngx_http_stepca_set_resolver,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_stepca_srv_conf_t, acme_dns_resolver),
      NULL },

    { ngx_string("stepca_acme_validation_threads"),
      NGX_HTTP_STEPCA_CONF,
      ngx_http_stepca_set_num,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_stepca_srv_conf_t, acme_validation_threads),
      &ngx_http_stepca_threads_bounds },

    { ngx_string("stepca_acme_validation_queue"),
      NGX_HTTP_STEPCA_CONF,
      ngx_http_stepca_set_num,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_stepca_srv_conf_t, acme_validation_queue),
      &ngx_http_stepca_queue_bounds },

    { ngx_string("stepca_max_body_size"),
      NGX_HTTP_STEPCA_CONF,
      ngx_http_stepca_set_size,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_stepca_srv_conf_t, max_body_size),
      NULL },

    { ngx_string("stepca_tls_certificate"),
      NGX_HTTP_SRV_CONF|NGX_CONF_FLAG,
      ngx_http_stepca_tls_certificate,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_stepca_srv_conf_t, tls_certificate),
      NULL },

    { ngx_string("stepca_tls_certificate_lifetime"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_sec_slot,
      NGX_HTTP_SRV_CONF_OFFSET,
      offsetof(ngx_http_stepca_srv_conf_t, tls_lifetime),
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
    NULL,                                  /* init main configuration */

    ngx_http_stepca_create_srv_conf,       /* create server configuration */
    ngx_http_stepca_merge_srv_conf,        /* merge server configuration */

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
    ngx_int_t                    rc;
    ngx_http_stepca_srv_conf_t  *sscf;

    sscf = ngx_http_get_module_srv_conf(r, ngx_http_stepca_module);

    if (sscf->ca == NULL || !sscf->ca->ready) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "stepca: the authority is not ready in this worker");

        if (ngx_http_discard_request_body(r) != NGX_OK) {
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
        }

        return ngx_http_stepca_send_error(r);
    }

    if (r->headers_in.content_length_n > (off_t) sscf->max_body_size) {
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
    ngx_http_stepca_srv_conf_t   *sscf;

    sscf = ngx_http_get_module_srv_conf(r, ngx_http_stepca_module);

    if (r->connection->error) {
        ngx_http_finalize_request(r, NGX_HTTP_CLIENT_CLOSED_REQUEST);
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
    tctx->authority = sscf->ca->authority;

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

    if (ngx_thread_task_post(sscf->thread_pool, task) != NGX_OK) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "stepca: cannot post a task to thread pool \"%V\"",
                      &sscf->thread_pool_name);
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
    ngx_http_stepca_srv_conf_t   *sscf;
    ngx_http_stepca_file_part_t  *part;

    sscf = ngx_http_get_module_srv_conf(r, ngx_http_stepca_module);

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

    if (total > (off_t) sscf->max_body_size) {
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
    ngx_http_stepca_srv_conf_t   *sscf;

    sscf = ngx_http_get_module_srv_conf(r, ngx_http_stepca_module);

    if (sscf->client_cert_header.len == 0) {
        return NGX_OK;
    }

    h = ngx_http_stepca_find_header(r, sscf->client_cert_header.data,
                                    sscf->client_cert_header.len);
    if (h == NULL || h->value.len == 0) {
        return NGX_OK;
    }

    addr = r->connection->addr_text;

    if (sscf->realip_index != NGX_ERROR) {
        vv = ngx_http_get_indexed_variable(r, sscf->realip_index);

        if (vv && !vv->not_found && vv->len) {
            addr.data = vv->data;
            addr.len = vv->len;
        }
    }

    if (sscf->trusted_proxies == NULL
        || ngx_parse_addr(r->pool, &peer, addr.data, addr.len) != NGX_OK
        || ngx_cidr_match(peer.sockaddr, sscf->trusted_proxies) != NGX_OK)
    {
        ngx_log_error(NGX_LOG_WARN, r->connection->log, 0,
                      "stepca: ignoring the \"%V\" header from %V, "
                      "which is not a trusted proxy",
                      &sscf->client_cert_header, &addr);
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
                      "a PEM certificate", &sscf->client_cert_header, &addr);
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

    if (resp->body == NULL) {
        /* the library could not allocate the response (shared/stepca_abi.h) */
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "stepca: the library could not allocate a %d response",
                      resp->status);
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    if (resp->nheaders && resp->headers == NULL) {
        ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                      "stepca: the library answered %uz headers without "
                      "their array", resp->nheaders);
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
            ngx_log_error(NGX_LOG_ALERT, r->connection->log, 0,
                          "stepca: the library answered an empty header");
            return NGX_HTTP_INTERNAL_SERVER_ERROR;
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
    ngx_int_t                    rc;
    stepca_response_t           *resp;
    ngx_pool_cleanup_t          *cln;
    ngx_http_stepca_srv_conf_t  *sscf;

    if (!(r->method & (NGX_HTTP_GET|NGX_HTTP_HEAD))) {
        return NGX_HTTP_NOT_ALLOWED;
    }

    rc = ngx_http_discard_request_body(r);
    if (rc != NGX_OK) {
        return rc;
    }

    sscf = ngx_http_get_module_srv_conf(r, ngx_http_stepca_module);

    if (sscf->ca == NULL) {
        return ngx_http_stepca_send_error(r);
    }

    cln = ngx_pool_cleanup_add(r->pool, sizeof(stepca_response_t));
    if (cln == NULL) {
        return NGX_HTTP_INTERNAL_SERVER_ERROR;
    }

    resp = cln->data;
    ngx_memzero(resp, sizeof(stepca_response_t));

    stepca_metrics(sscf->ca->authority, resp);
    cln->handler = ngx_http_stepca_metrics_cleanup;

    rc = ngx_http_stepca_send(r, resp);

    if (rc == NGX_HTTP_INTERNAL_SERVER_ERROR) {
        return ngx_http_stepca_send_error(r);
    }

    return rc;
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


/* The placeholder must be in ssl_certificate's place before nginx merges
 * the server's ssl configuration, so it is set while parsing. */

static char *
ngx_http_stepca_tls_certificate(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_stepca_srv_conf_t *sscf = conf;

    char  *rv;

    rv = ngx_conf_set_flag_slot(cf, cmd, conf);

    if (rv != NGX_CONF_OK || !sscf->tls_certificate) {
        return rv;
    }

    return ngx_http_stepca_tls_placeholder(cf);
}


static char *
ngx_http_stepca(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    return ngx_http_stepca_set_handler(cf, ngx_http_stepca_handler);
}


/* A location served by the module; the first makes its server need a CA. */
static char *
ngx_http_stepca_set_handler(ngx_conf_t *cf, ngx_http_handler_pt handler)
{
    ngx_http_core_loc_conf_t    *clcf;
    ngx_http_stepca_srv_conf_t  *sscf;

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->handler == handler) {
        return "is duplicate";
    }

    clcf->handler = handler;

    sscf = ngx_http_conf_get_module_srv_conf(cf, ngx_http_stepca_module);

    if (!sscf->used) {
        sscf->used = 1;
        sscf->used_file = cf->conf_file->file.name.data;
        sscf->used_line = cf->conf_file->line;
    }

    return NGX_CONF_OK;
}


/* a string for the C ABI (NUL-terminated); cmd->post: a path to complete */

static char *
ngx_http_stepca_set_path(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_str_t  *field, *value;

    field = (ngx_str_t *) ((char *) conf + cmd->offset);

    if (field->data) {
        return "is duplicate";
    }

    value = cf->args->elts;
    *field = value[1];

    if (field->len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid value \"\" in \"%V\" directive",
                           &cmd->name);
        return NGX_CONF_ERROR;
    }

    if (cmd->post && ngx_conf_full_name(cf->cycle, field, 1) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return ngx_http_stepca_cstr(cf, field);
}


/* a number within the ngx_conf_num_bounds_t of cmd->post */

static char *
ngx_http_stepca_set_num(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_int_t              *np, n;
    ngx_str_t              *value;
    ngx_conf_num_bounds_t  *bounds = cmd->post;

    np = (ngx_int_t *) ((char *) conf + cmd->offset);

    if (*np != NGX_CONF_UNSET) {
        return "is duplicate";
    }

    value = cf->args->elts;
    n = ngx_atoi(value[1].data, value[1].len);

    if (n == NGX_ERROR || n < bounds->low || n > bounds->high) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid value \"%V\" in \"%V\" directive, "
                           "it must be a number from %i to %i",
                           &value[1], &cmd->name, bounds->low, bounds->high);
        return NGX_CONF_ERROR;
    }

    *np = n;

    return NGX_CONF_OK;
}


/* nginx's size syntax (1m, 512k); at least one byte */

static char *
ngx_http_stepca_set_size(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    size_t     *sp;
    ssize_t     n;
    ngx_str_t  *value;

    sp = (size_t *) ((char *) conf + cmd->offset);

    if (*sp != NGX_CONF_UNSET_SIZE) {
        return "is duplicate";
    }

    value = cf->args->elts;
    n = ngx_parse_size(&value[1]);

    if (n == NGX_ERROR || n == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid value \"%V\" in \"%V\" directive, "
                           "it must be a size of at least 1 byte "
                           "(as 512k or 1m)", &value[1], &cmd->name);
        return NGX_CONF_ERROR;
    }

    *sp = (size_t) n;

    return NGX_CONF_OK;
}


/* the ACME base URL: http:// or https://, a host, no query or userinfo */

static char *
ngx_http_stepca_set_base_url(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char       *rv;
    u_char     *p, *last;
    ngx_str_t  *field;

    rv = ngx_conf_set_str_slot(cf, cmd, conf);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    field = (ngx_str_t *) ((char *) conf + cmd->offset);
    p = field->data;
    last = p + field->len;

    if (field->len > 8 && ngx_strncmp(p, "https://", 8) == 0) {
        p += 8;

    } else if (field->len > 7 && ngx_strncmp(p, "http://", 7) == 0) {
        p += 7;

    } else {
        goto invalid;
    }

    if (*p == '/' || *p == ':') {
        goto invalid;
    }

    for ( /* void */ ; p < last; p++) {
        if (*p <= 0x20 || *p >= 0x7f || *p == '?' || *p == '#' || *p == '@'
            || *p == '\\')
        {
            goto invalid;
        }
    }

    return ngx_http_stepca_cstr(cf, field);

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid value \"%V\" in \"%V\" directive, "
                       "it must be an http:// or https:// URL with a host",
                       field, &cmd->name);
    return NGX_CONF_ERROR;
}


/* the dns-01 resolver: ip, ip:port, [ipv6] or [ipv6]:port */

static char *
ngx_http_stepca_set_resolver(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    char       *rv;
    u_char     *p, *last, *colon;
    ngx_str_t  *field;
#if (NGX_HAVE_INET6)
    u_char      addr6[16];
#endif

    rv = ngx_conf_set_str_slot(cf, cmd, conf);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    field = (ngx_str_t *) ((char *) conf + cmd->offset);
    p = field->data;
    last = p + field->len;

    if (field->len == 0) {
        goto invalid;
    }

#if (NGX_HAVE_INET6)
    if (*p == '[') {
        colon = ngx_strlchr(p, last, ']');

        if (colon == NULL
            || ngx_inet6_addr(p + 1, colon - p - 1, addr6) != NGX_OK)
        {
            goto invalid;
        }

        if (colon + 1 == last
            || (colon[1] == ':'
                && ngx_http_stepca_is_port(colon + 2, last - colon - 2)))
        {
            return ngx_http_stepca_cstr(cf, field);
        }

        goto invalid;
    }

    if (ngx_inet6_addr(p, field->len, addr6) == NGX_OK) {
        return ngx_http_stepca_cstr(cf, field);
    }
#endif

    colon = ngx_strlchr(p, last, ':');

    if (colon == NULL) {
        colon = last;

    } else if (!ngx_http_stepca_is_port(colon + 1, last - colon - 1)) {
        goto invalid;
    }

    if (ngx_inet_addr(p, colon - p) == INADDR_NONE) {
        goto invalid;
    }

    return ngx_http_stepca_cstr(cf, field);

invalid:

    ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                       "invalid value \"%V\" in \"%V\" directive, "
                       "it must be ip[:port] or [ipv6][:port]",
                       field, &cmd->name);
    return NGX_CONF_ERROR;
}


static ngx_int_t
ngx_http_stepca_is_port(u_char *p, size_t len)
{
    ngx_int_t  n;

    n = ngx_atoi(p, len);

    return n >= 1 && n <= 65535;
}


/* stepca_trusted_proxy <address or CIDR>: may be repeated */

static char *
ngx_http_stepca_trusted_proxy(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_stepca_srv_conf_t *sscf = conf;

    ngx_int_t    rc;
    ngx_str_t   *value;
    ngx_cidr_t  *cidr;

    value = cf->args->elts;

    if (sscf->trusted_proxies == NGX_CONF_UNSET_PTR) {
        sscf->trusted_proxies = ngx_array_create(cf->pool, 2,
                                                 sizeof(ngx_cidr_t));
        if (sscf->trusted_proxies == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    cidr = ngx_array_push(sscf->trusted_proxies);
    if (cidr == NULL) {
        return NGX_CONF_ERROR;
    }

    rc = ngx_ptocidr(&value[1], cidr);

    if (rc == NGX_ERROR) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid value \"%V\" in \"%V\" directive",
                           &value[1], &cmd->name);
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


static void *
ngx_http_stepca_create_main_conf(ngx_conf_t *cf)
{
    ngx_http_stepca_main_conf_t  *smcf;

    smcf = ngx_pcalloc(cf->pool, sizeof(ngx_http_stepca_main_conf_t));
    if (smcf == NULL) {
        return NULL;
    }

    if (ngx_array_init(&smcf->cas, cf->pool, 2,
                       sizeof(ngx_http_stepca_ca_t *))
        != NGX_OK)
    {
        return NULL;
    }

    if (ngx_array_init(&smcf->tls, cf->pool, 1,
                       sizeof(ngx_http_stepca_tls_t *))
        != NGX_OK)
    {
        return NULL;
    }

    return smcf;
}


static void *
ngx_http_stepca_create_srv_conf(ngx_conf_t *cf)
{
    ngx_http_stepca_srv_conf_t  *sscf;

    sscf = ngx_pcalloc(cf->pool, sizeof(ngx_http_stepca_srv_conf_t));
    if (sscf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     sscf->ca_json = { 0, NULL };
     *     sscf->password_file = { 0, NULL };
     *     sscf->issuer_password_file = { 0, NULL };
     *     sscf->store = { 0, NULL };
     *     sscf->thread_pool_name = { 0, NULL };
     *     sscf->client_cert_header = { 0, NULL };
     *     sscf->acme_base_url = { 0, NULL };
     *     sscf->acme_dns_resolver = { 0, NULL };
     *     sscf->thread_pool = NULL;
     *     sscf->ca = NULL;
     *     sscf->used = 0;
     */

    sscf->trusted_proxies = NGX_CONF_UNSET_PTR;
    sscf->acme_http01_port = NGX_CONF_UNSET;
    sscf->acme_tls_alpn01_port = NGX_CONF_UNSET;
    sscf->acme_validation_threads = NGX_CONF_UNSET;
    sscf->acme_validation_queue = NGX_CONF_UNSET;
    sscf->max_body_size = NGX_CONF_UNSET_SIZE;
    sscf->tls_certificate = NGX_CONF_UNSET;
    sscf->tls_lifetime = NGX_CONF_UNSET;
    sscf->realip_index = NGX_ERROR;

    if (cf->conf_file) {
        sscf->file = cf->conf_file->file.name.data;
        sscf->line = cf->conf_file->line;
    }

    return sscf;
}


static char *
ngx_http_stepca_merge_srv_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_stepca_srv_conf_t *prev = parent;
    ngx_http_stepca_srv_conf_t *conf = child;

    ngx_str_t  realip = ngx_string("realip_remote_addr");

    /* "" means unset for the strings below: the library takes NULL */

    ngx_conf_merge_str_value(conf->ca_json, prev->ca_json, "");
    ngx_conf_merge_str_value(conf->password_file, prev->password_file, "");
    ngx_conf_merge_str_value(conf->issuer_password_file,
                             prev->issuer_password_file, "");
    ngx_conf_merge_str_value(conf->store, prev->store,
                             NGX_HTTP_STEPCA_DEFAULT_STORE);
    ngx_conf_merge_str_value(conf->thread_pool_name, prev->thread_pool_name,
                             NGX_HTTP_STEPCA_DEFAULT_POOL);
    ngx_conf_merge_str_value(conf->client_cert_header,
                             prev->client_cert_header, "");
    ngx_conf_merge_ptr_value(conf->trusted_proxies, prev->trusted_proxies,
                             NULL);

    ngx_conf_merge_str_value(conf->acme_base_url, prev->acme_base_url, "");
    ngx_conf_merge_str_value(conf->acme_dns_resolver,
                             prev->acme_dns_resolver, "");

    /* 0: the library's default */
    ngx_conf_merge_value(conf->acme_http01_port, prev->acme_http01_port, 0);
    ngx_conf_merge_value(conf->acme_tls_alpn01_port,
                         prev->acme_tls_alpn01_port, 0);
    ngx_conf_merge_value(conf->acme_validation_threads,
                         prev->acme_validation_threads, 0);
    ngx_conf_merge_value(conf->acme_validation_queue,
                         prev->acme_validation_queue, 0);

    ngx_conf_merge_size_value(conf->max_body_size, prev->max_body_size,
                              NGX_HTTP_STEPCA_MAX_BODY);

    ngx_conf_merge_value(conf->tls_certificate, prev->tls_certificate, 0);
    ngx_conf_merge_sec_value(conf->tls_lifetime, prev->tls_lifetime,
                             NGX_HTTP_STEPCA_TLS_LIFETIME);

    if (conf->tls_lifetime < 60) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "stepca: \"stepca_tls_certificate_lifetime\" of the "
                      "server in %s:%ui is %T s: it must be at least 60s",
                      conf->file, conf->line, conf->tls_lifetime);
        return NGX_CONF_ERROR;
    }

    if (conf->tls_certificate && conf->ca_json.len == 0) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "stepca: \"stepca_tls_certificate\" is on in the "
                      "server in %s:%ui but \"stepca_ca_json\" is not set "
                      "for it", conf->file, conf->line);
        return NGX_CONF_ERROR;
    }

    if (conf->ca_json.len == 0) {
        if (conf->used) {
            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "stepca: \"stepca\" is used in %s:%ui but "
                          "\"stepca_ca_json\" is not set for its server",
                          conf->used_file, conf->used_line);
            return NGX_CONF_ERROR;
        }

        return NGX_CONF_OK;
    }

    if (ngx_http_stepca_cstr(cf, &conf->store) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }

    if (conf->client_cert_header.len) {
        if (conf->trusted_proxies == NULL) {
            ngx_log_error(NGX_LOG_WARN, cf->log, 0,
                          "stepca: \"stepca_client_cert_header\" is set "
                          "but no \"stepca_trusted_proxy\": the header "
                          "will always be ignored");
        }

        conf->realip_index = ngx_http_get_variable_index(cf, &realip);
        if (conf->realip_index == NGX_ERROR) {
            return NGX_CONF_ERROR;
        }
    }

    /* a pool other than "default" must be declared by "thread_pool" */

    conf->thread_pool = ngx_thread_pool_add(cf, &conf->thread_pool_name);
    if (conf->thread_pool == NULL) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/*
 * Loads one authority per distinct CA configuration: a server that merely
 * inherits (or repeats) another's settings shares its authority.  Runs
 * after every server's configuration is merged.
 */

static ngx_int_t
ngx_http_stepca_postconfiguration(ngx_conf_t *cf)
{
    ngx_uint_t                    s, i;
    ngx_http_stepca_ca_t         *ca, **cas;
    ngx_http_stepca_tls_t        *tls, **tlsp;
    ngx_http_core_srv_conf_t    **cscfp;
    ngx_http_core_main_conf_t    *cmcf;
    ngx_http_stepca_srv_conf_t   *sscf, *other;
    ngx_http_stepca_main_conf_t  *smcf;

    smcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_stepca_module);
    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    cscfp = cmcf->servers.elts;

    for (s = 0; s < cmcf->servers.nelts; s++) {

        sscf = cscfp[s]->ctx->srv_conf[ngx_http_stepca_module.ctx_index];

        if (sscf->ca_json.len == 0) {
            continue;
        }

        cas = smcf->cas.elts;
        ca = NULL;

        for (i = 0; i < smcf->cas.nelts; i++) {
            if (ngx_http_stepca_same_ca(cas[i]->conf, sscf)) {
                ca = cas[i];
                break;
            }
        }

        if (ca == NULL) {
            ca = ngx_http_stepca_load(cf, smcf, sscf);
            if (ca == NULL) {
                return NGX_ERROR;
            }
        }

        sscf->ca = ca;

        if (!sscf->tls_certificate) {
            continue;
        }

        tls = ngx_http_stepca_tls_create(cf, cscfp[s], ca->authority,
                                         sscf->thread_pool,
                                         sscf->tls_lifetime,
                                         smcf->tls.nelts, sscf->file,
                                         sscf->line);
        if (tls == NULL) {
            return NGX_ERROR;
        }

        tlsp = ngx_array_push(&smcf->tls);
        if (tlsp == NULL) {
            return NGX_ERROR;
        }

        *tlsp = tls;
    }

    /* two CAs must not write the same store: LMDB cannot be opened twice */

    cas = smcf->cas.elts;

    for (i = 0; i < smcf->cas.nelts; i++) {
        for (s = i + 1; s < smcf->cas.nelts; s++) {

            if (cas[i]->store_id.len != cas[s]->store_id.len
                || ngx_strncmp(cas[i]->store_id.data, cas[s]->store_id.data,
                               cas[i]->store_id.len)
                   != 0)
            {
                continue;
            }

            sscf = cas[i]->conf;
            other = cas[s]->conf;

            ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                          "stepca: the CA of %V (server in %s:%ui) and the "
                          "CA of %V (server in %s:%ui) use the same store "
                          "\"%V\": give each CA configuration its own "
                          "\"stepca_store\"",
                          &sscf->ca_json, sscf->file, sscf->line,
                          &other->ca_json, other->file, other->line,
                          &cas[i]->store_id);
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_stepca_same_ca(ngx_http_stepca_srv_conf_t *a,
    ngx_http_stepca_srv_conf_t *b)
{
#define ngx_http_stepca_same_str(f)                                           \
    (a->f.len == b->f.len && ngx_strncmp(a->f.data, b->f.data, a->f.len) == 0)

    return ngx_http_stepca_same_str(ca_json)
           && ngx_http_stepca_same_str(password_file)
           && ngx_http_stepca_same_str(issuer_password_file)
           && ngx_http_stepca_same_str(store)
           && ngx_http_stepca_same_str(acme_base_url)
           && ngx_http_stepca_same_str(acme_dns_resolver)
           && a->acme_http01_port == b->acme_http01_port
           && a->acme_tls_alpn01_port == b->acme_tls_alpn01_port
           && a->acme_validation_threads == b->acme_validation_threads
           && a->acme_validation_queue == b->acme_validation_queue;

#undef ngx_http_stepca_same_str
}


/* "lmdb:/dir/?map_size=N" -> "lmdb:/dir"; any other URI as it is */

static void
ngx_http_stepca_store_id(ngx_str_t *store, ngx_str_t *id)
{
    u_char  *q;

    *id = *store;

    if (id->len < 5 || ngx_strncmp(id->data, "lmdb:", 5) != 0) {
        return;
    }

    q = ngx_strlchr(id->data, id->data + id->len, '?');
    if (q) {
        id->len = q - id->data;
    }

    while (id->len > 6 && id->data[id->len - 1] == '/') {
        id->len--;
    }
}


static ngx_http_stepca_ca_t *
ngx_http_stepca_load(ngx_conf_t *cf, ngx_http_stepca_main_conf_t *smcf,
    ngx_http_stepca_srv_conf_t *sscf)
{
    size_t                 i, size;
    u_char                *last;
    ngx_str_t              name;
    const char            *w;
    stepca_options_t       opts;
    ngx_pool_cleanup_t    *cln;
    ngx_http_stepca_ca_t  *ca, **cap;
    char                   err[STEPCA_ERRLEN];

    ca = ngx_pcalloc(cf->pool, sizeof(ngx_http_stepca_ca_t));
    if (ca == NULL) {
        return NULL;
    }

    cln = ngx_pool_cleanup_add(cf->pool, 0);
    if (cln == NULL) {
        return NULL;
    }

    ngx_memzero(&opts, sizeof(stepca_options_t));

    opts.ca_json_path = (const char *) sscf->ca_json.data;
    opts.password_file = sscf->password_file.len
                         ? (const char *) sscf->password_file.data : NULL;
    opts.issuer_password_file = sscf->issuer_password_file.len
                         ? (const char *) sscf->issuer_password_file.data : NULL;
    opts.store_uri = (const char *) sscf->store.data;
    opts.version = NULL;
    opts.acme_base_url = sscf->acme_base_url.len
                         ? (const char *) sscf->acme_base_url.data : NULL;
    opts.acme_http01_port = (int) sscf->acme_http01_port;
    opts.acme_tls_alpn01_port = (int) sscf->acme_tls_alpn01_port;
    opts.acme_dns_resolver = sscf->acme_dns_resolver.len
                             ? (const char *) sscf->acme_dns_resolver.data
                             : NULL;
    opts.acme_validation_threads = (size_t) sscf->acme_validation_threads;
    opts.acme_validation_queue = (size_t) sscf->acme_validation_queue;

    err[0] = '\0';

    ca->authority = stepca_authority_load(&opts, err, sizeof(err));

    if (ca->authority == NULL) {
        err[sizeof(err) - 1] = '\0';
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0, "stepca: %s",
                      err[0] ? err : "cannot load the authority");
        return NULL;
    }

    cln->handler = ngx_http_stepca_authority_cleanup;
    cln->data = ca->authority;

    for (i = 0; /* void */; i++) {
        w = stepca_authority_warning(ca->authority, i);
        if (w == NULL) {
            break;
        }

        ngx_log_error(NGX_LOG_WARN, cf->log, 0, "stepca: %s", w);
    }

    ca->conf = sscf;
    ngx_http_stepca_store_id(&sscf->store, &ca->store_id);

    /*
     * The counters' zone is named after the CA's configuration, so that a
     * reload finds the zone of the same CA again and keeps its counters;
     * its size is fixed for the same reason.
     */

    name.len = sizeof("stepca_metrics:") - 1 + sscf->ca_json.len + 1
               + ca->store_id.len;
    name.data = ngx_pnalloc(cf->pool, name.len);
    if (name.data == NULL) {
        return NULL;
    }

    last = ngx_sprintf(name.data, "stepca_metrics:%V|%V", &sscf->ca_json,
                       &ca->store_id);
    name.len = last - name.data;

    size = ngx_align(stepca_metrics_size(), ngx_pagesize) + 8 * ngx_pagesize;

    ca->metrics_zone = ngx_shared_memory_add(cf, &name, size,
                                             &ngx_http_stepca_module);
    if (ca->metrics_zone == NULL) {
        return NULL;
    }

    ca->metrics_zone->init = ngx_http_stepca_init_metrics_zone;
    ca->metrics_zone->data = ca;

    cap = ngx_array_push(&smcf->cas);
    if (cap == NULL) {
        return NULL;
    }

    *cap = ca;

    return ca;
}


/*
 * The counters' shared memory.  data is the zone's data in the previous
 * cycle when nginx reuses the zone on reload: the counters found there are
 * kept.
 */

static ngx_int_t
ngx_http_stepca_init_metrics_zone(ngx_shm_zone_t *shm_zone, void *data)
{
    ngx_http_stepca_ca_t *ca = shm_zone->data;

    size_t            size;
    void             *mem;
    ngx_slab_pool_t  *shpool;
    char              err[STEPCA_ERRLEN];

    shpool = (ngx_slab_pool_t *) shm_zone->shm.addr;
    size = stepca_metrics_size();

    if (data || shm_zone->shm.exists) {
        mem = shpool->data;

    } else {
        mem = ngx_slab_calloc(shpool, size);
        if (mem == NULL) {
            ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0,
                          "stepca: no room for the counters in zone \"%V\"",
                          &shm_zone->shm.name);
            return NGX_ERROR;
        }

        shpool->data = mem;
    }

    err[0] = '\0';

    if (stepca_authority_use_metrics_memory(ca->authority, mem, size, err,
                                            sizeof(err))
        != 0)
    {
        err[sizeof(err) - 1] = '\0';
        ngx_log_error(NGX_LOG_EMERG, shm_zone->shm.log, 0, "stepca: %s", err);
        return NGX_ERROR;
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
    ngx_uint_t                    i;
    ngx_core_conf_t              *ccf;
    ngx_http_stepca_ca_t        **cas;
    ngx_http_stepca_main_conf_t  *smcf;
    char                          err[STEPCA_ERRLEN];

    smcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_stepca_module);

    if (smcf == NULL || smcf->cas.nelts == 0 || ngx_test_config) {
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

    cas = smcf->cas.elts;

    for (i = 0; i < smcf->cas.nelts; i++) {
        err[0] = '\0';

        if (stepca_authority_prepare_store(cas[i]->authority, uid, gid,
                                           err, sizeof(err))
            != 0)
        {
            err[sizeof(err) - 1] = '\0';
            ngx_log_error(NGX_LOG_EMERG, cycle->log, 0, "stepca: %s",
                          err[0] ? err : "cannot prepare the store");
            return NGX_ERROR;
        }
    }

    return NGX_OK;
}


static ngx_int_t
ngx_http_stepca_init_process(ngx_cycle_t *cycle)
{
    ngx_uint_t                    i;
    ngx_http_stepca_ca_t        **cas;
    ngx_http_stepca_tls_t       **tls;
    ngx_http_stepca_main_conf_t  *smcf;
    char                          err[STEPCA_ERRLEN];

    smcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_stepca_module);

    if (smcf == NULL) {
        return NGX_OK;
    }

    cas = smcf->cas.elts;

    for (i = 0; i < smcf->cas.nelts; i++) {
        err[0] = '\0';

        if (stepca_authority_init_process(cas[i]->authority, err,
                                          sizeof(err))
            != 0)
        {
            /* the worker keeps running; this CA answers 500 and logs why */
            err[sizeof(err) - 1] = '\0';
            ngx_log_error(NGX_LOG_ALERT, cycle->log, 0, "stepca: %s",
                          err[0] ? err : "cannot initialize the worker");
            continue;
        }

        cas[i]->ready = 1;
    }

    tls = smcf->tls.elts;

    for (i = 0; i < smcf->tls.nelts; i++) {
        if (ngx_http_stepca_tls_init_process(cycle, tls[i]) != NGX_OK) {
            ngx_log_error(NGX_LOG_ALERT, cycle->log, 0,
                          "stepca: cannot arm the TLS certificate renewal "
                          "of the server in %s:%ui", tls[i]->file,
                          tls[i]->line);
        }
    }

    return NGX_OK;
}


static void
ngx_http_stepca_exit_process(ngx_cycle_t *cycle)
{
    ngx_uint_t                    i;
    ngx_http_stepca_ca_t        **cas;
    ngx_http_stepca_main_conf_t  *smcf;

    smcf = ngx_http_cycle_get_module_main_conf(cycle, ngx_http_stepca_module);

    if (smcf == NULL) {
        return;
    }

    cas = smcf->cas.elts;

    for (i = 0; i < smcf->cas.nelts; i++) {
        if (cas[i]->ready) {
            cas[i]->ready = 0;
            stepca_authority_exit_process(cas[i]->authority);
        }
    }
}
