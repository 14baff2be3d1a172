"""Vault and Google CAS calls of a registration authority are counted as
a step-ca upstream's are (stepca_upstream_*, t/test_ra_upstream.py): every
call the running RA makes to the service, by how it ended, with its
latency. The calls the master makes at start (the CA chain, the first
login) are not the workers' and are not counted; Google's OAuth2 token
grants are not CA Service calls and are not counted either."""

import pytest

from test_ra_google_cas import google, write_credentials  # noqa: F401
from test_ra_google_cas import write_ra_ca_json as google_ca_json
from test_ra_upstream import METRICS, sample, scrape
from test_ra_vault import sign, vault  # noqa: F401
from test_ra_vault import write_ra_ca_json as vault_ca_json


def metered(nginx_factory):
    return nginx_factory(password_file=None, workers=1, server_extra=METRICS).start()


def service_calls(fake, since):
    return [e for e in fake.log[since:] if not e[1].startswith("/token")]


def check_counted(ra, pki, fake, names):
    before = len(fake.log)
    assert sample(scrape(ra), "stepca_upstream_calls_total", result="ok") == 0
    for cn in names:
        status, body = sign(ra, pki, cn)
        assert status == 201, body
    made = len(service_calls(fake, before))
    assert made >= len(names)  # at least the sign calls
    after = scrape(ra)
    assert sample(after, "stepca_upstream_calls_total", result="ok") == made
    hist = "stepca_upstream_latency_seconds"
    assert sample(after, hist, hist + "_count") == made
    assert 0 < sample(after, hist, hist + "_sum") < made * 15
    # the service failing: one call per request, counted as failed, none retried
    fake.fail_status = 500
    before = len(fake.log)
    status, body = sign(ra, pki, "failing.example.test")
    assert status == 503, body
    assert len(service_calls(fake, before)) == 1
    down = scrape(ra)
    assert sample(down, "stepca_upstream_calls_total", result="failed") == 1
    assert sample(down, "stepca_upstream_calls_total", result="ok") == made


@pytest.mark.allow_error_log  # the failing service
def test_vault_calls_are_counted(nginx_factory, pki, vault):
    v = vault()
    vault_ca_json(pki, v)
    check_counted(metered(nginx_factory), pki, v, ["m1.example.test", "m2.example.test", "m3.example.test"])


@pytest.mark.allow_error_log  # the failing service
def test_google_cas_calls_are_counted(nginx_factory, pki, prefix, google):
    g = google()
    google_ca_json(pki, g, write_credentials(prefix, g))
    check_counted(metered(nginx_factory), pki, g, ["g1.example.test", "g2.example.test"])
