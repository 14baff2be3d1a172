"""End-to-end harness: the stock /usr/sbin/nginx with our module, a private
prefix per test, the step 0.19 fixture PKI, and an optional private
redis-server.

Run with Debian's interpreter (python3-cryptography lives there):

    STEPCA_BUILD=$PWD/build /usr/bin/python3 -m pytest -q t/

Environment:
    STEPCA_BUILD     directory holding ngx_http_stepca_module.so (default <repo>/build)
    STEPCA_FIXTURES  the step-0.19 fixtures (default <repo>/testdata/step-0.19)
    STEPCA_KEEP      keep the scratch directories (and print where they are)
    NGINX            the nginx binary (default /usr/sbin/nginx)
    STEP_CLI         the real smallstep `step` CLI (default: `step` on PATH);
                     without one its tests skip
    STEPCA_REQUIRE_STEP_CLI=1  a missing step CLI fails those tests instead
    STEPCA_NGINX_PRELOAD  LD_PRELOAD for nginx only (an ASan build of the
                     module needs libasan preloaded into the stock binary)
"""

import datetime
import http.client
import ipaddress
import os
import re
import shutil
import signal
import socket
import ssl
import stat
import subprocess
import tempfile
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("STEPCA_BUILD", os.path.join(REPO, "build"))
FIXTURES = os.environ.get(
    "STEPCA_FIXTURES",
    os.path.join(REPO, "testdata", "step-0.19"))
NGINX = os.environ.get("NGINX", "/usr/sbin/nginx")
MODULE = os.path.join(BUILD, "ngx_http_stepca_module.so")

START_TIMEOUT = 15.0
STOP_TIMEOUT = 15.0

BAD_LOG_RE = re.compile(r"\[(error|crit|alert|emerg)\]")


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "allow_error_log: the test expects [error]/[crit]/[alert]/[emerg] "
        "lines in nginx's error log; skip the automatic check")
    config.addinivalue_line(
        "markers", "ssh_claims(dict): test_ssh.py's provisioner claims for its CA")


# ---------------------------------------------------------------- helpers


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, proc=None, timeout=START_TIMEOUT):
    """Bounded wait until 127.0.0.1:port accepts; False if proc died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def stop_process(proc, sig=signal.SIGQUIT, timeout=STOP_TIMEOUT):
    """Stop one child we started, by its PID: sig, then SIGKILL after a bound."""
    if proc is None or proc.poll() is not None:
        return
    try:
        os.kill(proc.pid, sig)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=timeout)


def make_readable(top):
    """Everything under top (and top's parents in our scratch dir) readable
    and traversable by the worker user (nobody when nginx runs as root)."""
    for root, dirs, files in os.walk(top):
        os.chmod(root, os.stat(root).st_mode | 0o755)
        for f in files:
            p = os.path.join(root, f)
            os.chmod(p, os.stat(p).st_mode | 0o644)


def nginx_env():
    env = dict(os.environ)
    preload = os.environ.get("STEPCA_NGINX_PRELOAD")
    if preload:
        env["LD_PRELOAD"] = preload
        # nginx's master keeps its config pools until exit; leaks are noise
        env.setdefault("ASAN_OPTIONS", "detect_leaks=0:abort_on_error=0")
    return env


def bad_log_lines(text):
    return [l for l in text.splitlines() if BAD_LOG_RE.search(l)]


def make_core_dir(prefix):
    """The worker's working_directory: writable by the worker user (nobody
    when nginx runs as root), so a crash leaves a core to read."""
    d = os.path.join(prefix, "cores")
    os.makedirs(d, exist_ok=True)
    os.chmod(d, 0o1777)
    return d


def core_backtraces(prefix):
    """gdb's backtrace of every core a crashed worker left (kernel
    core_pattern "core" writes it to the working directory)."""
    d = os.path.join(prefix, "cores")
    gdb = shutil.which("gdb")
    if not os.path.isdir(d):
        return ""
    cores = [os.path.join(d, f) for f in sorted(os.listdir(d)) if f.startswith("core")]
    if not cores:
        return "(no core file in %s: check ulimit -c and kernel.core_pattern)" % d
    if gdb is None:
        return "cores left in %s (no gdb to read them)" % d
    out = []
    for c in cores[:2]:
        r = subprocess.run([gdb, "-batch", "-nx", "-ex", "thread apply all bt 30", NGINX, c],
                           capture_output=True, text=True, timeout=120)
        out.append("--- %s\n%s" % (c, r.stdout[-20000:]))
    return "\n".join(out)


def assert_clean_log(path):
    """No [error]/[crit]/[alert]/[emerg] in nginx's error log; a worker
    crash comes with the backtrace of its core."""
    if not os.path.exists(path):
        return
    with open(path, errors="replace") as f:
        bad = bad_log_lines(f.read())
    detail = ""
    if any("exited on signal" in l for l in bad):
        detail = "\n" + core_backtraces(os.path.dirname(path))
    assert not bad, "unexpected lines in %s:\n%s%s" % (path, "\n".join(bad), detail)


# ---------------------------------------------------------------- PKI


class Pki:
    """A private copy of the fixture PKI with $STEPPATH replaced."""

    def __init__(self, path):
        self.path = path
        self.ca_json = os.path.join(path, "config", "ca.json")
        self.password_file = os.path.join(path, "password.txt")
        self.root_crt = os.path.join(path, "certs", "root_ca.crt")
        self.intermediate_crt = os.path.join(path, "certs", "intermediate_ca.crt")
        self.intermediate_key = os.path.join(path, "secrets", "intermediate_ca_key")
        self.root_key = os.path.join(path, "secrets", "root_ca_key")

    def read_ca_json(self):
        import json
        with open(self.ca_json) as f:
            return json.load(f)

    def write_ca_json(self, doc=None, text=None):
        import json
        if text is None:
            text = json.dumps(doc, indent="\t")
        with open(self.ca_json, "w") as f:
            f.write(text)
        os.chmod(self.ca_json, 0o644)


def copy_pki(dst):
    src = os.path.join(FIXTURES, "pki")
    if not os.path.isdir(src):
        pytest.skip("fixture PKI not found at %s (set STEPCA_FIXTURES)" % src)
    shutil.copytree(src, dst)
    for root, dirs, files in os.walk(dst):
        os.chmod(root, 0o755)
        for f in files:
            os.chmod(os.path.join(root, f), 0o644)
    for name in ("ca.json", "defaults.json"):
        p = os.path.join(dst, "config", name)
        with open(p) as f:
            text = f.read()
        with open(p, "w") as f:
            f.write(text.replace("$STEPPATH", dst))
    return Pki(dst)


def make_server_cert(pki, outdir):
    """A TLS server certificate for 127.0.0.1/localhost signed by the fixture
    intermediate; returns (chain_path, key_path)."""
    os.makedirs(outdir, exist_ok=True)
    plain = os.path.join(outdir, "intermediate.key.plain")
    subprocess.run(
        ["openssl", "ec", "-in", pki.intermediate_key, "-passin",
         "file:" + pki.password_file, "-out", plain],
        check=True, capture_output=True)
    with open(plain, "rb") as f:
        ca_key = serialization.load_pem_private_key(f.read(), password=None)
    os.unlink(plain)
    with open(pki.intermediate_crt, "rb") as f:
        ca_crt = x509.load_pem_x509_certificate(f.read())

    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.utcnow()
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_crt.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([
            x509.DNSName("localhost"),
            x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]),
                       critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    crt_path = os.path.join(outdir, "server.crt")
    key_path = os.path.join(outdir, "server.key")
    with open(crt_path, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
        f.write(ca_crt.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    return crt_path, key_path


# ---------------------------------------------------------------- nginx


# What every test nginx.conf starts with, up to the CA directives of http{}.
NGINX_HEAD = """\
load_module {module};

daemon off;
master_process on;
worker_processes {workers};
error_log {prefix}/error.log info;
pid {prefix}/nginx.pid;
# a crashed worker leaves its core here; assert_clean_log prints its backtrace
working_directory {prefix}/cores;
worker_rlimit_core 2g;

thread_pool stepca threads=4;

events {{
    worker_connections 256;
}}

http {{
    access_log {prefix}/access.log;
    client_body_temp_path {prefix}/tmp/client_body;
    proxy_temp_path {prefix}/tmp/proxy;
    fastcgi_temp_path {prefix}/tmp/fastcgi;
    uwsgi_temp_path {prefix}/tmp/uwsgi;
    scgi_temp_path {prefix}/tmp/scgi;
"""

NGINX_CONF = NGINX_HEAD + """\
    stepca_ca_json {ca_json};
{password_line}    stepca_store {store};
    stepca_thread_pool {pool};
{http_extra}
    server {{
        listen 127.0.0.1:{port} ssl;
        server_name localhost;

        ssl_certificate {crt};
        ssl_certificate_key {key};
        ssl_verify_client optional_no_ca;

{server_extra}
        location / {{
            stepca;
        }}
    }}
}}
"""


class Nginx:
    """One private nginx: prefix, config, process."""

    def __init__(self, base, pki, crt, key, store=None, workers=2,
                 password_file="", pool="stepca", http_extra="",
                 server_extra="", module=MODULE):
        self.prefix = base
        self.pki = pki
        self.port = free_port()
        self.proc = None
        self.error_log = os.path.join(base, "error.log")
        os.makedirs(os.path.join(base, "conf"), exist_ok=True)
        os.makedirs(os.path.join(base, "tmp"), exist_ok=True)
        make_core_dir(base)
        self.conf = os.path.join(base, "conf", "nginx.conf")
        self.store = store or "lmdb:" + os.path.join(base, "db")
        if password_file == "":
            # the fixture ca.json has no "password": step-ca ran with
            # --password-file; None leaves the directive out
            password_file = pki.password_file
        self.params = dict(
            module=module, workers=workers, prefix=base, ca_json=pki.ca_json,
            password_line=("    stepca_password_file %s;\n" % password_file
                           if password_file else ""),
            store=self.store, pool=pool, http_extra=http_extra,
            server_extra=server_extra, port=self.port, crt=crt, key=key)
        self.write_conf()

    def write_conf(self, **changes):
        self.params.update(changes)
        with open(self.conf, "w") as f:
            f.write(NGINX_CONF.format(**self.params))
        make_readable(self.prefix)

    # -- process

    def test_config(self):
        """`nginx -t`: returns the CompletedProcess."""
        return subprocess.run(
            [NGINX, "-p", self.prefix, "-c", "conf/nginx.conf", "-t"],
            capture_output=True, text=True, timeout=60, env=nginx_env())

    def start(self):
        assert self.proc is None
        self.stdout = open(os.path.join(self.prefix, "stdout.log"), "wb")
        self.proc = subprocess.Popen(
            [NGINX, "-p", self.prefix, "-c", "conf/nginx.conf"],
            stdout=self.stdout, stderr=subprocess.STDOUT, env=nginx_env())
        if not wait_for_port(self.port, self.proc):
            out = self.read_file("stdout.log") + self.read_file("error.log")
            stop_process(self.proc)
            raise AssertionError("nginx did not start on %d:\n%s" % (self.port, out))
        return self

    def stop(self):
        if self.proc is not None:
            stop_process(self.proc, signal.SIGQUIT)
            self.stdout.close()

    def worker_starts(self):
        return self.read_file("error.log").count("start worker process")

    def reload(self, timeout=START_TIMEOUT):
        """SIGHUP, then wait (bounded) until the new workers have started and
        the old ones have stopped accepting: until then a request can still
        reach a worker that runs the old configuration."""
        log = self.read_file("error.log")
        before = log.count("start worker process")
        stopping = log.count("gracefully shutting down")
        os.kill(self.proc.pid, signal.SIGHUP)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            log = self.read_file("error.log")
            if (log.count("start worker process") >= before + self.params["workers"]
                    and log.count("gracefully shutting down") >= stopping + self.params["workers"]):
                return
            assert self.proc.poll() is None, "nginx exited on reload"
            time.sleep(0.05)
        raise AssertionError("no new workers after SIGHUP:\n" + self.read_file("error.log"))

    def read_file(self, name):
        try:
            with open(os.path.join(self.prefix, name), errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    # -- clients

    def ssl_context(self, cert=None, key=None):
        ctx = ssl.create_default_context(cafile=self.pki.root_crt)
        if cert:
            ctx.load_cert_chain(cert, key)
        return ctx

    def connection(self, timeout=30, **kw):
        return http.client.HTTPSConnection(
            "127.0.0.1", self.port, timeout=timeout, context=self.ssl_context(**kw))

    def request(self, method, path, body=None, headers=None, **kw):
        """One request on a fresh connection: (status, headers, body)."""
        conn = self.connection(**kw)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, resp.headers, data
        finally:
            conn.close()

    def get(self, path, **kw):
        return self.request("GET", path, **kw)


@pytest.fixture(scope="session")
def scratch():
    """A scratch directory the worker user can traverse (pytest's tmp_path
    is 0700 and root-owned)."""
    d = tempfile.mkdtemp(prefix="stepca-e2e-")
    os.chmod(d, 0o755)
    yield d
    if os.environ.get("STEPCA_KEEP"):
        print("\nkept scratch directory %s" % d)
    else:
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture(scope="session")
def module_path():
    if not os.path.exists(MODULE):
        pytest.skip("%s not built (run make, or set STEPCA_BUILD)" % MODULE)
    return MODULE


@pytest.fixture(scope="session")
def server_tls(scratch):
    """One TLS server certificate for the whole session."""
    pki = copy_pki(os.path.join(scratch, "tls-pki"))
    return make_server_cert(pki, os.path.join(scratch, "tls"))


_counter = [0]


@pytest.fixture
def prefix(scratch):
    """A fresh private prefix directory for this test."""
    _counter[0] += 1
    d = os.path.join(scratch, "p%03d" % _counter[0])
    os.makedirs(d)
    os.chmod(d, 0o755)
    return d


@pytest.fixture
def pki(prefix):
    """This test's own copy of the fixture PKI (tests may break it)."""
    return copy_pki(os.path.join(prefix, "pki"))


@pytest.fixture
def nginx_factory(request, prefix, pki, server_tls, module_path):
    """Makes Nginx objects (not started); stops them at teardown and checks
    every error log unless the test is marked allow_error_log."""
    made = []

    def make(name="nginx", **kw):
        crt, key = server_tls
        base = os.path.join(prefix, name)
        os.makedirs(base, exist_ok=True)
        n = Nginx(base, pki, crt, key, module=module_path, **kw)
        made.append(n)
        return n

    yield make

    for n in made:
        n.stop()
    for n in made:
        out = n.read_file("stdout.log")
        assert "AddressSanitizer" not in out, out
    if request.node.get_closest_marker("allow_error_log") is None:
        for n in made:
            assert_clean_log(n.error_log)


@pytest.fixture
def nginx(nginx_factory):
    """A running nginx with the module on the fixture PKI (LMDB store)."""
    return nginx_factory().start()


# ---------------------------------------------------------------- redis


class Redis:
    def __init__(self, base):
        self.dir = base
        self.port = free_port()
        self.proc = None
        os.makedirs(base, exist_ok=True)

    @property
    def uri(self):
        return "redis://127.0.0.1:%d/0" % self.port

    def start(self):
        exe = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.log = os.path.join(self.dir, "redis.log")
        self.proc = subprocess.Popen(
            [exe, "--port", str(self.port), "--bind", "127.0.0.1",
             "--daemonize", "no", "--save", "", "--appendonly", "no",
             "--dir", self.dir, "--logfile", self.log],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not wait_for_port(self.port, self.proc):
            stop_process(self.proc, signal.SIGTERM)
            raise AssertionError("redis-server did not start on %d" % self.port)
        return self

    def stop(self):
        stop_process(self.proc, signal.SIGTERM)


@pytest.fixture
def redis_server(prefix):
    """A private redis-server on a free 127.0.0.1 port."""
    if not (shutil.which("redis-server") or os.path.exists("/usr/bin/redis-server")):
        pytest.skip("redis-server not installed")
    r = Redis(os.path.join(prefix, "redis")).start()
    yield r
    r.stop()


# ---------------------------------------------------------------- step CLI

STEP_CLI_MISSING = "real step CLI not found: set STEP_CLI=/path/to/step"
STEP_CLI_TIMEOUT = 120


def find_step_cli():
    """(path, None) for a usable smallstep `step`, or (None, reason)."""
    explicit = os.environ.get("STEP_CLI")
    path = explicit or shutil.which("step")
    if not path:
        return None, STEP_CLI_MISSING
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        return None, "%s (STEP_CLI=%s is not an executable file)" % (STEP_CLI_MISSING, path)
    try:
        out = subprocess.run([path, "version"], capture_output=True, text=True,
                             timeout=30, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, "%s (%s: %s)" % (STEP_CLI_MISSING, path, e)
    if "Smallstep CLI" not in out.stdout + out.stderr:
        return None, "%s (%s is not the smallstep CLI: %r)" % (
            STEP_CLI_MISSING, path, (out.stdout + out.stderr)[:200])
    return path, None


@pytest.fixture(scope="session")
def step_cli_path():
    """The real `step` binary; skips (or, with STEPCA_REQUIRE_STEP_CLI=1,
    fails) with the reason when there is none."""
    path, reason = find_step_cli()
    if path is None:
        if os.environ.get("STEPCA_REQUIRE_STEP_CLI") == "1":
            pytest.fail(reason + " (STEPCA_REQUIRE_STEP_CLI=1)", pytrace=False)
        pytest.skip(reason)
    return path


class StepCli:
    """The real `step` with this test's own STEPPATH (step keeps its
    defaults, roots and contexts there)."""

    def __init__(self, exe, steppath):
        self.exe = exe
        self.steppath = steppath
        os.makedirs(steppath, exist_ok=True)
        self.env = dict(os.environ)
        self.env["STEPPATH"] = steppath
        self.env["HOME"] = steppath  # nothing of the caller's ~/.step leaks in
        self.env.pop("STEP_CA_URL", None)
        self.env.pop("STEP_ROOT", None)

    def run(self, *args, check=True, input=None, timeout=STEP_CLI_TIMEOUT):
        """One `step` command; stdin is input or closed (a prompt is a
        failure, never a hang): the CompletedProcess; asserts exit 0 when
        check."""
        stdin = {} if input is not None else {"stdin": subprocess.DEVNULL}
        proc = subprocess.run(
            [self.exe] + [str(a) for a in args], env=self.env, cwd=self.steppath,
            capture_output=True, text=True, timeout=timeout, input=input, **stdin)
        if check:
            assert proc.returncode == 0, "step %s: exit %d\n%s\n%s" % (
                " ".join(map(str, args)), proc.returncode, proc.stdout, proc.stderr)
        return proc


@pytest.fixture
def step_cli(step_cli_path, prefix):
    """The real step CLI with a fresh STEPPATH in this test's prefix."""
    return StepCli(step_cli_path, os.path.join(prefix, "steppath"))
