"""contrib/monitoring: the Prometheus alert rules and the Grafana dashboard
name only metrics and labels the module's stepca_metrics really exports,
the rule file is well formed, and (with promtool) every alert fires on the
series that should raise it and stays quiet on a healthy CA.

promtool comes with Debian's prometheus package, which also installs and
starts the Prometheus server, so `make deps` does not install it. Set
PROMTOOL to a promtool binary, or have one on PATH, for those checks; to get
one without the server:
    apt-get download prometheus && dpkg-deb -x prometheus_*.deb /tmp/prom
    PROMTOOL=/tmp/prom/usr/bin/promtool
"""

import json
import os
import re
import shutil
import subprocess

import pytest
import yaml

from conftest import REPO

MONITORING = os.path.join(REPO, "contrib", "monitoring")
RULES = os.path.join(MONITORING, "stepca-alerts.yml")
RULE_TESTS = os.path.join(MONITORING, "stepca-alerts.test.yml")
DASHBOARD = os.path.join(MONITORING, "stepca-dashboard.json")

# What the issue asks the alerts and the dashboard to cover.
REQUIRED = {
    "stepca_certificates_issued_total", "stepca_requests_total",
    "stepca_store_latency_seconds_bucket", "stepca_store_errors_total",
    "stepca_token_replays_total", "stepca_intermediate_expiry_days",
    "stepca_root_expiry_days",
}
# Labels Prometheus adds to every scraped series.
TARGET_LABELS = {"job", "instance"}

PROMQL_WORDS = {
    "by", "without", "on", "ignoring", "group_left", "group_right", "and", "or",
    "unless", "bool", "offset", "inf", "nan",
}


def load_rules():
    with open(RULES) as f:
        return yaml.safe_load(f)


def load_dashboard():
    with open(DASHBOARD) as f:
        return json.load(f)


def rule_exprs():
    return [r["expr"] for g in load_rules()["groups"] for r in g["rules"]]


def dashboard_exprs():
    d = load_dashboard()
    exprs = [t["expr"] for p in d["panels"] for t in p.get("targets", [])]
    for v in d["templating"]["list"]:
        if v["type"] == "query":
            q = v["query"]["query"] if isinstance(v["query"], dict) else v["query"]
            m = re.fullmatch(r"label_values\((.*),\s*\w+\)", q)
            assert m, "unexpected variable query %r" % q
            exprs.append(m.group(1))
    return exprs


def promql_names(expr):
    """(metric names, label names) an expression uses: strings, ranges and
    Grafana's $variables removed, then identifiers that are not functions,
    keywords or durations."""
    labels = set()
    e = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    for matchers in re.findall(r"\{([^}]*)\}", e):
        labels |= set(re.findall(r"([a-zA-Z_]\w*)\s*(?:=~|!~|!=|=)", matchers))
    e = re.sub(r"\{[^}]*\}", " ", e)
    for grouping in re.findall(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)", e):
        labels |= {l.strip() for l in grouping.split(",") if l.strip()}
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", e)
    e = re.sub(r"\[[^\]]*\]", " ", e)
    e = re.sub(r"\$\w+", " ", e)
    metrics = set()
    for m in re.finditer(r"(?<![\w.])([a-zA-Z_:][\w:]*)(\s*\()?", e):
        name, call = m.group(1), m.group(2)
        if call or name.lower() in PROMQL_WORDS:
            continue
        metrics.add(name)
    return metrics, labels


def test_promql_names_reads_selectors_and_groupings():
    # The extractor itself: a broken one would find nothing and pass.
    metrics, labels = promql_names(
        'sum by (instance, le) (rate(a_total{job="x",status=~"5.."}[5m])) '
        '/ on (instance) histogram_quantile(0.9, b_bucket) > bool 0.5 '
        'and c offset 5m')
    assert metrics == {"a_total", "b_bucket", "c"}
    assert labels == {"instance", "le", "job", "status"}


def test_rules_are_well_formed():
    doc = load_rules()
    assert set(doc) == {"groups"}
    names, alerts = set(), set()
    for g in doc["groups"]:
        assert g["name"] not in names, "duplicate group " + g["name"]
        names.add(g["name"])
        assert g["rules"], g["name"]
        for r in g["rules"]:
            assert set(r) <= {"alert", "expr", "for", "labels", "annotations"}, r
            assert re.fullmatch(r"Stepca[A-Z][A-Za-z]+", r["alert"]), r["alert"]
            assert r["alert"] not in alerts, "duplicate alert " + r["alert"]
            alerts.add(r["alert"])
            assert r["labels"]["severity"] in ("warning", "critical"), r["alert"]
            assert r["annotations"]["summary"] and r["annotations"]["description"], r["alert"]
            if "for" in r:
                assert re.fullmatch(r"\d+[smhd]", r["for"]), r["for"]
            # Every alert is scoped to the scrape job, so other jobs'
            # series never mix in.
            assert 'job="stepca"' in r["expr"], r["alert"]


def test_rules_and_dashboard_cover_the_required_metrics():
    for what, exprs in (("rules", rule_exprs()), ("dashboard", dashboard_exprs())):
        used = set()
        for e in exprs:
            used |= promql_names(e)[0]
        missing = REQUIRED - used
        assert not missing, "%s do not use %s" % (what, sorted(missing))


def test_dashboard_is_well_formed():
    d = load_dashboard()
    assert d["uid"] and d["title"] and isinstance(d["schemaVersion"], int)
    ids = [p["id"] for p in d["panels"]]
    assert len(ids) == len(set(ids)), "duplicate panel ids"
    cells = set()
    variables = {v["name"] for v in d["templating"]["list"]}
    for p in d["panels"]:
        g = p["gridPos"]
        assert 0 <= g["x"] and g["x"] + g["w"] <= 24, p["title"]
        for x in range(g["x"], g["x"] + g["w"]):
            for y in range(g["y"], g["y"] + g["h"]):
                assert (x, y) not in cells, "panel %r overlaps another" % p["title"]
                cells.add((x, y))
        assert p["datasource"]["uid"] == "${datasource}", p["title"]
        refs = [t["refId"] for t in p["targets"]]
        assert refs and len(refs) == len(set(refs)), p["title"]
        for t in p["targets"]:
            for var in re.findall(r"\$(\w+)", t["expr"]):
                assert var in variables or var.startswith("__"), (p["title"], var)


@pytest.fixture
def scraped(nginx_factory):
    """The /metrics text of a CA that answered a few requests (so the
    route and status labels have samples)."""
    n = nginx_factory(workers=1, server_extra=(
        "        location = /metrics {\n            stepca_metrics;\n        }\n")).start()
    assert n.get("/health")[0] == 200
    assert n.get("/roots")[0] == 201
    assert n.request("POST", "/1.0/sign", body=b"{}")[0] == 400
    status, _, body = n.get("/metrics")
    assert status == 200
    return body.decode()


def exported(text):
    """{sample name: set of label names} of a Prometheus text exposition."""
    names, types = {}, {}
    for line in text.splitlines():
        m = re.match(r"# TYPE (\S+) (\S+)", line)
        if m:
            types[m.group(1)] = m.group(2)
            names.setdefault(m.group(1), set())
            continue
        if line.startswith("#") or not line:
            continue
        m = re.match(r"([a-zA-Z_:][\w:]*)(?:\{(.*)\})? ", line)
        assert m, line
        names.setdefault(m.group(1), set()).update(
            re.findall(r'([a-zA-Z_]\w*)="', m.group(2) or ""))
    for fam, kind in types.items():
        if kind == "histogram":
            for suffix in ("_bucket", "_sum", "_count"):
                names.setdefault(fam + suffix, set())
    return names


def test_every_metric_and_label_named_exists(scraped):
    have = exported(scraped)
    assert REQUIRED <= set(have), sorted(REQUIRED - set(have))
    all_labels = set().union(*have.values()) | TARGET_LABELS
    for what, exprs in (("rules", rule_exprs()), ("dashboard", dashboard_exprs())):
        for e in exprs:
            metrics, labels = promql_names(e)
            unknown = metrics - set(have)
            assert not unknown, "%s name %s, not in /metrics: %s" % (what, sorted(unknown), e)
            unknown = labels - all_labels
            assert not unknown, "%s use labels %s, not in /metrics: %s" % (what, sorted(unknown), e)


def test_label_values_matched_exist(scraped):
    # state="invalid" and the like: values the module can emit.
    states = set(re.findall(r'state="(\w+)"', scraped))
    assert "invalid" in states and "pending" in states
    for e in rule_exprs() + dashboard_exprs():
        for v in re.findall(r'state="(\w+)"', e):
            assert v in states, (v, e)


def promtool():
    p = os.environ.get("PROMTOOL") or shutil.which("promtool")
    if not p:
        pytest.skip("promtool not found (set PROMTOOL; Debian's prometheus package "
                    "has it, see this file's docstring)")
    return p


def test_promtool_check_rules():
    r = subprocess.run([promtool(), "check", "rules", RULES],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    n = sum(len(g["rules"]) for g in load_rules()["groups"])
    assert "SUCCESS: %d rules found" % n in r.stdout, r.stdout


def test_promtool_alert_unit_tests():
    r = subprocess.run([promtool(), "test", "rules", RULE_TESTS], cwd=MONITORING,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    # Every alert has a test that makes it fire.
    with open(RULE_TESTS) as f:
        tests = yaml.safe_load(f)["tests"]
    fired = {a["alertname"] for t in tests for a in t["alert_rule_test"] if a["exp_alerts"]}
    alerts = {r["alert"] for g in load_rules()["groups"] for r in g["rules"]}
    assert alerts == fired, "alerts without a firing test: %s" % sorted(alerts - fired)
