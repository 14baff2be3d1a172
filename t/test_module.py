"""The module inside the stock nginx: configuration test, the simplest CA
routes over TLS, request ids, reload, concurrency, request bodies."""

import concurrent.futures
import json
import re
import socket
import ssl

import pytest

UUID4_RE = re.compile(
    r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")

ERROR_500 = {
    "status": 500,
    "message": "The certificate authority encountered an Internal Server "
               "Error. Please see the certificate authority logs for more info.",
}


def test_nginx_t_succeeds(nginx_factory):
    n = nginx_factory()
    res = n.test_config()
    assert res.returncode == 0, res.stderr
    assert "test is successful" in res.stderr
    assert "[emerg]" not in res.stderr


def test_health(nginx):
    status, headers, body = nginx.get("/health")
    assert status == 200
    assert body == b'{"status":"ok"}\n'
    assert headers["Content-Type"] == "application/json"
    assert headers["Content-Length"] == str(len(body))


def test_health_head_has_no_body(nginx):
    status, headers, body = nginx.request("HEAD", "/health")
    assert status == 200
    assert body == b""
    assert headers["Content-Length"] == "16"


def test_unknown_path_404(nginx):
    status, headers, body = nginx.get("/no/such/path")
    assert status == 404
    assert body == b"404 page not found\n"
    assert headers["Content-Type"] == "text/plain; charset=utf-8"


def test_sign_get_405(nginx):
    status, headers, body = nginx.get("/1.0/sign")
    assert status == 405
    assert body == b""
    assert headers["Content-Length"] == "0"
    assert headers.get("Content-Type") is None


def test_request_id_echoed(nginx):
    status, headers, _ = nginx.get("/health", headers={"X-Request-Id": "req-12345"})
    assert status == 200
    assert headers["X-Request-Id"] == "req-12345"


def test_request_id_generated(nginx):
    ids = set()
    for _ in range(3):
        status, headers, _ = nginx.get("/health")
        assert status == 200
        rid = headers["X-Request-Id"]
        assert UUID4_RE.match(rid), rid
        ids.add(rid)
    assert len(ids) == 3


def test_reload_keeps_serving(nginx):
    assert nginx.get("/health")[0] == 200
    nginx.reload()
    for _ in range(5):
        status, _, body = nginx.get("/health")
        assert status == 200
        assert body == b'{"status":"ok"}\n'
    nginx.reload()
    assert nginx.get("/health")[0] == 200


def test_50_concurrent_requests(nginx):
    def one(i):
        return nginx.get("/health", headers={"X-Request-Id": "c-%d" % i})

    with concurrent.futures.ThreadPoolExecutor(max_workers=50) as ex:
        results = list(ex.map(one, range(50)))
    for i, (status, headers, body) in enumerate(results):
        assert status == 200
        assert body == b'{"status":"ok"}\n'
        assert headers["X-Request-Id"] == "c-%d" % i


def test_keepalive_connection_serves_many(nginx):
    conn = nginx.connection()
    try:
        for _ in range(10):
            conn.request("GET", "/health")
            resp = conn.getresponse()
            assert resp.status == 200
            assert resp.read() == b'{"status":"ok"}\n'
    finally:
        conn.close()


def test_body_over_1mib_is_413(nginx_factory):
    n = nginx_factory(server_extra="        client_max_body_size 8m;\n").start()
    status, _, _ = n.request("POST", "/1.0/sign", body=b"x" * (1024 * 1024 + 1),
                             headers={"Content-Type": "application/json"})
    assert status == 413


def test_chunked_body_over_1mib_is_413(nginx_factory):
    n = nginx_factory(server_extra="        client_max_body_size 8m;\n").start()

    def chunks():
        for _ in range(33):
            yield b"y" * 32768

    conn = n.connection()
    try:
        conn.request("POST", "/1.0/sign", body=chunks(), encode_chunked=True,
                     headers={"Content-Type": "application/json",
                              "Transfer-Encoding": "chunked"})
        assert conn.getresponse().status == 413
    finally:
        conn.close()


def test_body_spooled_to_file_is_read(nginx_factory):
    """A body larger than client_body_buffer_size goes to a temp file; the
    module reads it in the pool thread. The library sees garbage JSON and
    answers a 4xx, never a 500."""
    n = nginx_factory(server_extra="        client_body_buffer_size 1k;\n").start()
    status, _, body = n.request("POST", "/1.0/sign", body=b"{" * 200000,
                                headers={"Content-Type": "application/json"})
    assert 400 <= status < 500, (status, body)


def test_client_gone_while_task_runs(nginx):
    """The client sends a request and disconnects at once; the worker must
    keep the request alive until the task finishes and keep serving."""
    ctx = nginx.ssl_context()
    for _ in range(20):
        raw = socket.create_connection(("127.0.0.1", nginx.port), timeout=10)
        s = ctx.wrap_socket(raw, server_hostname="127.0.0.1")
        body = b'{"csr":"x","ott":"y"}'
        s.sendall(b"POST /1.0/sign HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                  b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                  % (len(body), body))
        s.close()
    status, _, _ = nginx.get("/health")
    assert status == 200


def test_workers_serve_after_many_requests_with_redis(nginx_factory, redis_server):
    n = nginx_factory(store=redis_server.uri).start()
    for _ in range(5):
        status, _, body = n.get("/health")
        assert status == 200
        assert body == b'{"status":"ok"}\n'


@pytest.mark.allow_error_log
def test_missing_thread_pool_is_a_config_error(nginx_factory):
    """stepca_thread_pool names a pool that no thread_pool line declares."""
    n = nginx_factory(pool="nosuchpool")
    res = n.test_config()
    assert res.returncode != 0
    assert 'unknown thread pool "nosuchpool"' in res.stderr


def test_confd_stepca_conf_parses(nginx_factory, pki, server_tls, prefix):
    """conf.d/stepca.conf, with its paths pointed at the fixtures, passes
    `nginx -t` in the stock nginx."""
    import os
    from conftest import REPO, free_port
    n = nginx_factory()
    with open(os.path.join(REPO, "conf.d", "stepca.conf")) as f:
        text = f.read()
    crt, key = server_tls
    for old, new in (("/etc/step-ca/config/ca.json", pki.ca_json),
                     ("/etc/step-ca/secrets/password.txt", pki.password_file),
                     ("/etc/step-ca/tls/server.crt", crt),
                     ("/etc/step-ca/tls/server.key", key),
                     ("lmdb:/var/lib/nginx-stepca", "lmdb:" + os.path.join(n.prefix, "db")),
                     ("127.0.0.1:9443", "127.0.0.1:%d" % free_port())):
        assert old in text, old
        text = text.replace(old, new)
    with open(os.path.join(n.prefix, "conf", "stepca.conf"), "w") as f:
        f.write(text)
    p = n.prefix
    with open(n.conf, "w") as f:
        f.write("load_module %s;\nerror_log %s/error.log info;\npid %s/nginx.pid;\n"
                "thread_pool stepca threads=4;\nevents { }\nhttp {\n"
                "    access_log off;\n    client_body_temp_path %s/tmp/cb;\n"
                "    proxy_temp_path %s/tmp/p;\n    fastcgi_temp_path %s/tmp/f;\n"
                "    uwsgi_temp_path %s/tmp/u;\n    scgi_temp_path %s/tmp/s;\n"
                "    include stepca.conf;\n}\n"
                % ((n.params["module"],) + (p,) * 7))
    res = n.test_config()
    assert res.returncode == 0, res.stderr
    assert "[emerg]" not in res.stderr


def test_confd_two_cas_conf_parses(nginx_factory, pki, server_tls):
    """conf.d/two-cas.conf: two servers, two CA configurations (here the
    same ca.json on two stores), ACME directives, passes `nginx -t`."""
    import os
    from conftest import REPO, free_port
    n = nginx_factory()
    with open(os.path.join(REPO, "conf.d", "two-cas.conf")) as f:
        text = f.read()
    crt, key = server_tls
    for name in ("internal", "devices"):
        for old, new in (("/etc/step-ca/%s/config/ca.json" % name, pki.ca_json),
                         ("/etc/step-ca/%s/secrets/password.txt" % name, pki.password_file),
                         ("/etc/step-ca/%s/tls/server.crt" % name, crt),
                         ("/etc/step-ca/%s/tls/server.key" % name, key),
                         ("lmdb:/var/lib/nginx-stepca/%s" % name,
                          "lmdb:" + os.path.join(n.prefix, "db-" + name))):
            assert old in text, old
            text = text.replace(old, new)
    for port in ("9443", "9444"):
        text = text.replace("listen %s ssl" % port, "listen 127.0.0.1:%d ssl" % free_port())
    with open(os.path.join(n.prefix, "conf", "two-cas.conf"), "w") as f:
        f.write(text)
    p = n.prefix
    with open(n.conf, "w") as f:
        f.write("load_module %s;\nerror_log %s/error.log info;\npid %s/nginx.pid;\n"
                "thread_pool stepca threads=4;\nevents { }\nhttp {\n"
                "    access_log off;\n    client_body_temp_path %s/tmp/cb;\n"
                "    proxy_temp_path %s/tmp/p;\n    fastcgi_temp_path %s/tmp/f;\n"
                "    uwsgi_temp_path %s/tmp/u;\n    scgi_temp_path %s/tmp/s;\n"
                "    include two-cas.conf;\n}\n"
                % ((n.params["module"],) + (p,) * 7))
    res = n.test_config()
    assert res.returncode == 0, res.stderr
    assert "[emerg]" not in res.stderr


def test_reload_under_load(nginx):
    """Requests in flight while workers are told to shut down (SIGHUP) all
    complete: a worker must not exit while a task is in the pool."""
    import threading
    stop = threading.Event()
    results = []

    def client():
        while not stop.is_set():
            results.append(nginx.get("/health")[0])

    threads = [threading.Thread(target=client) for _ in range(8)]
    for t in threads:
        t.start()
    try:
        for _ in range(3):
            nginx.reload()
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=30)
    assert results and all(s == 200 for s in results), set(results)


def test_legacy_request_id_used(nginx):
    status, headers, _ = nginx.get("/health", headers={"X-Smallstep-Id": "legacy-42"})
    assert status == 200
    assert headers["X-Request-Id"] == "legacy-42"


def test_lmdb_dir_belongs_to_worker_user(nginx):
    """The master prepares the LMDB directory for the worker user."""
    import os
    import pwd
    assert nginx.get("/health")[0] == 200
    db = nginx.store[len("lmdb:"):]
    assert os.path.isdir(db)
    if os.geteuid() == 0:
        assert os.stat(db).st_uid == pwd.getpwnam("nobody").pw_uid


@pytest.mark.allow_error_log
def test_reload_with_broken_ca_json_keeps_old_config(nginx):
    """A reload whose ca.json is broken is refused ([emerg] naming the file
    and the field); the running workers keep serving the old authority."""
    import os
    import signal
    import time
    doc = nginx.pki.read_ca_json()
    doc["authority"]["provisioners"][0]["type"] = "NOSUCHTYPE"
    nginx.pki.write_ca_json(doc)
    os.kill(nginx.proc.pid, signal.SIGHUP)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        log = nginx.read_file("error.log")
        if "authority.provisioners[0].type" in log:
            break
        time.sleep(0.05)
    else:
        raise AssertionError("no [emerg] after the reload:\n" + nginx.read_file("error.log"))
    emerg = [l for l in log.splitlines() if "[emerg]" in l]
    assert len(emerg) == 1 and "ca.json" in emerg[0], emerg
    for _ in range(5):
        assert nginx.get("/health")[0] == 200
    other = [l for l in log.splitlines()
             if any(t in l for t in ("[error]", "[crit]", "[alert]"))]
    assert not other, other
