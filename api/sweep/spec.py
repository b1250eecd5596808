"""The sweep file: a base scenario, axes over its key paths and head count, crossed or zipped.

``load_sweep(path)`` reads and checks a sweep file (every problem with the file, line, key and
what was expected) and returns a ``SweepPlan``: its variants, each a tuple of ``Edit``s that
``apply_edits`` writes into the base scenario's tree before it is validated (so a bad value
points at the sweep file's line). Key paths follow the scenario's own keys:
``channels[phone].service_level.target`` (an item of a list by its id), ``channels[*]...``
(every item), ``rules.min_rest_hours``; ``headcount[CONTRACT]`` drops (negative) or adds
(positive) agents of a contract.
"""

from __future__ import annotations

import difflib
import itertools
import math
import re
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

from api.errors import InputError, Problem
from api.scenario.loader import describe_error
from api.scenario.models import Scenario
from api.scenario.yamlsrc import Node, Tree, display_path, load_tree

__all__ = [
    "MAX_VARIANTS",
    "AxisPath",
    "Edit",
    "SweepFile",
    "SweepPlan",
    "Variant",
    "apply_edits",
    "axis_values",
    "load_sweep",
    "parse_path",
    "plan_from",
]

MAX_VARIANTS = 1000
"""Variants one sweep may have (a cross of four axes of six values is 1,296: split it)."""
HEADCOUNT = "headcount"
MAX_HEADCOUNT_CHANGE = 1000


class RangeSpec(BaseModel):
    """``{from: 0.9, to: 1.2, step: 0.05}``: from, from + step, ... up to ``to`` (included)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    start: float = Field(alias="from", description="First value")
    to: float = Field(description="Last value (included when on a step)")
    step: float = Field(gt=0, description="Step between values, > 0")


class SweepFile(BaseModel):
    """A sweep file (docs/sweeps.md)."""

    model_config = ConfigDict(extra="forbid")

    base: str = Field(min_length=1, description="Base scenario, relative to the sweep file")
    name: str = Field("", description="Name of the sweep, for the report")
    mode: Literal["cross", "zip"] = Field(
        "cross", description="cross: every combination of the axes; zip: the i-th values together"
    )
    time_limit_seconds: float | None = Field(
        None, gt=0, description="Solver time limit of each variant (default: the scenario's)"
    )
    set: dict[str, Any] = Field(
        default_factory=dict, description="Key path -> one value, the same in every variant"
    )
    axes: Annotated[dict[str, list[Any] | RangeSpec], Field(min_length=1)] = Field(
        description="Key path -> a list of values or {from, to, step}"
    )

    @field_validator("axes")
    @classmethod
    def _non_empty(cls, v: dict[str, list[Any] | RangeSpec]) -> dict[str, list[Any] | RangeSpec]:
        for key, values in v.items():
            if isinstance(values, list) and not values:
                raise ValueError(f"axis {key!r} has no values")
        return v


# --------------------------------------------------------------------------- key paths
@dataclass(frozen=True)
class Step:
    """One key of a path, with an optional item selector (an id, '*' or an index)."""

    key: str
    select: str | None = None


@dataclass(frozen=True)
class AxisPath:
    text: str
    steps: tuple[Step, ...]

    @property
    def headcount(self) -> str | None:
        """The contract of a ``headcount[CONTRACT]`` axis, else None."""
        if len(self.steps) == 1 and self.steps[0].key == HEADCOUNT:
            return self.steps[0].select
        return None

    @property
    def label(self) -> str:
        """A short name: the last key, with the contract of a head-count axis."""
        if self.headcount is not None:
            return f"headcount.{self.headcount}"
        return self.steps[-1].key


_STEP = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(?:\[([^\[\]]+)\])?")


def _unwrap(tp: Any) -> Any:
    """``X | None`` and ``Annotated[X, ...]`` -> X (the model or list type inside)."""
    origin = typing.get_origin(tp)
    if origin is Annotated:
        return _unwrap(typing.get_args(tp)[0])
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(tp) if a is not type(None)]
        models = [a for a in inner if _model(a) is not None or typing.get_origin(a) is list]
        return _unwrap(models[0]) if models else tp
    return tp


def _model(tp: Any) -> type[BaseModel] | None:
    tp = _unwrap(tp) if typing.get_origin(tp) is not None else tp
    return tp if isinstance(tp, type) and issubclass(tp, BaseModel) else None


def parse_path(text: str) -> AxisPath:
    """``channels[phone].demand.volume_scale`` -> its steps, checked against the scenario's
    keys (an unknown key names the keys allowed there); ValueError with what was expected."""
    text = text.strip()
    steps: list[Step] = []
    pos = 0
    while True:
        m = _STEP.match(text, pos)
        if m is None:
            raise ValueError(
                f"cannot read key path {text!r} at {text[pos:]!r}; expected keys joined by dots, "
                "a list item as key[id], key[*] or key[0], e.g. channels[phone].service_level."
                "target"
            )
        steps.append(Step(m.group(1), m.group(2).strip() if m.group(2) else None))
        pos = m.end()
        if pos == len(text):
            break
        if text[pos] != ".":
            raise ValueError(f"cannot read key path {text!r} at {text[pos:]!r}")
        pos += 1
    path = AxisPath(text, tuple(steps))
    if steps[0].key == HEADCOUNT:
        if len(steps) != 1 or not steps[0].select or steps[0].select == "*":
            raise ValueError(
                f"{text!r}: expected headcount[CONTRACT] (agents of that contract dropped or added)"
            )
        return path
    _check_keys(path)
    return path


def _check_keys(path: AxisPath) -> None:
    current: Any = Scenario
    done = ""
    for st in path.steps:
        model = _model(current)
        if model is None:
            raise ValueError(f"{done} has no keys below it (it is a value)")
        field = model.model_fields.get(st.key)
        if field is None:
            allowed = list(model.model_fields)
            hint = difflib.get_close_matches(st.key, allowed, n=1, cutoff=0.6)
            where = f" in {done}" if done else ""
            raise ValueError(
                f"unknown key {st.key!r}{where}"
                + (f"; did you mean {hint[0]!r}?" if hint else "")
                + f" (allowed: {', '.join(allowed)})"
            )
        current = _unwrap(field.annotation)
        done = f"{done}.{st.key}" if done else st.key
        if st.select is not None:
            if typing.get_origin(current) is not list:
                raise ValueError(f"{done} is not a list; drop the [{st.select}]")
            current = _unwrap(typing.get_args(current)[0])
            done += f"[{st.select}]"
        elif typing.get_origin(current) is list and st is not path.steps[-1]:
            raise ValueError(f"{done} is a list; pick its items with {st.key}[ID] or {st.key}[*]")


# --------------------------------------------------------------------------- variants
@dataclass(frozen=True)
class Edit:
    """A value written at a key path (or a head-count change), with where it was asked for."""

    path: AxisPath
    value: Any
    where: str
    """``sweeps/x.yaml:7 axes.channels[phone].service_level.target`` or an option name."""
    file: Path
    line: int


@dataclass(frozen=True)
class Variant:
    """One point of the sweep: its folder name, its axis values and its edits."""

    name: str
    values: tuple[tuple[str, Any], ...]
    edits: tuple[Edit, ...]


@dataclass(frozen=True)
class SweepPlan:
    name: str
    base: Path
    axes: tuple[str, ...]
    """The axes' labels, in the order of each variant's ``values``."""
    variants: tuple[Variant, ...]
    source: str
    """The sweep file (or the command) it came from, for the report."""


def axis_values(spec: list[Any] | RangeSpec) -> list[Any]:
    """A list as given; a range expanded (ValueError when it is empty or too long)."""
    if isinstance(spec, list):
        return spec
    if spec.to < spec.start:
        raise ValueError(f"to ({spec.to:g}) is below from ({spec.start:g})")
    span = (spec.to - spec.start) / spec.step
    if not math.isfinite(span) or span >= MAX_VARIANTS:
        raise ValueError(f"more than {MAX_VARIANTS} values; expected fewer (a larger step)")
    n = math.floor(span + 1e-9) + 1
    whole = all(float(x).is_integer() for x in (spec.start, spec.step))
    out: list[Any] = []
    for k in range(n):
        v = round(spec.start + k * spec.step, 10)
        out.append(int(v) if whole else v)
    return out


def _fmt(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (int, str)):
        return str(value)
    return re.sub(r"\s+", "", str(value))


def _labels(paths: list[AxisPath]) -> list[str]:
    short = [p.label for p in paths]
    return [
        s if short.count(s) == 1 else re.sub(r"[\[\]]", ".", p.text).replace("..", ".").strip(".")
        for s, p in zip(short, paths, strict=True)
    ]


def _folder(pairs: list[tuple[str, Any]], taken: set[str]) -> str:
    raw = "_".join(f"{k}={_fmt(v)}" for k, v in pairs) or "base"
    name = re.sub(r"[^A-Za-z0-9._=+-]+", "-", raw)[:120].strip("-.") or "variant"
    out, k = name, 2
    while out in taken:
        out, k = f"{name}-{k}", k + 1
    taken.add(out)
    return out


def plan_from(
    name: str,
    base: Path,
    axes: list[tuple[AxisPath, list[Any], str, Path, int]],
    fixed: list[Edit],
    mode: str,
    source: str,
) -> SweepPlan:
    """The variants of checked axes (path, values, where, file, line): crossed or zipped."""
    if mode == "zip":
        lengths = {len(v) for _, v, *_ in axes}
        if len(lengths) > 1:
            raise InputError.one(
                source,
                "mode: zip needs axes of one length; got "
                + ", ".join(f"{p.text}: {len(v)}" for p, v, *_ in axes),
            )
        combos: list[tuple[Any, ...]] = list(zip(*[v for _, v, *_ in axes], strict=True))
    else:
        total = math.prod(len(v) for _, v, *_ in axes)
        if total > MAX_VARIANTS:
            raise InputError.one(
                source, f"{total} variants; expected at most {MAX_VARIANTS} (split the sweep)"
            )
        combos = list(itertools.product(*[v for _, v, *_ in axes]))
    labels = _labels([p for p, *_ in axes])
    taken: set[str] = set()
    variants = []
    for combo in combos:
        edits = list(fixed)
        for (path, _, where, file, line), value in zip(axes, combo, strict=True):
            edits.append(Edit(path, value, where, file, line))
        pairs = list(zip(labels, combo, strict=True))
        variants.append(Variant(_folder(pairs, taken), tuple(pairs), tuple(edits)))
    return SweepPlan(name, base, tuple(labels), tuple(variants), source)


def _problems(exc: ValidationError, tree: Tree) -> list[Problem]:
    out: list[Problem] = []
    for e in exc.errors():
        loc = tuple(p for p in e["loc"] if p not in ("list[any]", "RangeSpec"))
        if e["type"] == "extra_forbidden":
            owner: type[BaseModel] = SweepFile if len(loc) == 1 else RangeSpec
            allowed = [f.alias or k for k, f in owner.model_fields.items()]
            key = str(loc[-1])
            hint = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
            msg = f"unknown key {key!r}" + (f"; did you mean {hint[0]!r}?" if hint else "")
            msg += f" (allowed: {', '.join(allowed)})"
        elif len(loc) == 2 and loc[0] == "axes" and e["type"] in ("list_type", "model_type"):
            if isinstance(e["input"], dict):
                continue  # a range: its own keys' problems say what is wrong
            msg = f"expected a list of values or {{from, to, step}}, got {e['input']!r}"
        else:
            msg = describe_error(e)
        p = Problem(tree.where(loc), msg)
        if p not in out:
            out.append(p)
    return out


def load_sweep(path: Path, time_limit_s: float | None = None) -> SweepPlan:
    """Read and check a sweep file and its axes (not the variants' values: those are checked
    when each variant's scenario is prepared); InputError with every problem found."""
    tree = load_tree(path)
    raw = tree.root.plain()
    problems: list[Problem] = []
    spec: SweepFile | None = None
    try:
        spec = SweepFile.model_validate(raw)
    except ValidationError as exc:
        problems += _problems(exc, tree)
    base_text = raw.get("base")
    base = path.parent / str(base_text)
    if isinstance(base_text, str) and base_text and not base.is_file():
        problems.append(
            Problem(tree.where(("base",)), f"file not found: {display_path(base)} (a scenario)")
        )
    axes: list[tuple[AxisPath, list[Any], str, Path, int]] = []
    fixed: list[Edit] = []
    for section in ("set", "axes"):
        node = tree.root.get(section)
        given = raw.get(section)
        if not isinstance(given, dict):
            continue
        checked = getattr(spec, section) if spec is not None else {}
        for key, values in given.items():
            where = tree.where((section, key))
            line = _line(node, key, tree)
            try:
                axis = parse_path(key)
            except ValueError as exc:
                problems.append(Problem(where, str(exc)))
                continue
            if key in checked:
                values = checked[key]
            else:
                try:  # the file as a whole did not validate; this value may
                    values = _VALUE[section].validate_python(values)
                except ValidationError:
                    continue  # its problem is reported above
            if section == "set":
                if axis.headcount is not None and not _whole(values):
                    problems.append(Problem(where, f"expected a whole number, got {values!r}"))
                fixed.append(Edit(axis, values, where, path, line))
                continue
            try:
                expanded = axis_values(values)
            except ValueError as exc:
                problems.append(Problem(where, str(exc)))
                continue
            bad = [v for v in expanded if not _whole(v)] if axis.headcount is not None else []
            if bad:
                problems.append(
                    Problem(where, f"expected whole numbers of agents (+ add, - drop), got {bad}")
                )
                continue
            axes.append((axis, expanded, where, path, line))
    if problems or spec is None:
        raise InputError(problems)
    limit = time_limit_s or spec.time_limit_seconds
    if limit is not None:
        where = "--time-limit" if time_limit_s else tree.where(("time_limit_seconds",))
        fixed.append(
            Edit(parse_path("solver.time_limit_seconds"), limit, where, path, tree.root.line)
        )
    return plan_from(spec.name or path.stem, base, axes, fixed, spec.mode, display_path(path))


_VALUE: dict[str, TypeAdapter[Any]] = {
    "set": TypeAdapter(Any),
    "axes": TypeAdapter(list[Any] | RangeSpec),
}


def _whole(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _line(section: Node | None, key: str, tree: Tree) -> int:
    node = section.get(key) if section is not None else None
    return node.line if node is not None else tree.root.line


# --------------------------------------------------------------------------- editing a tree
def to_node(value: Any, file: Path, line: int) -> Node:
    if isinstance(value, dict):
        return Node({str(k): to_node(v, file, line) for k, v in value.items()}, file, line)
    if isinstance(value, list):
        return Node([to_node(v, file, line) for v in value], file, line)
    return Node(value, file, line)


def _items(node: Node, select: str) -> list[Node] | str:
    """The items of a list node a selector picks, or why none."""
    items = node.value if isinstance(node.value, list) else []
    if select == "*":
        return list(items)
    if select.isdigit():
        k = int(select)
        return [items[k]] if k < len(items) else f"has {len(items)} item(s), no [{k}]"
    picked = [
        it
        for it in items
        if isinstance(it.value, dict) and "id" in it.value and str(it.value["id"].value) == select
    ]
    if picked:
        return picked
    ids = [
        str(it.value["id"].value) for it in items if isinstance(it.value, dict) and "id" in it.value
    ]
    return f"has no item with id {select!r} (ids: {', '.join(ids) or 'none'})"


def _set(tree: Tree, e: Edit) -> str | None:
    """Write ``e.value`` at its path in every item it selects; an error text or None."""
    nodes = [tree.root]
    done = ""
    for i, st in enumerate(e.path.steps):
        last = i == len(e.path.steps) - 1 and st.select is None
        nxt: list[Node] = []
        for n in nodes:
            if not isinstance(n.value, dict):
                return f"{done or 'the scenario'} is not a mapping of keys in the base scenario"
            if last:
                n.value[st.key] = to_node(e.value, e.file, e.line)
                continue
            child = n.value.get(st.key)
            if child is None:
                if st.select is not None:
                    return f"the base scenario has no {done + '.' if done else ''}{st.key} list"
                child = n.value[st.key] = Node({}, e.file, e.line)
            if st.select is None:
                nxt.append(child)
                continue
            picked = _items(child, st.select)
            if isinstance(picked, str):
                return f"{done + '.' if done else ''}{st.key} {picked}"
            if i == len(e.path.steps) - 1:
                for item in picked:
                    k = child.value.index(item)
                    child.value[k] = to_node(e.value, e.file, e.line)
                continue
            nxt += picked
        done = f"{done}.{st.key}" if done else st.key
        if st.select is not None:
            done += f"[{st.select}]"
        nodes = nxt
    return None


def _headcount(tree: Tree, e: Edit, contract: str) -> str | None:
    """Drop the last ``-value`` agents of the contract (and their leave and pinned shifts), or
    add ``value`` agents that copy the skills, team and preferences of its agents in turn."""
    root = tree.root.value
    agents = root.get("agents")
    if agents is None or not isinstance(agents.value, list):
        return "the base scenario has no agents list"
    of = [a for a in agents.value if isinstance(a.value, dict) and _text(a, "contract") == contract]
    if not of:
        contracts = sorted(
            {_text(a, "contract") for a in agents.value if isinstance(a.value, dict)}
        )
        return f"no agent has contract {contract!r} (contracts: {', '.join(contracts)})"
    n = int(e.value)
    if abs(n) > MAX_HEADCOUNT_CHANGE:
        return f"expected a change of at most {MAX_HEADCOUNT_CHANGE} agents, got {n}"
    if n < 0:
        if -n > len(of):
            return f"cannot drop {-n} agents of {contract}: it has {len(of)}"
        gone = {_text(a, "id") for a in of[len(of) + n :]}
        agents.value = [a for a in agents.value if _text(a, "id") not in gone]
        for key in ("leave", "pinned"):
            rows = root.get(key)
            if rows is not None and isinstance(rows.value, list):
                rows.value = [r for r in rows.value if _text(r, "agent_id") not in gone]
    ids = {_text(a, "id") for a in agents.value}
    for k in range(n):
        model = of[k % len(of)]
        new_id, j = f"{contract}-extra-{k + 1}", 1
        while new_id in ids:
            new_id, j = f"{contract}-extra-{k + 1}-{j}", j + 1
        ids.add(new_id)
        cells = {
            key: node
            for key, node in model.value.items()
            if key not in ("id", "name", "roles", "unavailable_days")
        }
        cells["id"] = Node(new_id, e.file, e.line)
        cells["name"] = Node(f"extra {contract} {k + 1}", e.file, e.line)
        agents.value.append(Node(cells, e.file, e.line))
    return None


def _text(node: Node, key: str) -> str:
    v = node.get(key)
    return "" if v is None else str(v.value)


def apply_edits(tree: Tree, edits: tuple[Edit, ...]) -> list[Problem]:
    """Write a variant's edits into a scenario tree (CSV files already read in)."""
    problems = []
    for e in edits:
        contract = e.path.headcount
        why = _headcount(tree, e, contract) if contract is not None else _set(tree, e)
        if why is not None:
            problems.append(Problem(e.where, why))
    return problems
