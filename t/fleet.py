"""The loopback fleet for the tests: one redis-server (append-only), two nginx
CA nodes and the nginx stream balancer, from the same templates that
docker-compose.yml and scripts/fleet.sh use (conf.d/fleet-*.conf, rendered by
deploy/render.sh). Every process is our child, stopped by its PID."""

import concurrent.futures
import http.client
import json
import os
import shutil
import signal
import ssl
import subprocess
import time

from conftest import (REPO, START_TIMEOUT, free_port, make_readable, nginx_env,
                      stop_process, wait_for_port, NGINX, bad_log_lines)

RENDER = os.path.join(REPO, "deploy", "render.sh")
NODE_CONF = os.path.join(REPO, "conf.d", "fleet-node.conf")
BALANCER_CONF = os.path.join(REPO, "conf.d", "fleet-balancer.conf")
STREAM_MODULE = "/usr/lib/nginx/modules/ngx_stream_module.so"
PROVISIONER_PASSWORD = "fixture-provisioner-password"


def render(template, out, **values):
    env = dict(os.environ)
    env.update({k: str(v) for k, v in values.items()})
    subprocess.run([RENDER, template, out], check=True, env=env, timeout=30,
                   capture_output=True)


class FleetRedis:
    """redis-server as the compose file runs it: appendonly yes, everysec.
    DEBUG is allowed from 127.0.0.1 for the slow-store test."""

    def __init__(self, base):
        self.dir = base
        self.port = free_port()
        self.proc = None
        os.makedirs(base, exist_ok=True)

    def start(self):
        exe = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.proc = subprocess.Popen(
            [exe, "--port", str(self.port), "--bind", "127.0.0.1",
             "--daemonize", "no", "--save", "", "--appendonly", "yes",
             "--appendfsync", "everysec", "--enable-debug-command", "local",
             "--dir", self.dir, "--logfile", os.path.join(self.dir, "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not wait_for_port(self.port, self.proc):
            stop_process(self.proc, signal.SIGTERM)
            raise AssertionError("redis-server did not start on %d" % self.port)
        return self

    def stop(self):
        stop_process(self.proc, signal.SIGTERM)

    def cli(self, *args, timeout=30):
        return subprocess.run(["redis-cli", "-p", str(self.port)] + list(args),
                              capture_output=True, text=True, timeout=timeout).stdout

    def keys(self, prefix):
        return [k for k in self.cli("--scan", "--pattern", prefix + "*").split() if k]


class FleetNginx:
    """One nginx (a CA node or the balancer) on a rendered template."""

    def __init__(self, base, template, ports, **values):
        self.prefix = base
        self.ports = ports
        self.proc = None
        os.makedirs(os.path.join(base, "tmp"), exist_ok=True)
        self.conf = os.path.join(base, "nginx.conf")
        self.error_log = os.path.join(base, "error.log")
        render(template, self.conf, **values)
        make_readable(base)

    def start(self):
        self.stdout = open(os.path.join(self.prefix, "stdout.log"), "wb")
        self.proc = subprocess.Popen(
            [NGINX, "-p", self.prefix, "-c", self.conf, "-g", "daemon off;"],
            stdout=self.stdout, stderr=subprocess.STDOUT, env=nginx_env())
        for p in self.ports:
            if not wait_for_port(p, self.proc):
                out = self.read("stdout.log") + self.read("error.log")
                stop_process(self.proc)
                raise AssertionError("nginx did not start on %d:\n%s" % (p, out))
        return self

    def stop(self):
        if self.proc is not None:
            stop_process(self.proc, signal.SIGQUIT)
            self.stdout.close()

    def read(self, name):
        try:
            with open(os.path.join(self.prefix, name), errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def worker_starts(self):
        return self.read("error.log").count("start worker process")

    def reload(self, workers, timeout=START_TIMEOUT):
        """SIGHUP, then wait (bounded) for the new generation of workers."""
        before = self.worker_starts()
        os.kill(self.proc.pid, signal.SIGHUP)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.worker_starts() >= before + workers:
                return
            assert self.proc.poll() is None, "nginx exited on reload"
            time.sleep(0.05)
        raise AssertionError("no new workers after SIGHUP:\n" + self.read("error.log"))


class Fleet:
    """Redis, node A, node B, balancer, all on 127.0.0.1 free ports."""

    def __init__(self, base, pki, crt, key, module, workers=2, store_timeout="500ms"):
        self.base = base
        self.pki = pki
        self.workers = workers
        self.redis = FleetRedis(os.path.join(base, "redis"))
        store = "redis://127.0.0.1:%d/0?timeout=%s&connect_timeout=%s" % (
            self.redis.port, store_timeout, store_timeout)
        self.nodes = []
        for name in ("node-a", "node-b"):
            pp, direct = free_port(), free_port()
            n = FleetNginx(
                # Wait on the direct port only: a bare connect to the PROXY
                # protocol port is a "broken header" [error].
                os.path.join(base, name), NODE_CONF, [direct],
                STEPCA_MODULE=module, NODE_PREFIX=os.path.join(base, name),
                NODE_WORKERS=workers, NODE_LISTEN_PP="127.0.0.1:%d" % pp,
                NODE_LISTEN_DIRECT="127.0.0.1:%d" % direct, BALANCER_ADDR="127.0.0.1",
                STEPCA_CA_JSON=pki.ca_json, STEPCA_PASSWORD_FILE=pki.password_file,
                STEPCA_STORE=store, TLS_CRT=crt, TLS_KEY=key)
            n.name, n.pp_port, n.port = name, pp, direct
            self.nodes.append(n)
        self.a, self.b = self.nodes
        self.port = free_port()
        self.balancer = FleetNginx(
            os.path.join(base, "balancer"), BALANCER_CONF, [self.port],
            BALANCER_PREFIX=os.path.join(base, "balancer"),
            BALANCER_LISTEN="127.0.0.1:%d" % self.port,
            NODE_A_UPSTREAM="127.0.0.1:%d" % self.a.pp_port,
            NODE_B_UPSTREAM="127.0.0.1:%d" % self.b.pp_port)
        self.balancer.name = "balancer"
        self.ctx = ssl.create_default_context(cafile=pki.root_crt)

    def start(self):
        self.redis.start()
        for n in self.nodes:
            n.start()
        self.balancer.start()
        return self

    def stop(self):
        self.balancer.stop()
        for n in self.nodes:
            n.stop()
        self.redis.stop()

    def nginxes(self):
        return self.nodes + [self.balancer]

    # -- clients

    def request(self, method, path, port=None, body=None, timeout=30):
        """One request on a fresh connection: (status, body bytes)."""
        conn = http.client.HTTPSConnection("127.0.0.1", port or self.port,
                                           timeout=timeout, context=self.ctx)
        try:
            conn.request(method, path, body=body,
                         headers={"Content-Type": "application/json"} if body else {})
            resp = conn.getresponse()
            return resp.status, resp.read()
        finally:
            conn.close()

    def sign(self, csr, ott, port=None, timeout=30):
        return self.request("POST", "/1.0/sign", port=port, timeout=timeout,
                            body=json.dumps({"csr": csr, "ott": ott}))

    # -- logs

    def crashes(self):
        """Lines of any nginx error log telling of a worker killed by a signal."""
        out = []
        for n in self.nginxes():
            out += [l for l in n.read("error.log").splitlines() if "exited on signal" in l]
        return out

    def bad_lines(self):
        out = []
        for n in self.nginxes():
            out += ["%s: %s" % (n.name, l) for l in bad_log_lines(n.read("error.log"))]
        return out


def aud(port):
    return "https://127.0.0.1:%d/1.0/sign" % port
