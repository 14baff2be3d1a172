#!/usr/bin/python3
"""The handshake cost of "stepca_tls_certificate on" against a plain
ssl_certificate (bench/README.md, "The CA's own TLS certificate").

One nginx (1 worker) with two servers on two 127.0.0.1 ports: one serves a
P-256 leaf + intermediate from files (ssl_certificate), the other the CA's
own certificate (also P-256 + intermediate). Full handshakes (no session
reuse), alternating between the two, then a GET /health on each. Prints
the median and the 90th percentile of each; never fails on timing.

    STEPCA_BUILD=$PWD/build /usr/bin/python3 bench/tls_handshake.py [N]
"""

import os
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "t"))

from conftest import (MODULE, NGINX, NGINX_HEAD, copy_pki, free_port,  # noqa: E402
                      make_readable, make_server_cert, nginx_env, stop_process,
                      wait_for_port)

CONF = NGINX_HEAD + """\
    stepca_ca_json {ca_json};
    stepca_password_file {password};
    stepca_store lmdb:{prefix}/db;
    stepca_thread_pool stepca;

    server {{
        listen 127.0.0.1:{plain} ssl;
        ssl_certificate {crt};
        ssl_certificate_key {key};
        ssl_session_tickets off;
        location / {{ stepca; }}
    }}

    server {{
        listen 127.0.0.1:{own} ssl;
        stepca_tls_certificate on;
        ssl_session_tickets off;
        location / {{ stepca; }}
    }}
}}
"""


def handshake(port, ctx):
    t0 = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port)) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as s:
            elapsed = time.perf_counter() - t0
            s.sendall(b"GET /health HTTP/1.0\r\nHost: localhost\r\n\r\n")
            assert s.recv(64).startswith(b"HTTP/1.1 200")
    return elapsed


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    base = tempfile.mkdtemp(prefix="stepca-bench-tls-")
    os.chmod(base, 0o755)
    proc = None
    try:
        pki = copy_pki(os.path.join(base, "pki"))
        crt, key = make_server_cert(pki, os.path.join(base, "tls"))
        for d in ("conf", "tmp", "db"):
            os.makedirs(os.path.join(base, d))
        plain, own = free_port(), free_port()
        with open(os.path.join(base, "conf", "nginx.conf"), "w") as f:
            f.write(CONF.format(module=MODULE, workers=1, prefix=base, ca_json=pki.ca_json,
                                password=pki.password_file, crt=crt, key=key,
                                plain=plain, own=own))
        make_readable(base)
        log = open(os.path.join(base, "stdout.log"), "wb")
        proc = subprocess.Popen([NGINX, "-p", base, "-c", "conf/nginx.conf"],
                                stdout=log, stderr=subprocess.STDOUT, env=nginx_env())
        assert wait_for_port(plain, proc) and wait_for_port(own, proc)

        ctx = ssl.create_default_context(cafile=pki.root_crt)
        ctx.check_hostname = True
        times = {plain: [], own: []}
        for _ in range(100):  # warm-up
            handshake(plain, ctx)
            handshake(own, ctx)
        for _ in range(n):
            times[plain].append(handshake(plain, ctx))
            times[own].append(handshake(own, ctx))

        print("full TLS handshakes (P-256 leaf + intermediate, TLS 1.3), n=%d each" % n)
        print("| server | median ms | p90 ms |")
        print("|---|---|---|")
        for name, port in (("ssl_certificate (files)", plain),
                           ("stepca_tls_certificate on", own)):
            t = sorted(times[port])
            print("| %s | %.3f | %.3f |" % (name, statistics.median(t) * 1e3,
                                            t[int(len(t) * 0.9)] * 1e3))
    finally:
        if proc is not None:
            stop_process(proc, signal.SIGQUIT)
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
