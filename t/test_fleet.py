"""The fleet on 127.0.0.1: Redis (append-only), two CA nodes, the stream
balancer (ssl_preread, PROXY protocol), from the same conf.d templates as
docker-compose.yml and scripts/fleet.sh. One token, one certificate in the
whole fleet; reloads lose nothing; Redis stopped or slow gives bounded 503s
and no certificate without its token record."""

import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import threading
import time

import pytest

from conftest import BUILD, REPO, free_port
from fleet import (PROVISIONER_PASSWORD, STREAM_MODULE, Fleet, aud)
from tokens import Provisioner, make_csr, unb64u

pytestmark = pytest.mark.skipif(
    not os.path.exists(STREAM_MODULE) or not shutil.which("redis-server"),
    reason="needs libnginx-mod-stream and redis-server")


@pytest.fixture
def prov(pki):
    return Provisioner(pki.ca_json, PROVISIONER_PASSWORD)


@pytest.fixture
def fleet_factory(request, prefix, pki, server_tls, module_path):
    made = []

    def make(**kw):
        crt, key = server_tls
        f = Fleet(os.path.join(prefix, "fleet%d" % len(made)), pki, crt, key,
                  module_path, **kw)
        made.append(f)
        return f.start()

    yield make
    for f in made:
        f.stop()
    for f in made:
        # Never, not even in the tests that expect errors.
        assert not f.crashes(), "\n".join(f.crashes())
        if request.node.get_closest_marker("allow_error_log") is None:
            assert not f.bad_lines(), "\n".join(f.bad_lines())


@pytest.fixture
def fleet(fleet_factory):
    return fleet_factory()


def sign_lines(node):
    return [l for l in node.read("access.log").splitlines() if "/1.0/sign" in l]


def serial_of(body):
    from cryptography import x509
    crt = x509.load_pem_x509_certificate(json.loads(body)["crt"].encode())
    return str(crt.serial_number)


class Load:
    """Background clients through the balancer, each request with a fresh
    token and CSR: records every (status, body) or the exception."""

    def __init__(self, fleet, prov, threads=4, timeout=10):
        self.fleet, self.prov, self.timeout = fleet, prov, timeout
        self.results, self.errors = [], []
        self.lock = threading.Lock()
        self.stop_ev = threading.Event()
        self.csr, _ = make_csr("load.example.test")
        self.threads = [threading.Thread(target=self.run, daemon=True) for _ in range(threads)]

    def run(self):
        while not self.stop_ev.is_set():
            ott = self.prov.token("load.example.test", aud(self.fleet.port))
            t0 = time.monotonic()
            try:
                status, body = self.fleet.sign(self.csr, ott, timeout=self.timeout)
                with self.lock:
                    self.results.append((status, body, time.monotonic() - t0, t0))
            except Exception as e:  # a lost request: the tests assert there are none
                with self.lock:
                    self.errors.append(repr(e))

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop_ev.set()
        for t in self.threads:
            t.join(timeout=60)
        assert not any(t.is_alive() for t in self.threads)

    def count(self, status):
        with self.lock:
            return sum(1 for r in self.results if r[0] == status)


# ------------------------------------------------------------ compose file


def test_compose_file_describes_the_fleet():
    yaml = pytest.importorskip("yaml")
    with open(os.path.join(REPO, "docker-compose.yml")) as f:
        doc = yaml.safe_load(f)
    services = doc["services"]
    assert set(services) == {"redis", "ca-a", "ca-b", "balancer"}
    assert services["redis"]["image"].startswith("redis:")
    cmd = " ".join(services["redis"]["command"])
    assert "--appendonly yes" in cmd and "--appendfsync everysec" in cmd
    assert "redis-data:/data" in services["redis"]["volumes"]
    for name in ("ca-a", "ca-b"):
        node = services[name]
        assert node["image"] == "nginx-stepca:bookworm"
        assert node["build"]["dockerfile"] == "deploy/Dockerfile"
        assert node["command"] == ["node"]
        assert "ca-json:/etc/step-ca:ro" in node["volumes"]
        assert node["environment"]["STEPCA_STORE"].startswith("redis://redis:6379/")
    lb = services["balancer"]
    assert lb["image"] == "nginx-stepca:bookworm" and lb["command"] == ["balancer"]
    assert lb["environment"]["NODE_A_UPSTREAM"] == "ca-a:9443"
    assert lb["environment"]["NODE_B_UPSTREAM"] == "ca-b:9443"
    assert set(doc["volumes"]) == {"ca-json", "redis-data"}

    # The Dockerfile: Debian 12, the stock nginx and the stream module, our .so.
    with open(os.path.join(REPO, "deploy", "Dockerfile")) as f:
        dockerfile = f.read()
    assert dockerfile.startswith("#") and "\nFROM debian:bookworm\n" in dockerfile
    assert "libnginx-mod-stream" in dockerfile
    assert "COPY build/ngx_http_stepca_module.so" in dockerfile

    # Every placeholder of the templates has a value in the compose file or
    # the image: compose and scripts/fleet.sh fill the same names.
    env = set(services["ca-a"]["environment"]) | set(re.findall(r"\b([A-Z_]+)=", dockerfile))
    for tmpl, lenv in (("fleet-node.conf", env),
                       ("fleet-balancer.conf", set(lb["environment"]) | env)):
        with open(os.path.join(REPO, "conf.d", tmpl)) as f:
            body = "\n".join(l for l in f.read().splitlines() if not l.lstrip().startswith("#"))
        names = set(re.findall(r"\$\{([A-Z_]+)\}", body))
        assert names and names <= lenv, (tmpl, names - lenv)

    # The names the docs give are the ones in the file.
    with open(os.path.join(REPO, "docs", "fleet.md")) as f:
        docs = f.read()
    for word in list(services) + list(doc["volumes"]) + ["nginx-stepca:bookworm"]:
        assert "`%s`" % word in docs, word


# ------------------------------------------------------------ one token


def test_one_token_500_times_across_both_nodes_gives_one_certificate(fleet, prov):
    csr, _ = make_csr("race.example.test")
    ott = prov.token("race.example.test", aud(fleet.port))
    with concurrent.futures.ThreadPoolExecutor(max_workers=100) as pool:
        results = list(pool.map(lambda _: fleet.sign(csr, ott), range(500)))
    statuses = [r[0] for r in results]
    assert statuses.count(201) == 1, sorted(set(statuses))
    assert statuses.count(401) == 499, sorted(set(statuses))
    # Round robin: both nodes answered part of the 500.
    assert len(sign_lines(fleet.a)) > 100 and len(sign_lines(fleet.b)) > 100
    assert len(sign_lines(fleet.a)) + len(sign_lines(fleet.b)) == 500
    issued = [n.read("error.log").count("issued certificate serial=") for n in fleet.nodes]
    assert sum(issued) == 1, issued
    assert len(fleet.redis.keys("stepca:x509_certs/")) == 1
    assert len(fleet.redis.keys("stepca:used_ott/")) == 1
    # The clients' addresses came through the PROXY protocol header.
    assert "127.0.0.1 - -" in fleet.a.read("access.log")
    jti = json.loads(unb64u(ott.split(".")[1]))["jti"]
    for n in fleet.nginxes():
        for name in ("error.log", "access.log"):
            assert jti not in n.read(name) and ott.split(".")[2] not in n.read(name)


def test_token_spent_on_node_a_is_refused_on_node_b(fleet, prov):
    csr, _ = make_csr("ab.example.test")
    ott = prov.token("ab.example.test", aud(fleet.a.port))
    status, body = fleet.sign(csr, ott, port=fleet.a.port)
    assert status == 201, body
    status, body = fleet.sign(csr, ott, port=fleet.b.port)
    assert status == 401, body
    assert json.loads(body)["status"] == 401
    assert "issued certificate" in fleet.a.read("error.log")
    assert "issued certificate" not in fleet.b.read("error.log")


# ------------------------------------------------------------ reload


def test_reload_of_each_node_under_load_loses_no_request(fleet, prov):
    with Load(fleet, prov, threads=6) as load:
        deadline = time.monotonic() + 20
        while load.count(201) < 20 and time.monotonic() < deadline:
            time.sleep(0.05)
        for n in fleet.nodes:
            n.reload(fleet.workers)
            before = load.count(201)
            while load.count(201) < before + 20 and time.monotonic() < deadline + 20:
                time.sleep(0.05)
    assert not load.errors, load.errors[:5]
    statuses = [r[0] for r in load.results]
    assert statuses and set(statuses) == {201}, sorted(set(statuses))
    assert len(fleet.redis.keys("stepca:x509_certs/")) == len(statuses)
    for n in fleet.nodes:
        assert n.read("error.log").count("start worker process") >= 2 * fleet.workers
        assert "reconfiguring" in n.read("error.log")


# ------------------------------------------------------------ Redis down


@pytest.mark.allow_error_log
def test_redis_stopped_under_load_then_back(fleet, prov):
    with Load(fleet, prov, threads=4) as load:
        deadline = time.monotonic() + 20
        while load.count(201) < 10 and time.monotonic() < deadline:
            time.sleep(0.05)
        fleet.redis.stop()
        down_at = time.monotonic()
        while load.count(503) < 10 and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)
        fleet.redis.start()  # the same port, the same append-only file
        up_at = time.monotonic()
        while time.monotonic() < up_at + 15:
            with load.lock:
                back = [r for r in load.results if r[0] == 201 and r[3] > up_at]
            if len(back) >= 5:
                break
            time.sleep(0.05)
    assert not load.errors, load.errors[:5]
    # Service came back by itself, within seconds.
    assert len(back) >= 5, "no 201 within 15 s after Redis came back"
    first_back = min(r[3] + r[2] for r in back)
    assert first_back - up_at < 10
    statuses = [r[0] for r in load.results]
    assert set(statuses) <= {201, 401, 503}, sorted(set(statuses))
    # The restarted Redis is another server (a new run id): tokens minted
    # before the nodes saw it are refused, since it may have lost their
    # spends (docs/fleet.md, "When Redis loses writes"); no others.
    for r in load.results:
        if r[0] == 401:
            assert r[3] < up_at + 3, (r[3] - up_at, r[1])
    outage = [r for r in load.results if r[0] == 503]
    assert outage, "no 503 while Redis was down"
    for status, body, elapsed, t0 in outage:
        doc = json.loads(body)
        assert doc["status"] == 503
        assert "unavailable" in doc["message"], doc
        assert elapsed < 5, elapsed
        assert t0 > down_at - 5

    # No certificate without its token record: every 201 has its record, and
    # the store holds no more records than spent tokens. A record may exist
    # whose request got 503: Redis wrote it and went away before its reply
    # (at most one per request in flight when it stopped); that certificate
    # was never handed out.
    certs = set(k.split("/", 1)[1] for k in fleet.redis.keys("stepca:x509_certs/"))
    tokens = fleet.redis.keys("stepca:used_ott/")
    issued = [serial_of(r[1]) for r in load.results if r[0] == 201]
    assert len(set(issued)) == len(issued)
    assert set(issued) <= certs
    assert len(certs - set(issued)) <= len(load.threads)
    assert len(certs) <= len(tokens) <= len(load.results)
    logged = sum(n.read("error.log").count("issued certificate serial=") for n in fleet.nodes)
    assert logged == len(issued)

    # The errors logged are the store outage, named as such.
    bad = fleet.bad_lines()
    assert bad
    for line in bad:
        assert "[error]" in line and "store unavailable" in line, line


@pytest.mark.allow_error_log
def test_slow_redis_gives_bounded_503s(fleet_factory, prov):
    fleet = fleet_factory(store_timeout="500ms")
    csr, _ = make_csr("slow.example.test")
    # Warm up: both nodes have their connections and the store epoch.
    for port in (fleet.a.port, fleet.b.port):
        assert fleet.sign(csr, prov.token("slow.example.test", aud(port)), port=port)[0] == 201
    # Redis stops answering for 3 s; the store timeout is 500 ms.
    sleeper = subprocess.Popen(["redis-cli", "-p", str(fleet.redis.port), "DEBUG", "SLEEP", "3"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.2)

        def one(port):
            t0 = time.monotonic()
            status, body = fleet.sign(csr, prov.token("slow.example.test", aud(port)), port=port)
            return status, body, time.monotonic() - t0

        ports = [fleet.a.port, fleet.b.port, fleet.port, fleet.port]
        with concurrent.futures.ThreadPoolExecutor(max_workers=len(ports)) as pool:
            results = list(pool.map(one, ports))
    finally:
        sleeper.wait(timeout=30)
    for status, body, elapsed in results:
        assert status == 503, body
        assert "unavailable" in json.loads(body)["message"]
        # bounded by the timeout (a connect and a command at most), not by
        # Redis's 3 s
        assert elapsed < 2.0, elapsed
    # Back to normal once Redis answers again.
    deadline = time.monotonic() + 10
    while True:
        status, body = fleet.sign(csr, prov.token("slow.example.test", aud(fleet.port)))
        if status == 201 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert status == 201, body
    for line in fleet.bad_lines():
        assert "store unavailable" in line, line
    assert fleet.bad_lines()


# ------------------------------------------------------------ scripts/fleet.sh


def test_fleet_script_starts_reports_and_stops(prefix):
    if not os.path.exists(os.path.join(BUILD, "stepca")):
        pytest.skip("the stepca CLI is not built")
    d = os.path.join(prefix, "fleet-script")
    env = dict(os.environ, STEPCA_FLEET_DIR=d, STEPCA_BUILD=BUILD)
    for var in ("FLEET_LB_PORT", "FLEET_A_PP_PORT", "FLEET_A_PORT", "FLEET_B_PP_PORT",
                "FLEET_B_PORT", "FLEET_REDIS_PORT"):
        env[var] = str(free_port())
    script = os.path.join(REPO, "scripts", "fleet.sh")
    try:
        out = subprocess.run([script, "start"], env=env, capture_output=True, text=True,
                             timeout=120)
        assert out.returncode == 0, out.stdout + out.stderr
        assert "fleet.crt: OK" in out.stdout
        assert "https://127.0.0.1:%s" % env["FLEET_LB_PORT"] in out.stdout
        st = subprocess.run([script, "status"], env=env, capture_output=True, text=True,
                            timeout=60)
        assert st.returncode == 0, st.stdout
        assert st.stdout.count(": running (pid") == 4
    finally:
        stop = subprocess.run([script, "stop"], env=env, capture_output=True, text=True,
                              timeout=120)
    assert stop.returncode == 0, stop.stdout + stop.stderr
    assert stop.stdout.count("stopped ") == 4
    st = subprocess.run([script, "status"], env=env, capture_output=True, text=True, timeout=60)
    assert st.returncode == 3 and st.stdout.count(": stopped") == 4
    for name in ("node-a", "node-b", "balancer"):
        with open(os.path.join(d, name, "error.log")) as f:
            text = f.read()
        assert not re.search(r"\[(error|crit|alert|emerg)\]", text), text
