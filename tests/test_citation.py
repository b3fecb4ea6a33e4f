"""Citable (issue 12): CITATION.cff, CHANGELOG.md, the model version of docs/ODD.md and the
manifest fields, all telling the same versions."""

from __future__ import annotations

import re
import tomllib

import pytest
import yaml
from click.testing import CliRunner
from conftest import ROOT

import ci_sim
from ci_sim import MODEL_VERSION
from ci_sim.cli import main
from ci_sim.model.scenario import FORMAT_VERSION
from ci_sim.runs.results import manifest, versions

#: the top-level keys of Citation File Format 1.2.0 (its schema guide), the first four required
CFF_REQUIRED = {"cff-version", "message", "title", "authors"}
CFF_KEYS = CFF_REQUIRED | {
    "abstract",
    "commit",
    "contact",
    "date-released",
    "doi",
    "identifiers",
    "keywords",
    "license",
    "license-url",
    "preferred-citation",
    "references",
    "repository",
    "repository-artifact",
    "repository-code",
    "type",
    "url",
    "version",
}


@pytest.fixture(scope="module")
def cff() -> dict:
    return yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))


def cff_problems(data: dict) -> list[str]:
    """What makes ``data`` an invalid CFF 1.2.0 file for software (the parts this project uses)."""
    problems = [f"missing required key {k!r}" for k in sorted(CFF_REQUIRED - set(data))]
    problems += [f"{k!r} is not a CFF 1.2.0 key" for k in sorted(set(data) - CFF_KEYS)]
    if data.get("cff-version") != "1.2.0":
        problems.append(f"cff-version {data.get('cff-version')!r}: write 1.2.0")
    for key in ("message", "title", "version", "abstract", "date-released", "license"):
        if key in data and (not isinstance(data[key], str) or not data[key].strip()):
            problems.append(f"{key!r} must be non-empty text (quote dates and versions)")
    authors = data.get("authors")
    if not isinstance(authors, list) or not authors:
        problems.append("authors: a non-empty list")
    else:
        for i, a in enumerate(authors):
            if not isinstance(a, dict) or not ({"name", "family-names", "given-names"} & set(a)):
                problems.append(f"authors[{i}]: a person (family-names, given-names) or an entity (name)")
    if isinstance(data.get("date-released"), str) and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", data["date-released"]):
        problems.append("date-released: YYYY-MM-DD")
    keywords = data.get("keywords", [])
    if not isinstance(keywords, list) or not all(isinstance(k, str) and k for k in keywords):
        problems.append("keywords: a list of text")
    return problems


def test_citation_file_is_valid_cff(cff):
    assert cff_problems(cff) == []
    assert cff["authors"] == [{"name": "ci-sim developers"}]
    assert cff["license"] == "MIT" and cff["type"] == "software" and len(cff["keywords"]) >= 3


def test_the_cff_check_has_teeth(cff):
    assert cff_problems({k: v for k, v in cff.items() if k != "authors"})
    assert cff_problems({**cff, "cff_version": "1.2.0"})  # a misspelt key
    assert cff_problems({**cff, "date-released": "30 Nov 2026"})
    assert cff_problems({**cff, "version": 0.2})  # unquoted: a number
    assert cff_problems({**cff, "authors": [{"affiliation": "x"}]})


def test_one_version_everywhere(cff):
    """Package, pyproject.toml, CITATION.cff, ODD and CHANGELOG name the same versions."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert pyproject["project"]["version"] == ci_sim.__version__ == cff["version"]
    assert f"model version {MODEL_VERSION}" in " ".join(cff["abstract"].split())
    odd_top = (ROOT / "docs" / "ODD.md").read_text(encoding="utf-8").split("\n---", 1)[0]
    stated = re.findall(r"\*\*Model version (\S+?)\*\* \(package `ci_sim` (\S+?),", odd_top)
    assert stated == [(MODEL_VERSION, ci_sim.__version__)], "docs/ODD.md must state the model version at its top"


def test_changelog_has_the_release_and_an_unreleased_section(cff):
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert "## [Unreleased]" in text
    releases = re.findall(r"^## \[(\d+\.\d+\.\d+)\] - (\d{4}-\d{2}-\d{2})$", text, flags=re.M)
    assert releases[0] == (ci_sim.__version__, cff["date-released"])  # newest first, as cited
    assert releases == sorted(releases, key=lambda r: tuple(map(int, r[0].split("."))), reverse=True)
    current = text.split(f"## [{ci_sim.__version__}]", 1)[1].split("\n## [", 1)[0]
    assert f"Model version {MODEL_VERSION}" in current and f"scenario format {FORMAT_VERSION}" in current


def test_every_manifest_records_the_model_version_and_the_posterior():
    assert versions()["model_version"] == MODEL_VERSION and versions()["ci_sim"] == ci_sim.__version__
    plain = manifest(scenario="x")
    assert plain["posterior"] is None and plain["scenario"] == "x"
    given = manifest(posterior={"file": "post.parquet", "sha256": "ab"})
    assert given["posterior"] == {"file": "post.parquet", "sha256": "ab"}


def test_version_option_names_the_package_model_and_format():
    res = CliRunner().invoke(main, ["--version"])
    assert res.exit_code == 0
    assert res.output.strip() == (
        f"ci-sim {ci_sim.__version__} (model {MODEL_VERSION}, docs/ODD.md; scenario format {FORMAT_VERSION})"
    )
