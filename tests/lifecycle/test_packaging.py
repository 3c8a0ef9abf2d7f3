"""pyproject.toml as current setuptools reads it, without deprecation warnings."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_license_is_an_spdx_expression_and_setuptools_is_new_enough_to_read_it() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    # A table (`{ text = ... }`) is deprecated since setuptools 77 (PEP 639).
    assert config["project"]["license"] == "AGPL-3.0-or-later"
    (setuptools,) = [r for r in config["build-system"]["requires"] if r.startswith("setuptools")]
    match = re.fullmatch(r"setuptools>=(\d+)", setuptools)
    assert match and int(match.group(1)) >= 77
