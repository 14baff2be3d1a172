#!/usr/bin/python3
"""make bench: the whole benchmark, end to end, on this machine.

Makes one PKI per CA key type with `stepca init --kty EC|RSA`, starts its own
redis-server and nginx(es) on free 127.0.0.1 ports under a private scratch
directory, drives POST /1.0/sign with build/stepca_bench for every variant,
stops what it started by PID and prints the results table (Markdown).

Environment (defaults in brackets):
    STEPCA_BUILD            build directory [<repo>/build]
    NGINX                   nginx binary [/usr/sbin/nginx]
    REDIS_SERVER            redis-server binary [redis-server on PATH]
    BENCH_DIR               scratch directory [a new /tmp/stepca-bench-*]
    BENCH_KEEP              keep the scratch directory
    BENCH_KEYS              CA key types [EC,RSA]
    BENCH_STORES            stores [lmdb,redis]
    BENCH_WORKERS           nginx worker_processes [1,2]
    BENCH_MODES             connection modes [keepalive,new]
    BENCH_CONCURRENCY       concurrent connections [1,4,16,64]
    BENCH_SECONDS           measured seconds per variant, sized from the
                            warm-up's rate [3]
    BENCH_REQUESTS          at most this many requests per variant [20000]
    BENCH_WARMUP            warm-up requests per variant [100]
    BENCH_THREADS           nginx thread_pool threads per worker [4]
    BENCH_MEMORY_REQUESTS   issuances in the memory run [20000]; 0 skips it;
                            the issue's figure is 100000
    BENCH_INPROC_REQUESTS   requests of the library-alone runs [2000; LMDB 1/10]
    BENCH_MEMORY_STORE      store of the memory run [redis]
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.abspath(os.environ.get("STEPCA_BUILD", os.path.join(REPO, "build")))
NGINX = os.environ.get("NGINX", "/usr/sbin/nginx")
REDIS = os.environ.get("REDIS_SERVER") or shutil.which("redis-server") or "/usr/bin/redis-server"
SOFTHSM = "/usr/lib/softhsm/libsofthsm2.so"
STEPCA = os.path.join(BUILD, "stepca")
BENCH = os.path.join(BUILD, "stepca_bench")
MODULE = os.path.join(BUILD, "ngx_http_stepca_module.so")

START_TIMEOUT = 15.0
STOP_TIMEOUT = 15.0


def env_list(name, default):
    return [x.strip() for x in os.environ.get(name, default).split(",") if x.strip()]


def env_int(name, default):
    return int(os.environ.get(name, default))


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, proc, timeout=START_TIMEOUT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def stop_process(proc, sig=signal.SIGQUIT, timeout=STOP_TIMEOUT):
    """Stop one child we started, by its PID; SIGKILL after a bound."""
    if proc is None or proc.poll() is not None:
        return
    try:
        os.kill(proc.pid, sig)
        proc.wait(timeout=timeout)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=timeout)


def make_readable(top):
    """The nginx workers run as nobody when nginx runs as root."""
    for root, dirs, files in os.walk(top):
        os.chmod(root, os.stat(root).st_mode | 0o755)
        for f in files:
            p = os.path.join(root, f)
            os.chmod(p, os.stat(p).st_mode | 0o644)


def fs_type(path):
    try:
        return subprocess.run(["stat", "-f", "-c", "%T", path], capture_output=True,
                              text=True, timeout=10).stdout.strip()
    except OSError:
        return "?"


# ---------------------------------------------------------------- PKI


class Pki:
    def __init__(self, base, kty, kms=None, name=None):
        self.kty = kty
        self.dir = os.path.join(base, "pki-" + (name or kty.lower()))
        self.steppath = os.path.join(self.dir, "step")
        os.makedirs(self.dir)
        self.password_file = os.path.join(self.dir, "password.txt")
        self.prov_password_file = os.path.join(self.dir, "provisioner-password.txt")
        for p in (self.password_file, self.prov_password_file):
            with open(p, "w") as f:
                f.write(os.urandom(24).hex() + "\n")
        subprocess.run(
            [STEPCA, "init", "--name", "Bench CA " + kty, "--kty", kty,
             "--dns", "localhost", "--dns", "127.0.0.1", "--address", "127.0.0.1:9443",
             "--provisioner", "bench@bench.test",
             "--password-file", self.password_file,
             "--provisioner-password-file", self.prov_password_file,
             "--steppath", self.steppath, "--tls-files"] + (["--kms", kms] if kms else []),
            check=True, capture_output=True, timeout=120)
        make_readable(self.dir)
        self.ca_json = os.path.join(self.steppath, "config", "ca.json")
        self.root = os.path.join(self.steppath, "certs", "root_ca.crt")
        self.tls_crt = os.path.join(self.steppath, "certs", "tls.crt")
        self.tls_key = os.path.join(self.steppath, "secrets", "tls.key")


# ---------------------------------------------------------------- servers


class Redis:
    # Durable like a production token store: AOF, fsync once a second.
    DEFAULT = ["--appendonly", "yes", "--appendfsync", "everysec"]

    def __init__(self, base, name="redis", args=None):
        self.dir = os.path.join(base, name)
        os.makedirs(self.dir)
        self.port = free_port()
        self.log = open(os.path.join(self.dir, "stdout.log"), "wb")
        self.proc = subprocess.Popen(
            [REDIS, "--bind", "127.0.0.1", "--port", str(self.port), "--dir", self.dir,
             "--save", "", "--daemonize", "no", "--protected-mode", "yes",
             "--logfile", os.path.join(self.dir, "redis.log")] + (args or self.DEFAULT),
            stdout=self.log, stderr=subprocess.STDOUT)
        if not wait_for_port(self.port, self.proc):
            stop_process(self.proc, signal.SIGTERM)
            raise RuntimeError("redis-server did not start; see %s" % self.dir)

    def stop(self):
        stop_process(self.proc, signal.SIGTERM)
        self.log.close()


NGINX_CONF = """\
load_module {module};

daemon off;
master_process on;
worker_processes {workers};
error_log {prefix}/error.log notice;
pid {prefix}/nginx.pid;

thread_pool stepca threads={threads};

events {{
    worker_connections 1024;
}}

http {{
    access_log {prefix}/access.log combined buffer=64k flush=1s;
    client_body_temp_path {prefix}/tmp/client_body;
    proxy_temp_path {prefix}/tmp/proxy;
    fastcgi_temp_path {prefix}/tmp/fastcgi;
    uwsgi_temp_path {prefix}/tmp/uwsgi;
    scgi_temp_path {prefix}/tmp/scgi;
    keepalive_requests 1000000;

    stepca_ca_json {ca_json};
    stepca_password_file {password_file};
    stepca_store {store};
    stepca_thread_pool stepca;

    server {{
        listen 127.0.0.1:{port} ssl;
        server_name localhost;
        ssl_certificate {crt};
        ssl_certificate_key {key};
        ssl_protocols TLSv1.2 TLSv1.3;

        location / {{
            stepca;
        }}
    }}
}}
"""


class Nginx:
    def __init__(self, base, name, pki, store, workers, threads):
        self.prefix = os.path.join(base, name)
        os.makedirs(os.path.join(self.prefix, "conf"))
        os.makedirs(os.path.join(self.prefix, "tmp"))
        self.port = free_port()
        self.error_log = os.path.join(self.prefix, "error.log")
        with open(os.path.join(self.prefix, "conf", "nginx.conf"), "w") as f:
            f.write(NGINX_CONF.format(
                module=MODULE, workers=workers, threads=threads, prefix=self.prefix,
                ca_json=pki.ca_json, password_file=pki.password_file, store=store,
                port=self.port, crt=pki.tls_crt, key=pki.tls_key))
        make_readable(self.prefix)
        self.out = open(os.path.join(self.prefix, "stdout.log"), "wb")
        self.proc = subprocess.Popen([NGINX, "-p", self.prefix, "-c", "conf/nginx.conf"],
                                     stdout=self.out, stderr=subprocess.STDOUT)
        if not wait_for_port(self.port, self.proc):
            stop_process(self.proc)
            raise RuntimeError("nginx did not start:\n" + self.read("stdout.log") +
                               self.read("error.log"))

    def read(self, name):
        try:
            with open(os.path.join(self.prefix, name), errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def bad_log_lines(self):
        return [l for l in self.read("error.log").splitlines()
                if any(t in l for t in ("[error]", "[crit]", "[alert]", "[emerg]"))]

    def stop(self):
        stop_process(self.proc)
        self.out.close()


# ---------------------------------------------------------------- runs


def run_json(args, timeout):
    p = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    for line in p.stderr.splitlines():
        log("    " + line)
    for line in p.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    raise RuntimeError("%s failed (exit %d):\n%s" % (args[1], p.returncode, p.stderr))


def bound(pki):
    return run_json([BENCH, "bound", "--ca-json", pki.ca_json, "--seconds", "0.5"], 120)


def inproc(pki, store_uri, requests, bound_us):
    return run_json([BENCH, "inproc", "--ca-json", pki.ca_json,
                     "--password-file", pki.password_file,
                     "--provisioner-password-file", pki.prov_password_file,
                     "--store", store_uri, "--requests", str(requests),
                     "--bound-us", "%.3f" % bound_us], 600)


def sign(pki, nginx, store_flag, concurrency, mode, requests, warmup, seconds, bound_us,
         timeout=1800):
    args = [BENCH, "sign", "--port", str(nginx.port), "--ca-json", pki.ca_json,
            "--min-requests", "150",
            "--provisioner-password-file", pki.prov_password_file, "--root", pki.root,
            "--concurrency", str(concurrency), "--mode", mode,
            "--requests", str(requests), "--warmup", str(warmup),
            "--nginx-pid", str(nginx.proc.pid), "--bound-us", "%.3f" % bound_us]
    if seconds > 0:
        args += ["--seconds", str(seconds)]
    args += store_flag
    return run_json(args, timeout)


def fmt_fail(r):
    f = r.get("failures") or {}
    return ", ".join("%s:%d" % (k if k != "0" else "conn", v) for k, v in sorted(f.items())) or "0"


def main():
    keys = env_list("BENCH_KEYS", "EC,RSA")
    stores = env_list("BENCH_STORES", "lmdb,redis")
    workers_list = [int(x) for x in env_list("BENCH_WORKERS", "1,2")]
    modes = env_list("BENCH_MODES", "keepalive,new")
    concurrency = [int(x) for x in env_list("BENCH_CONCURRENCY", "1,4,16,64")]
    seconds = float(os.environ.get("BENCH_SECONDS", "3"))
    requests = env_int("BENCH_REQUESTS", 20000)
    warmup = env_int("BENCH_WARMUP", 100)
    threads = env_int("BENCH_THREADS", 4)
    mem_requests = env_int("BENCH_MEMORY_REQUESTS", 20000)
    inproc_requests = env_int("BENCH_INPROC_REQUESTS", 2000)
    mem_store = os.environ.get("BENCH_MEMORY_STORE", "redis")
    durability = env_list("BENCH_DURABILITY", "everysec,always,wait1")

    for f in (STEPCA, BENCH, MODULE, NGINX):
        if not os.path.exists(f):
            sys.exit("missing %s: run make first (make bench builds it)" % f)

    base = os.environ.get("BENCH_DIR") or tempfile.mkdtemp(prefix="stepca-bench-")
    os.makedirs(base, exist_ok=True)
    os.chmod(base, 0o755)
    started = time.monotonic()
    machine = {
        "cpus": os.cpu_count(),
        "cpu": next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
                     if l.startswith("model name")), "?"),
        "nginx": subprocess.run([NGINX, "-v"], capture_output=True, text=True).stderr.strip(),
        "openssl": subprocess.run(["openssl", "version"], capture_output=True,
                                  text=True).stdout.strip(),
        "scratch": base,
        "scratch_fs": fs_type(base),
        "loadavg_start": open("/proc/loadavg").read().split()[:3],
    }
    log("== stepca bench in %s (%s), %s CPUs: %s" % (base, machine["scratch_fs"],
                                                   machine["cpus"], machine["cpu"]))
    results, bounds, memory, log_problems, inprocs = [], {}, None, [], []
    durable = []
    redis = None
    running = []
    try:
        if "redis" in stores or (mem_requests > 0 and mem_store == "redis"):
            redis = Redis(base)
            running.append(redis)
            log("== redis-server on 127.0.0.1:%d (appendonly yes, appendfsync everysec)"
                % redis.port)
        pkis = {}
        for kty in keys:
            pkis[kty] = Pki(base, kty)
            bounds[kty] = bound(pkis[kty])

        def store_for(store, name):
            if store == "lmdb":
                d = os.path.join(base, name, "db")
                return "lmdb:" + d, ["--lmdb", d]
            uri = "redis://127.0.0.1:%d/0?prefix=%s:" % (redis.port, name)
            return uri, ["--redis", "127.0.0.1:%d" % redis.port]

        # The library alone (no nginx, no TLS), one thread.
        for kty in keys:
            for store in stores:
                name = "inproc-%s-%s" % (kty.lower(), store)
                uri, _ = store_for(store, name)
                if store == "lmdb":
                    os.makedirs(os.path.join(base, name), exist_ok=True)
                log("== %s: the library alone, CA key %s, store %s" % (name, kty, store))
                r = inproc(pkis[kty], uri, inproc_requests if store != "lmdb" else
                           max(50, inproc_requests // 10), bounds[kty]["per_cert_us"])
                r.update(kty=kty, store=store)
                inprocs.append(r)

        # The same with the CA key on a PKCS#11 token (SoftHSM2 in a private
        # directory): what signing through the module costs next to the file key.
        if (os.environ.get("BENCH_HSM", "1") != "0" and os.path.exists(SOFTHSM)
                and shutil.which("softhsm2-util")):
            hsm = os.path.join(base, "softhsm")
            os.makedirs(os.path.join(hsm, "tokens"))
            conf = os.path.join(hsm, "softhsm2.conf")
            with open(conf, "w") as f:
                f.write("directories.tokendir = %s/tokens\nobjectstore.backend = file\n"
                        "log.level = ERROR\n" % hsm)
            os.environ["SOFTHSM2_CONF"] = conf  # for stepca init and stepca_bench
            pin = os.urandom(8).hex()
            subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", "bench",
                            "--so-pin", os.urandom(8).hex(), "--pin", pin],
                           check=True, capture_output=True, timeout=60)
            hsm_pki = Pki(base, "EC", name="ec-softhsm", kms=(
                "pkcs11:module-path=%s;token=bench?pin-value=%s" % (SOFTHSM, pin)))
            hsm_bound = bounds["EC"]["per_cert_us"] if "EC" in bounds else 0
            for store in stores:
                name = "inproc-ec-softhsm-%s" % store
                uri, _ = store_for(store, name)
                if store == "lmdb":
                    os.makedirs(os.path.join(base, name), exist_ok=True)
                log("== %s: the library alone, CA key EC P-256 on SoftHSM, store %s"
                    % (name, store))
                r = inproc(hsm_pki, uri, inproc_requests if store != "lmdb" else
                           max(50, inproc_requests // 10), hsm_bound)
                r.update(kty="EC on SoftHSM (PKCS#11)", store=store)
                inprocs.append(r)

        # What each durability setting costs (docs/fleet.md): the library
        # alone, one thread, so the store's round trips and fsyncs are what
        # differs. wait1: a replica, and WAIT 1 after every write.
        settings = {
            "everysec": (["--appendonly", "yes", "--appendfsync", "everysec"], ""),
            "always": (["--appendonly", "yes", "--appendfsync", "always"], ""),
            "wait1": (["--appendonly", "yes", "--appendfsync", "everysec"],
                      "&wait=1&wait_timeout=500ms"),
        }
        if durability and durability != [""]:
            kty = "EC" if "EC" in pkis else keys[0]
            for setting in durability:
                args, query = settings[setting]
                master = Redis(base, "durability-" + setting, args)
                running.append(master)
                replica = None
                if setting == "wait1":
                    replica = Redis(base, "durability-replica", args + [
                        "--replicaof", "127.0.0.1", str(master.port)])
                    running.append(replica)
                    time.sleep(1.5)  # the initial sync
                uri = "redis://127.0.0.1:%d/0?prefix=dur:%s" % (master.port, query)
                log("== durability %s: the library alone, CA key %s" % (setting, kty))
                r = inproc(pkis[kty], uri, inproc_requests, bounds[kty]["per_cert_us"])
                r.update(kty=kty, setting=setting)
                durable.append(r)
                for p in (replica, master):
                    if p is not None:
                        p.stop()
                        running.remove(p)

        for kty in keys:
            for store in stores:
                for workers in workers_list:
                    name = "nginx-%s-%s-w%d" % (kty.lower(), store, workers)
                    uri, flag = store_for(store, name)
                    log("== %s: CA key %s, store %s, %d worker(s)" % (name, kty, store, workers))
                    ngx = Nginx(base, name, pkis[kty], uri, workers, threads)
                    running.append(ngx)
                    try:
                        for mode in modes:
                            for c in concurrency:
                                r = sign(pkis[kty], ngx, flag, c, mode, requests, warmup,
                                         seconds, bounds[kty]["per_cert_us"])
                                r.update(kty=kty, store=store, nworkers=workers)
                                results.append(r)
                    finally:
                        ngx.stop()
                        running.remove(ngx)
                    bad = ngx.bad_log_lines()
                    if bad:
                        log_problems.append((name, len(bad), bad[0]))

        if mem_requests > 0:
            kty = "EC" if "EC" in pkis else keys[0]
            name = "nginx-memory"
            uri, flag = store_for(mem_store, name)
            log("== memory: %d issuances, CA key %s, store %s, 2 workers, keep-alive c=16"
                % (mem_requests, kty, mem_store))
            ngx = Nginx(base, name, pkis[kty], uri, 2, threads)
            running.append(ngx)
            try:
                memory = sign(pkis[kty], ngx, flag, 16, "keepalive", mem_requests, 1000, 0,
                              bounds[kty]["per_cert_us"])
                memory.update(kty=kty, store=mem_store, nworkers=2)
            finally:
                ngx.stop()
                running.remove(ngx)
            bad = ngx.bad_log_lines()
            if bad:
                log_problems.append((name, len(bad), bad[0]))
    finally:
        for p in reversed(running):
            p.stop()
        out_dir = os.path.join(BUILD, "bench")
        os.makedirs(out_dir, exist_ok=True)
        with open(os.path.join(out_dir, "results.json"), "w") as f:
            json.dump({"machine": machine, "bounds": bounds, "inproc": inprocs, "runs": results,
                       "memory": memory, "log_problems": log_problems,
                       "durability": durable}, f, indent=1)
        if not os.environ.get("BENCH_KEEP") and not os.environ.get("BENCH_DIR"):
            shutil.rmtree(base, ignore_errors=True)
        else:
            log("kept %s" % base)

    machine["loadavg_end"] = open("/proc/loadavg").read().split()[:3]
    table = render(machine, bounds, inprocs, results, memory, log_problems,
                   time.monotonic() - started, durable)
    with open(os.path.join(BUILD, "bench", "results.md"), "w") as f:
        f.write(table)
    print(table)


def render(machine, bounds, inprocs, results, memory, log_problems, elapsed, durable=()):
    out = []
    w = out.append
    w("## stepca bench: %s CPUs (%s), %s, %s; scratch on %s; load average %s at start, %s at end"
      % (machine["cpus"], machine["cpu"], machine["nginx"], machine["openssl"],
         machine["scratch_fs"], " ".join(machine["loadavg_start"]),
         " ".join(machine["loadavg_end"])))
    w("")
    w("Crypto bound (OpenSSL, one core): token verify + CSR verify + one CA signature.")
    w("")
    w("| CA key | token verify | CSR verify | sign | per cert | certs/s per core |")
    w("|---|---|---|---|---|---|")
    for kty, b in bounds.items():
        w("| %s | %s %.1f us | %s %.1f us | %.1f us | %.1f us | %.0f |"
          % (b["ca_key"], b["token_alg"], b["token_verify_us"], b["csr_key"],
             b["csr_verify_us"], b["sign_us"], b["per_cert_us"], b["certs_per_core"]))
    w("")
    if inprocs:
        w("The library alone: stepca_handle(POST /1.0/sign) in one thread, no nginx, no TLS.")
        w("")
        w("| CA key | store | certs | CPU us/cert | x bound | certs/s (one thread) |")
        w("|---|---|---|---|---|---|")
        for r in inprocs:
            w("| %s | %s | %d | %.0f | %.2f | %.0f |"
              % (r["kty"], r["store"], r["ok"], r["cpu_per_cert_us"], r.get("cpu_vs_bound", 0),
                 r["ok"] / r["wall_s"] if r["wall_s"] else 0))
        w("")
    if durable:
        w("Durability settings (docs/fleet.md): the library alone, one thread, Redis on "
          "this host's disk; wall time per certificate is what a client waits for the store.")
        w("")
        w("| setting | certs | certs/s (one thread) | wall ms/cert | CPU us/cert |")
        w("|---|---|---|---|---|")
        for r in durable:
            rate = r["ok"] / r["wall_s"] if r["wall_s"] else 0
            w("| %s | %d | %.0f | %.2f | %.0f |" % (
                r["setting"], r["ok"], rate, 1000.0 / rate if rate else 0, r["cpu_per_cert_us"]))
        w("")
    w("POST /1.0/sign; latency over every request; server CPU = utime+stime of the nginx "
      "workers / certificates; x bound = server CPU per cert / crypto bound per cert; "
      "store ops = Redis commands or LMDB write transactions per certificate.")
    w("")
    w("| CA key | store | workers | mode | c | certs | certs/s | p50 ms | p99 ms | max ms "
      "| server CPU us/cert | x bound | store ops/cert | failures |")
    w("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        w("| %s | %s | %d | %s | %d | %d | %.0f | %.2f | %.2f | %.1f | %.0f | %.2f | %s | %s |"
          % (r["kty"], r["store"], r["nworkers"], r["mode"], r["concurrency"], r["ok"],
             r["certs_per_s"], r["p50_ms"], r["p99_ms"], r["max_ms"], r["cpu_per_cert_us"],
             r.get("cpu_vs_bound", 0),
             ("%.2f" % r["store_ops_per_cert"]) if r["store_ops_per_cert"] >= 0 else "?",
             fmt_fail(r)))
    w("")
    if memory:
        drift = memory["rss_after_kib"] - memory["rss_before_kib"]
        w("Memory: %d issuances (%s, %s, 2 workers, keep-alive c=16) in %.0f s (%.0f certs/s, "
          "p99 %.2f ms): worker RSS %d KiB -> %d KiB (%+d KiB, %+.2f bytes/cert); store ops "
          "%.2f/cert %s; failures %s."
          % (memory["ok"], memory["kty"], memory["store"], memory["wall_s"],
             memory["certs_per_s"], memory["p99_ms"], memory["rss_before_kib"],
             memory["rss_after_kib"], drift,
             drift * 1024.0 / max(1, memory["ok"]), memory["store_ops_per_cert"],
             json.dumps(memory.get("store_commands", {})), fmt_fail(memory)))
        w("")
    w("Targets (issue #6), printed, never enforced:")
    ka = [r for r in results if r["mode"] == "keepalive"]
    best = lambda rs, key: max(rs, key=lambda r: r[key]) if rs else None
    ec = [r for r in ka if r["kty"] == "EC"]
    if ec:
        lowest = min(ec, key=lambda r: r.get("cpu_vs_bound", 99))
        w("- server CPU per cert <= 1.5x the crypto bound (P-256, keep-alive): best %.2fx "
          "(%s, %d workers, c=%d)" % (lowest.get("cpu_vs_bound", 0), lowest["store"],
                                      lowest["nworkers"], lowest["concurrency"]))
    ops = [r["store_ops_per_cert"] for r in results if r["store_ops_per_cert"] >= 0]
    if ops:
        w("- <= 2 store round trips per cert: %.2f to %.2f" % (min(ops), max(ops)))
    for c, step_rate, step_p99 in ((1, 474, 4.7), (16, 1103, 36.0), (64, 1480, None)):
        rs = [r for r in ec if r["concurrency"] == c]
        b = best(rs, "certs_per_s")
        if b:
            w("- c=%d: step-ca 0.19 %d/s%s; ours best %.0f/s (%.1fx; %s, %d workers) p99 %.2f ms"
              % (c, step_rate, " (p99 %.1f ms)" % step_p99 if step_p99 else "",
                 b["certs_per_s"], b["certs_per_s"] / step_rate, b["store"], b["nworkers"],
                 b["p99_ms"]))
    for name, n, first in log_problems:
        w("- %s: %d [error]-or-worse lines in error.log, first: %s" % (name, n, first))
    w("")
    w("(%.0f s in all)" % elapsed)
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    main()
