"""The CA keeps its own TLS certificate fresh ("stepca_tls_certificate on"):
issued by the intermediate for ca.json's dnsNames when nginx loads its
configuration, renewed by each worker at two thirds of its life, with no
failed request across the change, and again after a reload."""

import datetime
import http.client
import os
import re
import ssl
import subprocess
import time

import pytest
from cryptography import x509

from conftest import BUILD, NGINX_HEAD, make_readable

LIFETIME = 60   # seconds: the shortest the directive takes
# notBefore is backdated by authority.backdate (1m), so the renewal comes
# at -60 + 2/3 * 120 = 20 s after issue.
RENEW_AFTER = 20

CONF = NGINX_HEAD + """\
    stepca_ca_json {ca_json};
    stepca_password_file {password};
    stepca_store {store};
    stepca_thread_pool stepca;

    server {{
        listen 127.0.0.1:{port} ssl;
        server_name localhost;

{tls_lines}
        ssl_verify_client optional_no_ca;

        location = /metrics {{
            stepca_metrics;
        }}

        location / {{
            stepca;
        }}
    }}
}}
"""

TLS_LINES = ("        stepca_tls_certificate on;\n"
             "        stepca_tls_certificate_lifetime %ds;\n" % LIFETIME)


def write(n, tls_lines=TLS_LINES):
    p = dict(n.params)
    with open(n.conf, "w") as f:
        f.write(CONF.format(password=n.pki.password_file, tls_lines=tls_lines, **p))


def make(nginx_factory, tls_lines=TLS_LINES):
    n = nginx_factory(workers=2)
    write(n, tls_lines)
    return n


def fetch(n, path="/health"):
    """One request on a new TLS connection that trusts only the CA's root
    and checks the name (127.0.0.1 is in the fixture's dnsNames): the
    served certificate and the answer."""
    ctx = ssl.create_default_context(cafile=n.pki.root_crt)
    conn = http.client.HTTPSConnection("127.0.0.1", n.port, timeout=10, context=ctx)
    try:
        conn.connect()
        der = conn.sock.getpeercert(binary_form=True)
        conn.request("GET", path)
        resp = conn.getresponse()
        return x509.load_der_x509_certificate(der), resp.status, resp.read()
    finally:
        conn.close()


def watch_for_renewal(n, old_serials, deadline):
    """Requests until a certificate with a serial not in old_serials is
    served (bounded by deadline); every request must succeed and every
    certificate be within its validity. Returns the serials seen."""
    seen = {}
    while time.monotonic() < deadline:
        cert, status, body = fetch(n)
        assert status == 200, body
        now = datetime.datetime.utcnow()
        assert cert.not_valid_before <= now < cert.not_valid_after, cert
        seen[cert.serial_number] = cert
        if set(seen) - set(old_serials):
            return seen
        time.sleep(0.05)
    raise AssertionError("no new TLS certificate before the deadline; served: %s\n%s"
                         % (sorted(seen), n.read_file("error.log")))


def test_certificate_is_issued_for_dns_names_and_renewed(nginx_factory):
    n = make(nginx_factory)
    r = n.test_config()
    assert r.returncode == 0, r.stderr
    n.start()

    with open(n.pki.intermediate_crt, "rb") as f:
        intermediate = x509.load_pem_x509_certificate(f.read())
    first, status, _ = fetch(n)
    assert status == 200
    assert first.issuer == intermediate.subject
    sans = first.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == ["localhost"]
    assert [str(ip) for ip in sans.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    life = first.not_valid_after - first.not_valid_before
    assert life == datetime.timedelta(seconds=LIFETIME + 60), life  # + backdate

    # the metric: days left, from this worker's certificate
    _, status, body = fetch(n, "/metrics")
    assert status == 200
    m = re.search(rb"^stepca_tls_certificate_expiry_days (\S+)$", body, re.M)
    assert m, body
    assert 0 < float(m.group(1)) <= LIFETIME / 86400.0

    # both workers started with the master's certificate; each renews
    seen = watch_for_renewal(n, {first.serial_number},
                             time.monotonic() + RENEW_AFTER + 30)
    renewed = [c for s, c in seen.items() if s != first.serial_number][0]
    assert renewed.not_valid_after > first.not_valid_after
    # well before the old one expired
    assert datetime.datetime.utcnow() < first.not_valid_after
    # each worker renewed its own (the master's line went to stderr, before
    # the error log was open)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        log = n.read_file("error.log")
        pids = set(re.findall(r"\] (\d+)#\d+: stepca: TLS certificate of the server in ", log))
        if len(pids) >= 2:
            break
        time.sleep(0.1)
    assert len(pids) == 2, log

    # a reload issues a new one at load, and the new workers renew it again
    before = set(seen)
    n.reload()
    seen2 = watch_for_renewal(n, before, time.monotonic() + 10)
    after_reload = set(seen2) - before
    seen3 = watch_for_renewal(n, before | after_reload,
                              time.monotonic() + RENEW_AFTER + 30)
    assert set(seen3) - before - after_reload


@pytest.mark.allow_error_log
def test_empty_dns_names_fail_the_configuration(nginx_factory):
    n = make(nginx_factory)
    doc = n.pki.read_ca_json()
    doc["dnsNames"] = []
    n.pki.write_ca_json(doc)
    r = n.test_config()
    assert r.returncode != 0
    assert re.search(r'\[emerg\].*stepca: "stepca_tls_certificate" in the server in \S+:\d+: '
                     r'\S+ca\.json: "dnsNames" is empty', r.stderr), r.stderr


@pytest.mark.allow_error_log
def test_ssl_certificate_beside_it_is_refused(nginx_factory):
    n = nginx_factory(workers=1)
    lines = TLS_LINES + "        ssl_certificate %s;\n        ssl_certificate_key %s;\n" % (
        n.params["crt"], n.params["key"])
    write(n, lines)
    r = n.test_config()
    assert r.returncode != 0
    assert 'which also has "ssl_certificate": remove one of them' in r.stderr, r.stderr

    # ssl_certificate first: refused where the directive is
    lines = "        ssl_certificate %s;\n        ssl_certificate_key %s;\n" % (
        n.params["crt"], n.params["key"]) + TLS_LINES
    write(n, lines)
    r = n.test_config()
    assert r.returncode != 0
    assert '"stepca_tls_certificate" directive cannot be used with "ssl_certificate"' \
        in r.stderr, r.stderr


@pytest.mark.allow_error_log
def test_too_short_a_lifetime_is_refused(nginx_factory):
    n = make(nginx_factory, "        stepca_tls_certificate on;\n"
                            "        stepca_tls_certificate_lifetime 59s;\n")
    r = n.test_config()
    assert r.returncode != 0
    assert '"stepca_tls_certificate_lifetime" of the server in' in r.stderr
    assert "it must be at least 60s" in r.stderr, r.stderr


@pytest.mark.allow_error_log
def test_needs_a_ca(nginx_factory):
    n = nginx_factory(workers=1)
    with open(n.conf, "w") as f:
        f.write(NGINX_HEAD.format(**n.params) + """
    server {
        listen 127.0.0.1:%d ssl;
        stepca_tls_certificate on;
    }
}
""" % n.port)
    r = n.test_config()
    assert r.returncode != 0
    assert '"stepca_tls_certificate" is on in the server in' in r.stderr
    assert '"stepca_ca_json" is not set for it' in r.stderr, r.stderr


def test_stepca_init_writes_a_configuration_that_serves_its_own_certificate(
        nginx_factory, prefix):
    """`stepca init` writes config/nginx-stepca.conf; included as it is (plus
    the password file), nginx serves a certificate the new root validates."""
    cli = os.path.join(BUILD, "stepca")
    if not os.access(cli, os.X_OK):
        pytest.skip("%s not built" % cli)
    d = os.path.join(prefix, "init")
    os.makedirs(d)
    pw = os.path.join(d, "pw.txt")
    with open(pw, "w") as f:
        f.write("init-ca-password\n")
    steppath = os.path.join(d, "step")
    n = nginx_factory(workers=1)
    subprocess.run([cli, "init", "--name", "Self TLS", "--dns", "localhost",
                    "--dns", "127.0.0.1", "--address", "127.0.0.1:%d" % n.port,
                    "--provisioner", "admin@example.test", "--password-file", pw,
                    "--provisioner-password-file", pw, "--steppath", steppath],
                   check=True, capture_output=True, timeout=120)
    snippet = os.path.join(steppath, "config", "nginx-stepca.conf")
    with open(snippet) as f:
        assert "stepca_tls_certificate on;" in f.read()
    with open(n.conf, "w") as f:
        f.write(NGINX_HEAD.format(**n.params)
                + "    stepca_password_file %s;\n    include %s;\n}\n" % (pw, snippet))
    make_readable(d)
    n.start()
    ctx = ssl.create_default_context(
        cafile=os.path.join(steppath, "certs", "root_ca.crt"))
    conn = http.client.HTTPSConnection("127.0.0.1", n.port, timeout=10, context=ctx)
    try:
        conn.request("GET", "/health")
        resp = conn.getresponse()
        assert resp.status == 200, resp.read()
    finally:
        conn.close()
