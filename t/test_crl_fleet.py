"""CRL and OCSP in the loopback fleet (Redis, node A, node B): both nodes
serve the same CRL bytes and the same OCSP answers; a revoke on node A is in
node B's CRL and OCSP within the configured check interval; the node that
holds the CRL lease is killed and the other takes over and keeps the CRL
renewed."""

import json
import os
import shutil
import signal
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp

from conftest import stop_process
from fleet import PROVISIONER_PASSWORD, STREAM_MODULE, Fleet, aud
from tokens import Provisioner, make_csr

pytestmark = pytest.mark.skipif(
    not os.path.exists(STREAM_MODULE) or not shutil.which("redis-server"),
    reason="needs libnginx-mod-stream and redis-server")

CHECK_INTERVAL = 0.3   # nginxStepca.crlCheckInterval
RENEW_PERIOD = 3       # crl.renewPeriod, seconds
LEASE_TTL = 3          # max(3 checks, 3 s): crl_service.cc


@pytest.fixture
def prov(pki):
    return Provisioner(pki.ca_json, PROVISIONER_PASSWORD)


@pytest.fixture
def fleet(request, prefix, pki, server_tls, module_path):
    doc = pki.read_ca_json()
    doc["crl"] = {"enabled": True, "generateOnRevoke": True, "cacheDuration": "20s",
                  "renewPeriod": "%ds" % RENEW_PERIOD,
                  "idpURL": "http://crl.example.test/1.0/crl"}
    doc["nginxStepca"] = {"crlCheckInterval": "%dms" % int(CHECK_INTERVAL * 1000),
                          "ocsp": {"path": "/ocsp", "url": "http://ocsp.example.test/ocsp"}}
    pki.write_ca_json(doc)
    crt, key = server_tls
    f = Fleet(os.path.join(prefix, "fleet"), pki, crt, key, module_path).start()
    yield f
    f.stop()
    assert not f.crashes(), "\n".join(f.crashes())
    assert not f.bad_lines(), "\n".join(f.bad_lines())


def issue(fleet, prov, node, cn):
    csr, _ = make_csr(cn)
    status, body = fleet.sign(csr, prov.token(cn, aud(node.port)), port=node.port)
    assert status == 201, body
    return x509.load_pem_x509_certificate(json.loads(body)["crt"].encode())


def revoke(fleet, prov, node, serial, reason_code=1):
    body = json.dumps({"serial": str(serial), "reasonCode": reason_code, "passive": True,
                       "ott": prov.token(str(serial), "https://127.0.0.1:%d/1.0/revoke" % node.port)})
    status, data = fleet.request("POST", "/1.0/revoke", port=node.port, body=body)
    assert status == 200, data


def crl_der(fleet, node):
    status, der = fleet.request("GET", "/1.0/crl", port=node.port)
    assert status == 200, der
    return der


def crl_number(crl):
    return crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number


def ocsp_answer(fleet, node, cert, issuer):
    import http.client
    req = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, hashes.SHA1()).build()
    conn = http.client.HTTPSConnection("127.0.0.1", node.port, timeout=30, context=fleet.ctx)
    try:
        conn.request("POST", "/ocsp", body=req.public_bytes(serialization.Encoding.DER),
                     headers={"Content-Type": "application/ocsp-request"})
        resp = conn.getresponse()
        assert resp.status == 200
        return resp.read()
    finally:
        conn.close()


def lease_holder(fleet):
    return fleet.redis.cli("GET", "stepca:crl/lease").strip()


def parent_of(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("PPid:"):
                    return int(line.split()[1])
    except FileNotFoundError:
        return None


def node_of_holder(fleet, holder):
    pid = int(holder.split("/")[1])
    for n in fleet.nodes:
        if parent_of(pid) == n.proc.pid:
            return n
    return None


def workers_of(node):
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit() and parent_of(int(d)) == node.proc.pid:
            out.append(int(d))
    return out


def wait(pred, timeout, what):
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        v = pred()
        # not `if v`: a CRL without entries has length 0
        if v is not None and v is not False and v != "":
            return v, time.monotonic() - start
        time.sleep(0.05)
    raise AssertionError("%s: not within %ss" % (what, timeout))


def test_both_nodes_serve_the_same_crl_and_ocsp_and_a_revoke_on_a_reaches_b(fleet, prov, pki):
    issuer = x509.load_pem_x509_certificate(open(pki.intermediate_crt, "rb").read())
    bad = issue(fleet, prov, fleet.a, "bad.example.test")
    good = issue(fleet, prov, fleet.b, "good.example.test")
    assert crl_der(fleet, fleet.a) == crl_der(fleet, fleet.b)

    revoke(fleet, prov, fleet.a, bad.serial_number, reason_code=1)
    listed = lambda: x509.load_der_x509_crl(crl_der(fleet, fleet.b)) \
        .get_revoked_certificate_by_serial_number(bad.serial_number) is not None
    _, took = wait(listed, 10, "the revoke on A in B's CRL")
    # One check interval, then the holder's generation; a generous bound.
    assert took < 2 + CHECK_INTERVAL, took
    a, b = crl_der(fleet, fleet.a), crl_der(fleet, fleet.b)
    assert a == b
    crl = x509.load_der_x509_crl(b)
    assert crl.is_signature_valid(issuer.public_key())
    assert crl.get_revoked_certificate_by_serial_number(good.serial_number) is None

    # OCSP: B knows at once (the revocation record is in the store), and
    # both nodes give the same bytes for a nonce-less request (the cache is
    # shared).
    for cert, want in ((bad, ocsp.OCSPCertStatus.REVOKED), (good, ocsp.OCSPCertStatus.GOOD)):
        ra, rb = ocsp_answer(fleet, fleet.a, cert, issuer), ocsp_answer(fleet, fleet.b, cert, issuer)
        assert ra == rb
        parsed = ocsp.load_der_ocsp_response(rb)
        assert parsed.certificate_status == want
    assert ocsp.load_der_ocsp_response(ocsp_answer(fleet, fleet.b, bad, issuer)) \
        .revocation_reason == x509.ReasonFlags.key_compromise


def test_the_lease_moves_when_its_holder_dies(fleet, prov, pki):
    holder, _ = wait(lambda: lease_holder(fleet), 10, "a lease holder")
    dead = node_of_holder(fleet, holder)
    assert dead is not None, holder
    alive = fleet.b if dead is fleet.a else fleet.a
    before = x509.load_der_x509_crl(crl_der(fleet, alive))

    # Kill the holder's node outright (master first, so nothing respawns):
    # no exit handler runs and the lease is left to expire.
    workers = workers_of(dead)
    os.kill(dead.proc.pid, signal.SIGKILL)
    for w in workers:
        try:
            os.kill(w, signal.SIGKILL)
        except ProcessLookupError:
            pass
    dead.proc.wait(timeout=10)

    def taken():
        h = lease_holder(fleet)
        return h if h and h != holder and node_of_holder(fleet, h) is alive else None
    new_holder, took = wait(taken, LEASE_TTL + 5, "a new lease holder on the other node")
    assert took <= LEASE_TTL + 2, took

    # The survivor keeps renewing: a new number at the next renew period.
    def renewed():
        crl = x509.load_der_x509_crl(crl_der(fleet, alive))
        return crl if crl_number(crl) > crl_number(before) and \
            crl.last_update > before.last_update else None
    crl, _ = wait(renewed, RENEW_PERIOD + LEASE_TTL + 5, "a renewed CRL")
    assert crl.next_update > before.next_update
    # And a revoke now is listed by the new holder.
    cert = issue(fleet, prov, alive, "after.example.test")
    revoke(fleet, prov, alive, cert.serial_number)
    wait(lambda: x509.load_der_x509_crl(crl_der(fleet, alive))
         .get_revoked_certificate_by_serial_number(cert.serial_number) is not None,
         10, "the revoke after the takeover")
    stop_process(dead.proc)  # already gone; keeps the teardown uniform
