"""Loading a scenario: YAML (following ``extends:``) and the CSV files it names -> a validated
``LoadedScenario``; pydantic's errors become located problems (file, line, key path)."""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ValidationError,
)

from api.errors import InputError, Problem
from api.scenario.checker import check_scenario, raw_references
from api.scenario.csvio import read_rows
from api.scenario.models import (
    AGENT_COLUMNS,
    AGENT_OPTIONAL,
    LEAVE_COLUMNS,
    LEAVE_OPTIONAL,
    PINNED_COLUMNS,
    PINNED_OPTIONAL,
    LoadedScenario,
    Scenario,
)
from api.scenario.yamlsrc import Node, Tree, display_path, load_tree

__all__ = ["describe_error", "load_scenario", "model_at"]

# --------------------------------------------------------------------------- loading
_FILE_KEYS = {
    "agents": (AGENT_COLUMNS, AGENT_OPTIONAL),
    "leave": (LEAVE_COLUMNS, LEAVE_OPTIONAL),
    "pinned": (PINNED_COLUMNS, PINNED_OPTIONAL),
}


def _csv_node(path: Path, columns: tuple[str, ...], optional: tuple[str, ...]) -> Node:
    rows = read_rows(path, columns, optional)
    items = []
    for row in rows:
        cells = {
            k: Node(v, path, row.line, csv=True)
            for k, v in row.cells.items()
            if not k.startswith("x_") and not (k in optional and v == "")
        }
        items.append(Node(cells, path, row.line, csv=True))
    return Node(items, path, 1, csv=True)


def _resolve_files(tree: Tree, problems: list[Problem]) -> list[Path]:
    """Read the CSV files the scenario names; make demand paths absolute (relative to the file
    that names them)."""
    files: list[Path] = []
    root = tree.root.value
    for key, (cols, optional) in _FILE_KEYS.items():
        node = root.get(key)
        if node is None or not isinstance(node.value, str):
            continue
        path = node.file.parent / node.value
        try:
            root[key] = _csv_node(path, cols, optional)
            files.append(path)
        except InputError as exc:
            for p in exc.problems:
                if p.where == str(path) and p.message == "file not found":
                    problems.append(
                        Problem(f"{node.where} {key}", f"file not found: {display_path(path)}")
                    )
                else:
                    problems.append(Problem(_relative_where(p.where, path), p.message))
    channels = root.get("channels")
    if channels is not None and isinstance(channels.value, list):
        for item in channels.value:
            demand = item.get("demand")
            if demand is None or not isinstance(demand.value, dict):
                continue
            for k in ("forecast_file", "history_file"):
                f = demand.value.get(k)
                if f is not None and isinstance(f.value, str):
                    f.value = str(f.file.parent / f.value)
    return files


def _relative_where(where: str, path: Path) -> str:
    s = str(path)
    return display_path(path) + where[len(s) :] if where.startswith(s) else where


def model_at(cls: Any, loc: tuple[str | int, ...]) -> type[BaseModel] | None:
    """The pydantic model class that owns the key at ``loc`` (to list its valid keys)."""
    current: Any = cls
    for part in loc:
        model = _unwrap_model(current)
        if model is None:
            return None
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        if field is None:
            return None
        current = field.annotation
    return _unwrap_model(current)


def _unwrap_model(tp: Any) -> type[BaseModel] | None:
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return tp
    origin = typing.get_origin(tp)
    if origin is Annotated:
        return _unwrap_model(typing.get_args(tp)[0])
    if origin in (list, typing.Union, types.UnionType):
        for arg in typing.get_args(tp):
            m = _unwrap_model(arg)
            if m is not None:
                return m
    return None


_MESSAGES: dict[str, Callable[[dict[str, Any]], str]] = {
    "missing": lambda e: "required key missing",
    "greater_than_equal": lambda e: f"expected a number >= {e['ctx']['ge']}, got {e['input']!r}",
    "greater_than": lambda e: f"expected a number > {e['ctx']['gt']}, got {e['input']!r}",
    "less_than_equal": lambda e: f"expected a number <= {e['ctx']['le']}, got {e['input']!r}",
    "less_than": lambda e: f"expected a number < {e['ctx']['lt']}, got {e['input']!r}",
    "too_short": lambda e: (
        f"expected at least {e['ctx']['min_length']} item(s), got none"
        if not e["input"]
        else f"expected at least {e['ctx']['min_length']} item(s)"
    ),
    "string_too_short": lambda e: "expected a non-empty text",
    "literal_error": lambda e: f"expected one of {e['ctx']['expected']}, got {e['input']!r}",
    "enum": lambda e: f"expected one of {e['ctx']['expected']}, got {e['input']!r}",
    "int_parsing": lambda e: f"expected a whole number, got {e['input']!r}",
    "int_from_float": lambda e: f"expected a whole number, got {e['input']!r}",
    "int_type": lambda e: f"expected a whole number, got {e['input']!r}",
    "float_parsing": lambda e: f"expected a number, got {e['input']!r}",
    "float_type": lambda e: f"expected a number, got {e['input']!r}",
    "bool_parsing": lambda e: f"expected true or false, got {e['input']!r}",
    "bool_type": lambda e: f"expected true or false, got {e['input']!r}",
    "date_from_datetime_parsing": lambda e: f"expected a date like 2026-12-07, got {e['input']!r}",
    "date_parsing": lambda e: f"expected a date like 2026-12-07, got {e['input']!r}",
    "date_type": lambda e: f"expected a date like 2026-12-07, got {e['input']!r}",
    "string_type": lambda e: f"expected a text, got {e['input']!r}",
    "list_type": lambda e: f"expected a list, got {e['input']!r}",
    "model_type": lambda e: f"expected a mapping of keys, got {e['input']!r}",
    "dict_type": lambda e: f"expected a mapping, got {e['input']!r}",
    "path_type": lambda e: f"expected a file path, got {e['input']!r}",
}


def describe_error(e: Any) -> str:
    fn = _MESSAGES.get(e["type"])
    if fn is not None:
        try:
            return fn(e)
        except (KeyError, TypeError):
            pass
    return str(e["msg"]).removeprefix("Value error, ")


_TAG = re.compile(r"^(?:function-[a-z-]+\[.*\]|(?:list|dict|tuple|union|nullable)\[.*\])$")
_TAGS = {
    "int",
    "str",
    "float",
    "bool",
    "date",
    "datetime",
    "LengthSpec",
    "lax-or-strict",
    "json-or-python",
}


def _clean_loc(loc: tuple[Any, ...]) -> tuple[str | int, ...]:
    """Drop pydantic's union-branch and function tags from an error location."""
    return tuple(p for p in loc if not (isinstance(p, str) and (p in _TAGS or _TAG.match(p))))


def _pydantic_problems(exc: ValidationError, tree: Tree) -> list[Problem]:
    problems: list[Problem] = []
    seen: set[tuple[str, str]] = set()
    union_seen: set[tuple[str | int, ...]] = set()
    for e in exc.errors():
        loc = _clean_loc(tuple(e["loc"]))
        raw = tuple(e["loc"])
        if e["type"] == "extra_forbidden":
            key = str(loc[-1])
            owner = model_at(Scenario, loc[:-1])
            allowed = list(owner.model_fields) if owner is not None else []
            hint = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
            msg = f"unknown key {key!r}"
            msg += f"; did you mean {hint[0]!r}?" if hint else ""
            if allowed:
                msg += f" (allowed: {', '.join(allowed)})"
            where = tree.where(loc)
        else:
            if len(raw) != len(loc) and "length_minutes" in loc:
                # int | {min, max}: one message for both branches
                if loc in union_seen:
                    continue
                union_seen.add(loc)
                if e["type"] in ("int_type", "int_parsing", "model_type", "int_from_float"):
                    e = {**e, "type": "value_error"}
                    e["msg"] = (
                        "expected minutes (a whole number) or {min, max, step_minutes}, got "
                        f"{e['input']!r}"
                    )
            msg = describe_error(e)
            node, covered = tree.node(loc)
            where = tree.where(loc)
            if node.csv and len(loc) > len(covered) and isinstance(loc[-1], str):
                where = f"{where} column {loc[-1]}"
            if node.csv and isinstance(node.value, list) and e["type"] == "too_short":
                msg = f"no data rows; expected at least one {str(loc[-1]).rstrip('s')}"
        if (where, msg) not in seen:
            seen.add((where, msg))
            problems.append(Problem(where, msg))
    return problems


def load_scenario(
    path: Path, edit: Callable[[Tree], list[Problem]] | None = None
) -> LoadedScenario:
    """Read, merge, validate and cross-check a scenario; InputError with every problem found.
    ``edit``: changes the merged tree (CSV files read in) before it is validated, returning the
    problems it met (a sweep's variant: ``api.sweep``); the nodes it writes carry their own
    file and line, so problems with its values point at them."""
    tree = load_tree(path)
    problems: list[Problem] = []
    files = _resolve_files(tree, problems)
    if edit is not None and not problems:
        problems += edit(tree)
    plain = tree.root.plain()
    try:
        scenario = Scenario.model_validate(plain)
    except ValidationError as exc:
        problems += _pydantic_problems(exc, tree)
        problems += raw_references(tree, plain)
        raise InputError(problems) from None
    if problems:
        raise InputError(problems)
    loaded = LoadedScenario(scenario=scenario, tree=tree, files=(path, *files))
    problems = check_scenario(loaded)
    if problems:
        raise InputError(problems)
    return loaded
