"""docs/migrating-from-step-ca.md names every ca.json field of the loader's
table (authority/config/field_inventory.cc) in a table row, and every flag
of step-ca 0.19 (read from the real step-ca's --help when it is built,
else the list below)."""

import os
import re
import subprocess

import pytest

from conftest import BUILD, REPO

DOC = os.path.join(REPO, "docs", "migrating-from-step-ca.md")
INVENTORY = os.path.join(REPO, "authority", "config", "field_inventory.cc")
STEP_CA = os.path.join(BUILD, "smallstep", "bin", "step-ca")

# step-ca 0.19.0's flags (step-ca --help), for machines without the build.
STEP_CA_FLAGS = [
    "--password-file", "--ssh-host-password-file", "--ssh-user-password-file",
    "--issuer-password-file", "--resolver", "--token", "--quiet", "--context",
    "--help", "--version",
]


def doc():
    with open(DOC) as f:
        return f.read()


def table_cells(text):
    """The first cell of every table row."""
    cells = []
    for line in text.splitlines():
        m = re.match(r"\|\s*([^|]+?)\s*\|", line)
        if m and not set(m.group(1)) <= set("-: "):
            cells.append(m.group(1))
    return cells


def inventory_paths():
    with open(INVENTORY) as f:
        src = f.read()
    table = src[src.index("kRules = {"):]
    table = table[:table.index("};")]
    paths = re.findall(r'\{"([^"]+)",\s*[HWPN],', table)
    assert len(paths) > 50, "the table's layout changed: %d rows read" % len(paths)
    return paths


def doc_name(path):
    """How the guide names a row: top-level and authority fields by their
    path, claims and provisioner members by their own name, type-specific
    provisioner members as '<TYPE> `member`'."""
    if path.startswith("claims."):
        return "`%s`" % path[len("claims."):]
    m = re.fullmatch(r"provisioner\.([^.]+)\.(.+)", path)
    if m:
        kind, member = m.groups()
        return "`%s`" % member if kind == "*" else "%s `%s`" % (kind, member)
    return "`%s`" % path


def test_every_inventory_field_has_a_row():
    cells = table_cells(doc())
    missing = [p for p in inventory_paths() if doc_name(p) not in cells]
    assert not missing, "docs/migrating-from-step-ca.md has no row for: %s" % missing


def test_rows_name_only_known_fields():
    # The reverse: a row for a field the loader does not know would tell a
    # user something the CA does not do.
    names = {doc_name(p) for p in inventory_paths()}
    text = doc()
    section = text[text.index("## ca.json, field by field"):text.index("## step-ca's command line")]
    for cell in table_cells(section):
        if cell == "field":
            continue
        assert cell in names, "row %r is not in field_inventory.cc" % cell


def step_ca_flags():
    if os.access(STEP_CA, os.X_OK):
        out = subprocess.run([STEP_CA, "--help"], capture_output=True, text=True,
                             timeout=30)
        flags = re.findall(r"^\s+(--[a-z-]+)", out.stdout + out.stderr, re.M)
        assert len(flags) >= 8, out.stdout
        return flags
    return STEP_CA_FLAGS


def test_every_step_ca_flag_has_a_row():
    cells = " ".join(table_cells(doc()))
    missing = [f for f in step_ca_flags() if "`%s`" % f not in cells]
    assert not missing, "docs/migrating-from-step-ca.md has no row for: %s" % missing


def test_the_checker_finds_a_missing_row():
    # table_cells and doc_name are what the checks stand on: a row removed
    # from a copy of the guide must be noticed.
    text = doc().replace("| `crl` |", "| crl |")
    assert "`crl`" not in table_cells(text)
    assert doc_name("provisioner.JWK.key") == "JWK `key`"
    assert doc_name("claims.enableSSHCA") == "`enableSSHCA`"
