"""ACME end to end with more Debian clients: uacme and dehydrated over
http-01, lego over dns-01 (against a private knotd on 127.0.0.1, updated
with RFC 2136 + TSIG) and over tls-alpn-01. Each issues, renews and revokes.

http-01 for uacme and dehydrated: the clients write the key authorization
into a webroot (uacme through its hook, dehydrated through WELLKNOWN) that a
tiny `python3 -m http.server` serves on the provisioner's http01Port.
"""

import base64
import ipaddress
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest
from cryptography import x509

from conftest import free_port, stop_process, wait_for_port
from test_acme import CLIENT_TIMEOUT, assert_ours, load_cert, run


def configure_acme_settings(pki, settings):
    """Set the ACME provisioner's "nginxStepca" object in ca.json."""
    doc = pki.read_ca_json()
    for p in doc["authority"]["provisioners"]:
        if p["type"] == "ACME":
            p["nginxStepca"] = settings
    pki.write_ca_json(doc)


def start_acme_nginx(nginx_factory, pki, settings, **kw):
    configure_acme_settings(pki, settings)
    n = nginx_factory(**kw).start()
    n.directory = "https://127.0.0.1:%d/acme/acme/directory" % n.port
    return n


class Webroot:
    """python3 -m http.server on 127.0.0.1:port serving root."""

    def __init__(self, root, port):
        self.root = root
        self.port = port
        self.challenges = os.path.join(root, ".well-known", "acme-challenge")
        os.makedirs(self.challenges, exist_ok=True)
        self.log = open(os.path.join(os.path.dirname(root), "webroot.log"), "wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "http.server", "--bind", "127.0.0.1",
             "--directory", root, str(port)],
            stdout=self.log, stderr=subprocess.STDOUT)
        if not wait_for_port(port, self.proc):
            self.stop()
            raise AssertionError("http.server did not start on %d" % port)

    def stop(self):
        stop_process(self.proc, signal.SIGTERM)
        self.log.close()


@pytest.fixture
def webroot(prefix):
    port = free_port()
    w = Webroot(os.path.join(prefix, "webroot"), port)
    yield w
    w.stop()


def assert_ours_ip(cert, pki, ip):
    with open(pki.intermediate_crt, "rb") as f:
        inter = x509.load_pem_x509_certificate(f.read())
    assert cert.issuer == inter.subject
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert ipaddress.ip_address(ip) in sans.get_values_for_type(x509.IPAddress)


def serial_of(path):
    return load_cert(path).serial_number


# ------------------------------------------------------------------ uacme

UACME_HOOK = """#!/bin/sh
# uacme hook: METHOD TYPE IDENT TOKEN AUTH; http-01 only, into the webroot
dir={challenges}
[ "$2" = "http-01" ] || exit 1
case "$1" in
  begin) printf '%s' "$5" > "$dir/$4" ;;
  done|failed) rm -f "$dir/$4" ;;
esac
"""


def uacme_trusting(root_crt, work):
    """uacme (libcurl-gnutls) has no CA option and libcurl reads no
    environment for it: it trusts GnuTLS's system bundle only. Run it in a
    private mount namespace where that bundle is the system one plus our
    root. Returns the command prefix, or None when that is impossible."""
    system = "/etc/ssl/certs/ca-certificates.crt"
    if shutil.which("unshare") is None or not os.path.exists(system):
        return None
    bundle = os.path.join(work, "ca-bundle.crt")
    with open(bundle, "w") as out:
        with open(system) as f:
            out.write(f.read())
        with open(root_crt) as f:
            out.write("\n" + f.read())
    probe = subprocess.run(
        ["unshare", "-m", "--propagation", "private", "sh", "-c",
         'mount --bind "$0" %s && exit 0' % system, bundle],
        capture_output=True, timeout=30)
    if probe.returncode != 0:
        return None
    return ["unshare", "-m", "--propagation", "private", "sh", "-c",
            'mount --bind "$0" %s && exec "$@"' % system, bundle]


@pytest.mark.skipif(shutil.which("uacme") is None, reason="uacme not installed")
def test_uacme_http01_issue_renew_revoke(nginx_factory, pki, prefix, webroot):
    n = start_acme_nginx(nginx_factory, pki, {"http01Port": webroot.port})
    work = os.path.join(prefix, "uacme")
    os.makedirs(work)
    wrap = uacme_trusting(pki.root_crt, work)
    if wrap is None:
        pytest.skip("uacme trusts only /etc/ssl/certs/ca-certificates.crt (GnuTLS "
                    "system trust, no CA option) and no private mount namespace "
                    "can be made here (unshare -m needs CAP_SYS_ADMIN)")
    hook = os.path.join(work, "hook.sh")
    with open(hook, "w") as f:
        f.write(UACME_HOOK.format(challenges=webroot.challenges))
    os.chmod(hook, 0o755)
    conf = os.path.join(work, "conf")
    base = wrap + ["uacme", "-v", "-a", n.directory, "-c", conf, "-h", hook]
    env = dict(os.environ)

    run(base + ["-y", "new", "ops@example.test"], env, work)
    # uacme wants a dotted identifier and the only name here is
    # "localhost": an IP identifier (RFC 8738), validated at 127.0.0.1
    run(base + ["issue", "127.0.0.1"], env, work)
    crt = os.path.join(conf, "127.0.0.1", "cert.pem")
    first = load_cert(crt)
    assert_ours_ip(first, pki, "127.0.0.1")

    # renewal (forced: the default 24h certificate is due anyway)
    run(base + ["-f", "issue", "127.0.0.1"], env, work)
    second = load_cert(crt)
    assert_ours_ip(second, pki, "127.0.0.1")
    assert second.serial_number != first.serial_number

    # revoke by the account key, then by the certificate key (refused: already)
    keep = os.path.join(work, "second.pem")
    shutil.copy(crt, keep)
    run(base + ["-r", "1", "revoke", crt], env, work)
    assert not os.path.exists(crt)
    proc = subprocess.run(
        base + ["revoke", keep, os.path.join(conf, "private", "127.0.0.1", "key.pem")],
        env=env, cwd=work, capture_output=True, text=True, timeout=CLIENT_TIMEOUT)
    assert proc.returncode != 0
    assert "alreadyRevoked" in proc.stderr, proc.stderr[-2000:]


# ------------------------------------------------------------- dehydrated


@pytest.mark.skipif(shutil.which("dehydrated") is None, reason="dehydrated not installed")
def test_dehydrated_http01_issue_renew_revoke(nginx_factory, pki, prefix, webroot):
    n = start_acme_nginx(nginx_factory, pki, {"http01Port": webroot.port})
    work = os.path.join(prefix, "dehydrated")
    os.makedirs(work)
    config = os.path.join(work, "config")
    with open(config, "w") as f:
        f.write('CA="%s"\n' % n.directory)
        f.write('CURL_OPTS="--cacert %s"\n' % pki.root_crt)
        f.write('BASEDIR="%s"\n' % work)
        f.write('WELLKNOWN="%s"\n' % webroot.challenges)
        f.write('CONTACT_EMAIL="ops@example.test"\n')
        f.write('KEY_ALGO=prime256v1\n')
        f.write('OCSP_FETCH="no"\nOCSP_MUST_STAPLE="no"\n')
    env = dict(os.environ)
    base = ["dehydrated", "--config", config]

    run(base + ["--register", "--accept-terms"], env, work)
    run(base + ["--cron", "--domain", "localhost"], env, work)
    crt = os.path.join(work, "certs", "localhost", "cert.pem")
    first = load_cert(crt)
    assert_ours(first, pki, "localhost")

    run(base + ["--cron", "--domain", "localhost", "--force", "--force-validation"],
        env, work)
    second = load_cert(crt)
    assert_ours(second, pki, "localhost")
    assert second.serial_number != first.serial_number

    keep = os.path.join(work, "second.pem")
    shutil.copy(crt, keep)
    run(base + ["--revoke", crt], env, work)
    proc = subprocess.run(base + ["--revoke", keep], env=env, cwd=work,
                          capture_output=True, text=True, timeout=CLIENT_TIMEOUT)
    assert proc.returncode != 0
    assert "alreadyRevoked" in proc.stdout + proc.stderr


# ------------------------------------------------------------ lego dns-01

KNOT_CONF = """\
server:
    listen: 127.0.0.1@{port}
    rundir: {dir}
control:
    listen: {dir}/knot.sock
database:
    storage: {dir}/db
log:
  - target: {dir}/knotd.log
    any: info
key:
  - id: lego
    algorithm: hmac-sha256
    secret: {secret}
acl:
  - id: lego-update
    key: lego
    action: update
template:
  - id: default
    storage: {dir}
    file: "%s.zone"
    zonefile-sync: -1
    journal-content: none
zone:
  - domain: {zone}
    acl: lego-update
"""

ZONE = """\
$ORIGIN {zone}.
$TTL 60
@    SOA ns.{zone}. hostmaster.{zone}. 1 3600 600 86400 60
@    NS  ns
ns   A   127.0.0.1
www  A   127.0.0.1
"""


class Knot:
    """A private authoritative knotd on 127.0.0.1 (UDP and TCP) for one zone
    that accepts TSIG-signed dynamic updates."""

    zone = "acme.test"

    def __init__(self, base):
        self.dir = base
        os.makedirs(base)
        self.port = free_port()
        self.secret = base64.b64encode(os.urandom(32)).decode()
        conf = os.path.join(base, "knot.conf")
        with open(conf, "w") as f:
            f.write(KNOT_CONF.format(port=self.port, dir=base, secret=self.secret,
                                     zone=self.zone))
        with open(os.path.join(base, self.zone + ".zone"), "w") as f:
            f.write(ZONE.format(zone=self.zone))
        self.out = open(os.path.join(base, "stdout.log"), "wb")
        self.proc = subprocess.Popen(["knotd", "-c", conf], stdout=self.out,
                                     stderr=subprocess.STDOUT)
        if not wait_for_port(self.port, self.proc):
            self.stop()
            with open(os.path.join(base, "stdout.log")) as f:
                raise AssertionError("knotd did not start:\n" + f.read())

    @property
    def address(self):
        return "127.0.0.1:%d" % self.port

    def stop(self):
        stop_process(self.proc, signal.SIGTERM)
        self.out.close()


@pytest.fixture
def knot(prefix):
    if shutil.which("knotd") is None:
        pytest.skip("knotd not installed")
    k = Knot(os.path.join(prefix, "knot"))
    yield k
    k.stop()


@pytest.mark.skipif(shutil.which("lego") is None, reason="lego not installed")
def test_lego_dns01_issue_renew_revoke(nginx_factory, pki, prefix, knot):
    n = start_acme_nginx(nginx_factory, pki, {"dnsResolver": knot.address})
    work = os.path.join(prefix, "lego")
    os.makedirs(work)
    name = "www." + knot.zone
    env = dict(os.environ, LEGO_CA_CERTIFICATES=pki.root_crt,
               RFC2136_NAMESERVER=knot.address,
               RFC2136_TSIG_KEY="lego", RFC2136_TSIG_SECRET=knot.secret,
               RFC2136_TSIG_ALGORITHM="hmac-sha256.",
               RFC2136_TTL="1", RFC2136_DNS_TIMEOUT="10s",
               RFC2136_POLLING_INTERVAL="1s", RFC2136_PROPAGATION_TIMEOUT="30s")
    # the zone's NS is not reachable on port 53: no propagation check
    common = ["lego", "--server", n.directory, "--email", "ops@example.test",
              "--accept-tos", "--domains", name, "--dns", "rfc2136",
              "--dns.resolvers", knot.address, "--dns.disable-cp", "--path", work]
    run(common + ["run"], env, work)
    crt = os.path.join(work, "certificates", name + ".crt")
    first = load_cert(crt)
    assert_ours(first, pki, name)

    run(common + ["renew", "--days", "9999", "--no-random-sleep"], env, work)
    second = load_cert(crt)
    assert_ours(second, pki, name)
    assert second.serial_number != first.serial_number

    run(common + ["revoke"], env, work)
    # the challenge records were updated into the zone and removed again
    with open(os.path.join(knot.dir, "knotd.log")) as f:
        log = f.read()
    assert log.count("DDNS, finished") >= 4, log[-2000:]


# -------------------------------------------------------- lego tls-alpn-01


@pytest.mark.skipif(shutil.which("lego") is None, reason="lego not installed")
def test_lego_tlsalpn01_issue_renew_revoke(nginx_factory, pki, prefix):
    port = free_port()
    n = start_acme_nginx(nginx_factory, pki, {"tlsAlpn01Port": port})
    work = os.path.join(prefix, "lego")
    os.makedirs(work)
    env = dict(os.environ, LEGO_CA_CERTIFICATES=pki.root_crt)
    common = ["lego", "--server", n.directory, "--email", "ops@example.test",
              "--accept-tos", "--domains", "localhost", "--tls",
              "--tls.port", "127.0.0.1:%d" % port, "--path", work]
    run(common + ["run"], env, work)
    crt = os.path.join(work, "certificates", "localhost.crt")
    first = load_cert(crt)
    assert_ours(first, pki, "localhost")

    run(common + ["renew", "--days", "9999", "--no-random-sleep"], env, work)
    second = load_cert(crt)
    assert_ours(second, pki, "localhost")
    assert second.serial_number != first.serial_number

    run(common + ["revoke"], env, work)
