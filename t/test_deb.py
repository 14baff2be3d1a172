"""The Debian packages: `make deb` in a clean clone, both packages installed
on this machine, the module loaded into the system nginx binary through
/etc/nginx/modules-enabled, a certificate issued with the packaged CLI, then
both packages purged and nothing of theirs left behind.

It installs and purges system packages, so it runs only when asked:
STEPCA_TEST_DEB=1, as root (CI: .ci/run). It never starts, reloads or
reconfigures the system's nginx service: the CA runs in a private nginx
master (its own -c configuration that includes modules-enabled/*.conf),
stopped by its PID. Environment:
    STEPCA_TEST_DEB=1     run (otherwise skipped)
    STEPCA_DEB_JOBS       compile jobs for make deb (default: nproc)
"""

import fcntl
import os
import shutil
import signal
import ssl
import subprocess
import tempfile
import urllib.request

import pytest
from cryptography import x509

from conftest import (NGINX, REPO, assert_clean_log, free_port, stop_process,
                      wait_for_port)

PACKAGES = ("libnginx-mod-http-stepca", "stepca")
SNIPPET = "/usr/share/nginx/modules-available/mod-http-stepca.conf"
ENABLED = "/etc/nginx/modules-enabled/50-mod-http-stepca.conf"
# The module's default store: only a CA that uses it creates it; this test
# must not (its CA has its own store), and purge keeps it (README.Debian).
DEFAULT_STORE = "/var/lib/nginx-stepca"
# A fixed place for the clone: make deb builds in <clone>/build/deb/src, so
# a second run compiles at the same path and ccache has every object. The
# lock keeps two runs apart.
WORK = os.path.join(tempfile.gettempdir(), "nginx-stepca-test-deb")

pytestmark = [
    pytest.mark.skipif(os.environ.get("STEPCA_TEST_DEB") != "1",
                       reason="installs and purges Debian packages on this "
                              "machine: set STEPCA_TEST_DEB=1 (as root) to run it"),
]


def run(cmd, **kw):
    kw.setdefault("check", True)
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    return subprocess.run(cmd, **kw)


def installed(package):
    r = run(["dpkg-query", "-W", "-f=${db:Status-Abbrev}", package], check=False)
    return r.returncode == 0 and r.stdout.startswith("i")


def known_to_dpkg(package):
    """Installed, or removed with its configuration still there."""
    r = run(["dpkg-query", "-W", "-f=${db:Status-Abbrev}", package], check=False)
    return r.returncode == 0 and r.stdout[:2] not in ("", "un", "pn")


def system_nginx_running():
    try:
        with open("/run/nginx.pid") as f:
            pid = int(f.read().strip())
        os.kill(pid, 0)
        return True
    except (OSError, ValueError):
        return False


def package_paths(deb):
    """Every path a .deb ships, absolute."""
    out = run(["dpkg-deb", "--fsys-tarfile", deb], capture_output=True, text=False).stdout
    listing = run(["tar", "-tf", "-"], input=out, text=False).stdout.decode()
    paths = []
    for line in listing.splitlines():
        p = "/" + line.lstrip("./").rstrip("/")
        if p != "/":
            paths.append(p)
    return paths


def purge():
    present = [p for p in PACKAGES if known_to_dpkg(p)]
    if present:
        run(["dpkg", "--purge"] + present)


def clone(dst):
    if os.path.isdir(os.path.join(REPO, ".git")) or os.path.isfile(os.path.join(REPO, ".git")):
        run(["git", "clone", "-q", "--no-hardlinks", REPO, dst])
    else:
        shutil.copytree(REPO, dst, ignore=shutil.ignore_patterns("build", "demo", "fleet"))


def nginx_conf(d, port):
    return """\
# The system's module list, as /etc/nginx/nginx.conf has it.
include /etc/nginx/modules-enabled/*.conf;
worker_processes 2;
daemon off;
pid {d}/nginx.pid;
error_log {d}/error.log info;
events {{ worker_connections 64; }}
http {{
    access_log {d}/access.log;
    client_body_temp_path {d}/tmp/body;
    proxy_temp_path {d}/tmp/proxy;
    fastcgi_temp_path {d}/tmp/fastcgi;
    uwsgi_temp_path {d}/tmp/uwsgi;
    scgi_temp_path {d}/tmp/scgi;

    stepca_ca_json       {d}/step/config/ca.json;
    stepca_password_file {d}/password.txt;
    stepca_store         lmdb:{d}/db;

    server {{
        listen 127.0.0.1:{port} ssl;
        ssl_certificate     {d}/step/certs/tls.crt;
        ssl_certificate_key {d}/step/secrets/tls.key;
        ssl_verify_client   optional_no_ca;
        location / {{ stepca; }}
    }}
}}
""".format(d=d, port=port)


def test_make_deb_install_issue_purge():
    if os.geteuid() != 0:
        pytest.fail("STEPCA_TEST_DEB=1 but not root: installing packages needs root")
    for p in PACKAGES:
        if known_to_dpkg(p):
            pytest.skip("%s is already on this machine; the test would purge it" % p)
    if system_nginx_running():
        pytest.skip("the system nginx is running: installing the module would "
                    "reload it (dpkg trigger nginx-reload)")

    os.makedirs(WORK, exist_ok=True)
    lock = open(os.path.join(WORK, "lock"), "w")
    fcntl.flock(lock, fcntl.LOCK_EX)
    src = os.path.join(WORK, "src")
    d = tempfile.mkdtemp(prefix="stepca-deb-")
    os.chmod(d, 0o755)  # the workers (nobody) read below it
    enabled_before = sorted(os.listdir("/etc/nginx/modules-enabled"))
    store_existed = os.path.lexists(DEFAULT_STORE)
    proc = None
    try:
        shutil.rmtree(src, ignore_errors=True)
        clone(src)
        jobs = os.environ.get("STEPCA_DEB_JOBS", str(os.cpu_count() or 1))
        r = run(["make", "deb", "JOBS=" + jobs], cwd=src, check=False)
        assert r.returncode == 0, "make deb failed:\n" + (r.stdout + r.stderr)[-6000:]
        out = os.path.join(src, "build", "deb")
        debs = {p: os.path.join(out, "%s_%s_%s.deb" % (p, version(src), arch()))
                for p in PACKAGES}
        for p, deb in debs.items():
            assert os.path.isfile(deb), "make deb wrote no %s" % deb
        # lintian ran inside make deb with --fail-on error,warning; its
        # report is kept beside the packages.
        assert os.path.isfile(os.path.join(out, "lintian.txt"))

        fields = run(["dpkg-deb", "-f", debs["libnginx-mod-http-stepca"], "Depends"]).stdout
        abi = run(["dpkg-query", "-W", "-f=${Provides}", "nginx"]).stdout
        wanted = [a.strip() for a in abi.split(",") if a.strip().startswith("nginx-abi-")]
        assert wanted and wanted[0] in fields, (fields, abi)

        paths = sorted(set(package_paths(debs["libnginx-mod-http-stepca"]) +
                           package_paths(debs["stepca"])))
        existed = {p: os.path.lexists(p) for p in paths}

        run(["dpkg", "-i", debs["libnginx-mod-http-stepca"], debs["stepca"]])
        for p in PACKAGES:
            assert installed(p), p

        # Enabled the Debian way.
        assert os.path.islink(ENABLED) and os.readlink(ENABLED) == SNIPPET
        with open(SNIPPET) as f:
            assert f.read() == "load_module modules/ngx_http_stepca_module.so;\n"
        assert os.path.isfile("/usr/lib/nginx/modules/ngx_http_stepca_module.so")
        assert os.path.isfile("/usr/share/man/man1/stepca.1.gz")
        assert os.path.isfile("/usr/share/doc/stepca/examples/conf.d/stepca.conf")
        # The system's own configuration still passes with the module loaded.
        r = run([NGINX, "-t", "-q", "-c", "/etc/nginx/nginx.conf"], check=False)
        assert r.returncode == 0, r.stderr

        # A CA from the packaged CLI, served by the packaged module.
        with open(os.path.join(d, "password.txt"), "w") as f:
            f.write("deb-test-intermediate-password\n")
        with open(os.path.join(d, "provisioner-password.txt"), "w") as f:
            f.write("deb-test-provisioner-password\n")
        port = free_port()
        run(["/usr/bin/stepca", "init", "--name", "Deb Test CA", "--dns", "localhost",
             "--dns", "127.0.0.1", "--address", "127.0.0.1:%d" % port,
             "--provisioner", "admin@deb.test",
             "--password-file", os.path.join(d, "password.txt"),
             "--provisioner-password-file", os.path.join(d, "provisioner-password.txt"),
             "--steppath", os.path.join(d, "step"), "--tls-files"])
        os.chmod(os.path.join(d, "step"), 0o755)
        os.makedirs(os.path.join(d, "tmp"))
        conf = os.path.join(d, "nginx.conf")
        with open(conf, "w") as f:
            f.write(nginx_conf(d, port))
        # -e: not even the compiled-in /var/log/nginx/error.log is opened.
        r = run([NGINX, "-t", "-q", "-e", os.path.join(d, "error.log"), "-c", conf],
                check=False)
        assert r.returncode == 0, r.stderr
        proc = subprocess.Popen([NGINX, "-e", os.path.join(d, "error.log"), "-c", conf],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        assert wait_for_port(port, proc), "nginx did not start: %s" % (
            proc.stderr.read().decode() if proc.poll() is not None else "timeout")

        root = os.path.join(d, "step", "certs", "root_ca.crt")
        ctx = ssl.create_default_context(cafile=root)
        with urllib.request.urlopen("https://127.0.0.1:%d/health" % port,
                                    context=ctx, timeout=10) as resp:
            assert resp.status == 200 and b'"ok"' in resp.read()

        crt, key = os.path.join(d, "leaf.crt"), os.path.join(d, "leaf.key")
        run(["/usr/bin/stepca", "certificate", "deb.example.test", crt, key,
             "--san", "deb.example.test", "--provisioner", "admin@deb.test",
             "--provisioner-password-file", os.path.join(d, "provisioner-password.txt"),
             "--ca-url", "https://127.0.0.1:%d" % port, "--root", root])
        r = run(["openssl", "verify", "-CAfile", root, "-untrusted",
                 os.path.join(d, "step", "certs", "intermediate_ca.crt"), crt], check=False)
        assert r.returncode == 0, r.stdout + r.stderr
        with open(crt, "rb") as f:
            leaf = x509.load_pem_x509_certificate(f.read())
        sans = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        assert sans.get_values_for_type(x509.DNSName) == ["deb.example.test"]

        stop_process(proc)
        assert proc.returncode == 0, proc.returncode
        proc = None
        assert_clean_log(os.path.join(d, "error.log"))

        # Purge: nothing of either package stays.
        run(["dpkg", "--purge"] + list(PACKAGES))
        for p in PACKAGES:
            assert not known_to_dpkg(p), p
            leftovers = [f for f in os.listdir("/var/lib/dpkg/info")
                         if f.startswith(p + ".") or f.startswith(p + ":")]
            assert not leftovers, leftovers
        left = [p for p in paths if os.path.lexists(p) and not existed[p]]
        assert not left, "left behind after purge: %s" % left
        assert not os.path.lexists(ENABLED) and not os.path.lexists(ENABLED + ".removed")
        assert sorted(os.listdir("/etc/nginx/modules-enabled")) == enabled_before
        assert os.path.lexists(DEFAULT_STORE) == store_existed
    finally:
        if proc is not None and proc.poll() is None:
            stop_process(proc, sig=signal.SIGTERM)
        purge()
        shutil.rmtree(src, ignore_errors=True)
        shutil.rmtree(d, ignore_errors=True)
        fcntl.flock(lock, fcntl.LOCK_UN)
        lock.close()


def version(src):
    return run(["dpkg-parsechangelog", "-SVersion"], cwd=src).stdout.strip()


def arch():
    return run(["dpkg-architecture", "-qDEB_HOST_ARCH"]).stdout.strip()
