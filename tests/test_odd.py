"""docs/ODD.md stays in step with the code.

The parameter table of docs/ODD.md §8.1 (between ``<!-- parameters:start -->`` and
``<!-- parameters:end -->``) must have exactly one row per field of
:class:`ci_sim.model.scenario.Parameters`, with the code name in backticks in the 2nd column, the
default as Python's ``repr`` in the 3rd and the allowed range (from the pydantic constraints)
in the 4th. The settings table of §8.2 (``<!-- settings:start -->`` ... ``<!-- settings:end -->``)
must list every scenario key outside ``parameters`` with its default. When a default, range
or field changes, these tests say which row to update.

Table convention: no ``|`` inside the first four cells of a row (use ``\\lvert`` in math).
"""

from __future__ import annotations

import re
import typing

import annotated_types as at
import pytest
from conftest import ROOT
from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from ci_sim.model.scenario import Parameters, Scenario

ODD = ROOT / "docs" / "ODD.md"
CELL_SPLIT = re.compile(r"(?<!\\)\|")
CODE_NAME = re.compile(r"^`([^`]+)`$")


def section(text: str, name: str) -> str:
    """The text between ``<!-- name:start -->`` and ``<!-- name:end -->`` (exactly one pair)."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    assert text.count(start) == 1 and text.count(end) == 1, f"docs/ODD.md needs exactly one {start} ... {end}"
    return text.split(start, 1)[1].split(end, 1)[0]


def table_rows(block: str) -> dict[str, list[str]]:
    """Rows of the Markdown table in ``block`` keyed by the backticked name in the 2nd (or 1st) cell.

    Args:
        block: text holding one Markdown table.

    Returns:
        ``{name: [cell, ...]}`` with the cells after the name cell.

    Raises:
        AssertionError: a data row without a backticked name, or a name listed twice.
    """
    rows: dict[str, list[str]] = {}
    for line in block.splitlines():
        line = line.strip()
        if not line.startswith("|"):
            continue
        cells = [c.strip() for c in CELL_SPLIT.split(line.strip("|"))]
        if set("".join(cells)) <= set("-: "):  # the separator row
            continue
        names = [i for i, c in enumerate(cells[:2]) if CODE_NAME.match(c)]
        if not names:
            if cells[:2] in (["symbol", "code name"], ["key path", "default"]):  # header rows
                continue
            raise AssertionError(f"table row without a `code name` in its first two cells: {line}")
        i = names[-1]
        name = CODE_NAME.match(cells[i]).group(1)
        assert name not in rows, f"`{name}` has two rows"
        rows[name] = cells[i + 1 :]
    return rows


def range_text(field) -> str:
    """The allowed range of a pydantic field as written in the ODD ([0, 1], (0, 100], ≥ 0, > 0)."""
    lo = hi = None
    lo_open = hi_open = False
    for m in field.metadata:
        if isinstance(m, at.Ge):
            lo = m.ge
        elif isinstance(m, at.Gt):
            lo, lo_open = m.gt, True
        elif isinstance(m, at.Le):
            hi = m.le
        elif isinstance(m, at.Lt):
            hi, hi_open = m.lt, True
    num = "{:g}".format
    if lo is not None and hi is not None:
        return f"{'(' if lo_open else '['}{num(lo)}, {num(hi)}{')' if hi_open else ']'}"
    if lo is not None:
        return f"{'>' if lo_open else '≥'} {num(lo)}"
    if hi is not None:
        return f"{'<' if hi_open else '≤'} {num(hi)}"
    return "any"


def parameter_problems(text: str) -> list[str]:
    """Every mismatch between the §8.1 table and :class:`Parameters` (empty if none)."""
    rows = table_rows(section(text, "parameters"))
    problems = []
    for name, field in Parameters.model_fields.items():
        if name not in rows:
            problems.append(f"`{name}` (default {field.default!r}) has no row in the parameter table")
            continue
        cells = rows[name]
        if len(cells) < 2:
            problems.append(f"`{name}`: the row needs default and range columns")
            continue
        if cells[0] != repr(field.default):
            problems.append(f"`{name}`: the table says default {cells[0]}, the code {field.default!r}")
        if " ".join(cells[1].split()) != range_text(field):
            problems.append(f"`{name}`: the table says range {cells[1]}, the code {range_text(field)}")
    for name in rows:
        if name not in Parameters.model_fields:
            problems.append(f"`{name}` is in the parameter table but not a field of Parameters")
    return problems


def _nested_model(annotation) -> tuple[type[BaseModel] | None, bool]:
    """The scenario section class inside an annotation, and whether it is only a list of them."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) is list and args:
        model, _ = _nested_model(args[0])
        return model, model is not None
    for arg in args:  # a union: its first section class (a list of them, as in ``list[X] | None``, keeps [])
        model, is_list = _nested_model(arg)
        if model is not None:
            return model, is_list
    return None, False


def setting_fields(model: type[BaseModel] = Scenario, prefix: str = "") -> dict[str, typing.Any]:
    """Leaf settings of the scenario schema (outside ``parameters``) by key path, with their field."""
    out: dict[str, typing.Any] = {}
    for name, field in model.model_fields.items():
        nested, is_list = _nested_model(field.annotation)
        if nested is Parameters:
            continue
        if nested is None:
            out[prefix + name] = field
        else:
            out.update(setting_fields(nested, f"{prefix}{name}{'[]' if is_list else ''}."))
    return out


def _containers(model: type[BaseModel] = Scenario, prefix: str = "") -> set[str]:
    out = set()
    for name, field in model.model_fields.items():
        nested, is_list = _nested_model(field.annotation)
        if nested is not None and nested is not Parameters:
            out.add(prefix + name)
            out |= _containers(nested, f"{prefix}{name}{'[]' if is_list else ''}.")
    return out


def settings_problems(text: str) -> list[str]:
    """Every mismatch between the §8.2 table and the scenario schema (empty if none)."""
    rows = table_rows(section(text, "settings"))
    fields = setting_fields()
    problems = []
    for path, field in fields.items():
        if path not in rows:
            problems.append(f"`{path}` has no row in the settings table")
            continue
        if field.default_factory is not None:
            continue  # a mapping or list built per scenario: described in words
        want = "required" if field.default is PydanticUndefined else repr(field.default)
        if rows[path][0] != want:
            problems.append(f"`{path}`: the table says default {rows[path][0]}, the code {want}")
    for path in rows:
        if path not in fields and path not in _containers():
            problems.append(f"`{path}` is in the settings table but is not a scenario key")
    return problems


@pytest.fixture(scope="module")
def odd_text() -> str:
    return ODD.read_text(encoding="utf-8")


def test_every_parameter_has_a_row_with_the_code_default_and_range(odd_text):
    problems = parameter_problems(odd_text)
    assert not problems, "docs/ODD.md §8.1 is out of date:\n  " + "\n  ".join(problems)


def test_every_scenario_setting_has_a_row_with_the_code_default(odd_text):
    problems = settings_problems(odd_text)
    assert not problems, "docs/ODD.md §8.2 is out of date:\n  " + "\n  ".join(problems)


def test_the_checks_catch_a_missing_row_a_wrong_default_and_a_stale_row(odd_text):
    """The checks have teeth: edited copies of the document are rejected."""
    block = section(odd_text, "parameters")
    row = next(line for line in block.splitlines() if "| `overhead` |" in line)
    missing = odd_text.replace(row + "\n", "")
    assert any("`overhead`" in p and "no row" in p for p in parameter_problems(missing))
    wrong = odd_text.replace(row, row.replace("| 6000.0 |", "| 6000 |"))
    assert wrong != odd_text
    assert any("`overhead`" in p and "default" in p for p in parameter_problems(wrong))
    wrong_range = odd_text.replace(row, row.replace("| ≥ 0 |", "| [0, 1] |"))
    assert any("`overhead`" in p and "range" in p for p in parameter_problems(wrong_range))
    stale = odd_text.replace(row, row + "\n" + row.replace("`overhead`", "`overhead_per_table`"))
    assert any("`overhead_per_table`" in p for p in parameter_problems(stale))
    settings = section(odd_text, "settings")
    srow = next(line for line in settings.splitlines() if "| `community.partners` |" in line)
    assert any(
        "`community.partners`" in p for p in settings_problems(odd_text.replace(srow, srow.replace("150", "200")))
    )
    assert any("no row" in p for p in settings_problems(odd_text.replace(srow + "\n", "")))


def test_range_text_reads_the_pydantic_constraints():
    fields = Parameters.model_fields
    assert range_text(fields["attention_beta"]) == "[0, 30]"
    assert range_text(fields["agenda_concentration"]) == "(0, 100]"
    assert range_text(fields["overhead"]) == "≥ 0"
    assert range_text(fields["staff_wage"]) == "> 0"
    assert range_text(fields["trust_rate"]) == "[0, 1]"
