"""stepca_metrics: Prometheus text, parsed strictly, counters summed over the
workers; ca.json logger.format "json" gives one JSON object per log line."""

import concurrent.futures
import json
import math
import re
import time

import pytest

from conftest import free_port
from tokens import Provisioner, make_csr, unb64u

PROVISIONER_PASSWORD = "fixture-provisioner-password"

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"'
SAMPLE_RE = re.compile(r"^(%s)(\{(.*)\})? (\S+)( -?\d+)?$" % NAME)
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}


def parse_value(text):
    if text in ("+Inf", "Inf"):
        return math.inf
    if text == "-Inf":
        return -math.inf
    if text == "NaN":
        return math.nan
    if not re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?", text):
        raise ValueError("bad value %r" % text)
    return float(text)


def parse_labels(text):
    labels, pos = {}, 0
    while pos < len(text):
        m = re.compile(LABEL).match(text, pos)
        if not m:
            raise ValueError("bad labels %r" % text)
        name, value = m.group(1), m.group(2)
        if name in labels:
            raise ValueError("duplicate label %s" % name)
        labels[name] = value.replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")
        pos = m.end()
        if pos < len(text):
            if text[pos] != ",":
                raise ValueError("bad labels %r" % text)
            pos += 1
    return labels


def parse_prometheus(text):
    """Strict text format 0.0.4: returns {family: {"type", "help",
    "samples": {(name, labels tuple): value}}}."""
    assert text.endswith("\n"), "must end with a newline"
    families, current = {}, None
    for line in text[:-1].split("\n"):
        if line.startswith("#"):
            m = re.fullmatch(r"# (HELP|TYPE) (%s) (.+)" % NAME, line)
            assert m, "bad comment line %r" % line
            kind, name, rest = m.groups()
            fam = families.setdefault(name, {"type": None, "help": None, "samples": {}})
            if kind == "TYPE":
                assert rest in TYPES, line
                assert fam["type"] is None and not fam["samples"], "TYPE after samples: " + line
                fam["type"] = rest
            else:
                assert fam["help"] is None, "second HELP: " + line
                fam["help"] = rest
            current = name
            continue
        assert line, "empty line"
        m = SAMPLE_RE.match(line)
        assert m, "bad sample line %r" % line
        name, _, labels, value, _ = m.groups()
        base = current
        assert base is not None and (
            name == base or (families[base]["type"] == "histogram" and
                             name in (base + "_bucket", base + "_sum", base + "_count"))), \
            "sample %s outside its family (%s)" % (name, base)
        key = (name, tuple(sorted(parse_labels(labels or "").items())))
        assert key not in families[base]["samples"], "duplicate series %r" % (key,)
        families[base]["samples"][key] = parse_value(value)
    for name, fam in families.items():
        assert fam["type"] and fam["help"], name
        if fam["type"] == "counter":
            assert name.endswith("_total"), name
        if fam["type"] == "histogram":
            buckets = sorted(((float("inf") if dict(l)["le"] == "+Inf" else float(dict(l)["le"])), v)
                             for (n, l), v in fam["samples"].items() if n == name + "_bucket")
            counts = [v for _, v in buckets]
            assert counts == sorted(counts), "buckets not cumulative"
            assert buckets[-1][0] == math.inf
            assert buckets[-1][1] == fam["samples"][(name + "_count", ())]
    return families


def value(fams, family, name=None, **labels):
    return fams[family]["samples"].get((name or family, tuple(sorted(labels.items()))), 0)


def test_parser_is_strict():
    good = "# HELP a_total x\n# TYPE a_total counter\na_total{k=\"v\"} 1\n"
    assert value(parse_prometheus(good), "a_total", k="v") == 1
    for bad in ["a_total 1\n",                                         # no TYPE
                good.replace("} 1", "} one"),                            # value
                good.replace('k="v"', 'k=v'),                            # label quoting
                good + "a_total{k=\"v\"} 2\n",                           # duplicate
                good.rstrip("\n"),                                       # final newline
                good.replace("counter", "countr")]:
        with pytest.raises((AssertionError, ValueError)):
            parse_prometheus(bad)


@pytest.fixture
def prov(pki):
    return Provisioner(pki.ca_json, PROVISIONER_PASSWORD)


@pytest.fixture
def metrics_nginx(nginx_factory, server_tls, prefix):
    """Two workers; a second server with reuseport, so the kernel spreads
    connections over both workers, logs the worker pid of each request."""
    crt, key = server_tls
    port2 = free_port()
    extra = """
    log_format pids '$pid $status $request_uri';
    server {
        listen 127.0.0.1:%d ssl reuseport;
        server_name localhost;
        ssl_certificate %s;
        ssl_certificate_key %s;
        access_log %s/pids.log pids;
        location = /metrics { stepca_metrics; }
        location / { stepca; }
    }
""" % (port2, crt, key, prefix)
    n = nginx_factory(workers=2, http_extra=extra,
                      server_extra="        location = /metrics {\n            stepca_metrics;\n        }\n")
    n.start()
    n.port2 = port2
    n.pids_log = prefix + "/pids.log"
    return n


def scrape(n, port=None):
    conn = n.connection()
    if port:
        conn.port = port
    try:
        conn.request("GET", "/metrics")
        r = conn.getresponse()
        body = r.read().decode()
        assert r.status == 200, body
        assert r.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
        return parse_prometheus(body)
    finally:
        conn.close()


def test_metrics_move_with_traffic_across_workers(metrics_nginx, prov, pki):
    n = metrics_nginx
    aud = "https://127.0.0.1:%d/1.0/sign" % n.port
    fams = scrape(n)
    assert set(fams) >= {"stepca_requests_total", "stepca_certificates_issued_total",
                         "stepca_token_replays_total", "stepca_store_errors_total",
                         "stepca_store_latency_seconds", "stepca_intermediate_expiry_days",
                         "stepca_root_expiry_days"}
    assert value(fams, "stepca_requests_total", route="sign", status="201") == 0
    assert value(fams, "stepca_certificates_issued_total", provisioner=prov.name) == 0
    # The fixture's intermediate and root: positive days, intermediate first.
    inter = value(fams, "stepca_intermediate_expiry_days")
    root = value(fams, "stepca_root_expiry_days")
    import datetime
    from cryptography import x509

    def days_left(path):
        with open(path, "rb") as f:
            crt = x509.load_pem_x509_certificate(f.read())
        return (crt.not_valid_after - datetime.datetime.utcnow()).total_seconds() / 86400

    assert abs(inter - days_left(pki.intermediate_crt)) < 0.01, inter
    assert abs(root - days_left(pki.root_crt)) < 0.01, root
    assert inter > 0 and root > 0

    def post(port, csr, ott):
        conn = n.connection()
        conn.port = port
        try:
            conn.request("POST", "/1.0/sign", body=json.dumps({"csr": csr, "ott": ott}))
            r = conn.getresponse()
            r.read()
            return r.status
        finally:
            conn.close()

    csr, _ = make_csr("m.example.test")
    tokens = [prov.token("m.example.test", aud) for _ in range(30)]
    jobs = [(n.port2, csr, t) for t in tokens] + [(n.port2, csr, tokens[0])] * 10
    with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(lambda j: post(*j), jobs))
    assert statuses.count(201) == 30 and statuses.count(401) == 10, statuses
    for _ in range(20):
        n.request("GET", "/roots")
    n.request("GET", "/no/such/path")

    # Both workers served requests; every scrape, from either worker, sees
    # the sum of all of them.
    with open(n.pids_log) as f:
        pids = {l.split()[0] for l in f if "/1.0/sign" in l}
    assert len(pids) == 2, pids
    for _ in range(8):
        fams = scrape(n, port=n.port2)
        assert value(fams, "stepca_requests_total", route="sign", status="201") == 30
        assert value(fams, "stepca_requests_total", route="sign", status="401") == 10
        assert value(fams, "stepca_requests_total", route="roots", status="201") == 20
        assert value(fams, "stepca_requests_total", route="other", status="404") == 1
        assert value(fams, "stepca_certificates_issued_total", provisioner=prov.name) == 30
        assert value(fams, "stepca_token_replays_total") == 10
        assert value(fams, "stepca_store_errors_total") == 0
        # per 201 the token spent in the same write as the reserved record
        # (record before sign), then the completed record; one refused
        # token per replay; and
        # the store epoch (a set-if-absent and a get) read by each pool
        # thread that runs before its worker has it cached (4 threads x 2)
        count = value(fams, "stepca_store_latency_seconds", "stepca_store_latency_seconds_count")
        assert 30 * 2 + 10 <= count <= 30 * 2 + 10 + 2 * 4 * 2, count
        assert value(fams, "stepca_store_latency_seconds", "stepca_store_latency_seconds_sum") > 0
    # The counters live in an nginx shared memory zone, which a reload
    # keeps: the new workers go on from where the old ones were.
    n.reload()
    fams = scrape(n)
    assert value(fams, "stepca_requests_total", route="sign", status="201") == 30
    assert value(fams, "stepca_certificates_issued_total", provisioner=prov.name) == 30
    assert value(fams, "stepca_token_replays_total") == 10
    assert post(n.port2, csr, prov.token("m.example.test", aud)) == 201
    assert post(n.port2, csr, tokens[1]) == 401
    for _ in range(4):
        fams = scrape(n, port=n.port2)
        assert value(fams, "stepca_requests_total", route="sign", status="201") == 31
        assert value(fams, "stepca_certificates_issued_total", provisioner=prov.name) == 31
        assert value(fams, "stepca_token_replays_total") == 11
    # and a second reload as well
    n.reload()
    assert value(scrape(n), "stepca_requests_total", route="sign", status="201") == 31


def test_text_log_lines_have_one_prefix(nginx, prov):
    csr, _ = make_csr("log.example.test")
    ott = prov.token("log.example.test", "https://127.0.0.1:%d/1.0/sign" % nginx.port)
    status, _, body = nginx.request("POST", "/1.0/sign", body=json.dumps({"csr": csr, "ott": ott}))
    assert status == 201, body
    status, _, _ = nginx.request("POST", "/1.0/sign", body=json.dumps({"csr": csr, "ott": ott}))
    assert status == 401
    log = nginx.read_file("error.log")
    assert "stepca: stepca:" not in log, log
    assert re.search(r"\] \d+#\d+: \*\d+ stepca: 201 POST /1.0/sign request-id=", log), log
    assert re.search(r"stepca: 401 POST /1.0/sign request-id=", log), log


def test_metrics_only_get(metrics_nginx):
    status, _, _ = metrics_nginx.request("POST", "/metrics", body=b"x")
    assert status == 405


def test_json_logger_format(nginx_factory, pki, prov):
    doc = pki.read_ca_json()
    doc.setdefault("logger", {})["format"] = "json"
    pki.write_ca_json(doc)
    n = nginx_factory().start()
    csr, _ = make_csr("json.example.test")
    ott = prov.token("json.example.test", "https://127.0.0.1:%d/1.0/sign" % n.port)
    status, headers, body = n.request("POST", "/1.0/sign", body=json.dumps({"csr": csr, "ott": ott}),
                                      headers={"X-Request-Id": "req-json-1"})
    assert status == 201, body
    status, _, _ = n.request("POST", "/1.0/sign", body=json.dumps({"csr": csr, "ott": ott}))
    assert status == 401
    log = n.read_file("error.log")
    lines = [l for l in log.splitlines() if "stepca: {" in l]
    assert len(lines) == 2, log
    first = json.loads(lines[0].split("stepca: ", 1)[1].split(", client:", 1)[0])
    assert first["level"] == "info" and first["status"] == 201
    assert first["request-id"] == "req-json-1"
    assert first["method"] == "POST" and first["path"] == "/1.0/sign"
    assert first["msg"].startswith("issued certificate serial=")
    second = json.loads(lines[1].split("stepca: ", 1)[1].split(", client:", 1)[0])
    assert second["status"] == 401
    jti = json.loads(unb64u(ott.split(".")[1]))["jti"]
    for name in ("error.log", "access.log"):
        assert jti not in n.read_file(name) and ott.split(".")[2] not in n.read_file(name)
