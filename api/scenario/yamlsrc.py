"""YAML scenario sources with locations: every value knows its file and line, through ``extends``.

``load_tree(path)`` reads a scenario file, follows its ``extends:`` chain (cycles are an error),
and deep-merges the files: mappings key by key, lists of mappings that carry ``id`` item by item
(``remove: true`` drops an item), anything else replaced. The result is a tree of ``Node``s;
``Node.plain()`` gives plain Python values and ``Tree.where(loc)`` the file, line and key path of
any location, so later errors can point at the line a planner has to edit.

Time-like scalars stay strings: ``22:00`` is not read as the base-60 integer 1320 (YAML 1.1).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from api.errors import InputError, Problem

__all__ = [
    "MAX_YAML_DEPTH",
    "Node",
    "Tree",
    "depth_problem",
    "display_path",
    "load_tree",
    "too_deep",
]

MAX_YAML_DEPTH = 64
"""Nesting levels a YAML file may have (a scenario needs about 6). Checked on the token stream
before the document is built: the builders recurse per level, and a file nested some hundreds
of levels deep would exhaust Python's stack (a crash, not an error naming the file)."""

_OPEN = (
    yaml.BlockMappingStartToken,
    yaml.BlockSequenceStartToken,
    yaml.FlowMappingStartToken,
    yaml.FlowSequenceStartToken,
)
_CLOSE = (yaml.BlockEndToken, yaml.FlowMappingEndToken, yaml.FlowSequenceEndToken)


def too_deep(text: str, limit: int = MAX_YAML_DEPTH) -> int | None:
    """The line (1-based) where ``text`` first nests deeper than ``limit`` levels, else None.
    Reads tokens only (the scanner does not recurse); invalid YAML is left to the parser."""
    depth = 0
    try:
        for token in yaml.scan(text, Loader=yaml.SafeLoader):
            if isinstance(token, _OPEN):
                depth += 1
                if depth > limit:
                    return int(token.start_mark.line) + 1
            elif isinstance(token, _CLOSE):
                depth -= 1
    except yaml.YAMLError:
        return None
    return None


def depth_problem(where: str, line: int) -> Problem:
    return Problem(
        f"{where}:{line}",
        f"nested more than {MAX_YAML_DEPTH} levels deep; a scenario needs a handful "
        "(flatten the lists and mappings)",
    )


class _Loader(yaml.SafeLoader):
    """SafeLoader without YAML 1.1's base-60 numbers (``22:00`` stays a string)."""


_Loader.yaml_implicit_resolvers = {
    k: [
        (tag, rx)
        for tag, rx in v
        if tag not in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
    ]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)$"),
    list("-+0123456789"),
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)


def display_path(path: Path) -> str:
    """A path as the user would type it: relative to the working directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


@dataclass
class Node:
    """A YAML (or CSV) value with where it was written. ``value`` is a dict of Nodes, a list of
    Nodes, or a scalar."""

    value: Any
    file: Path
    line: int
    csv: bool = False
    children_order: list[str] = field(default_factory=list)

    @property
    def where(self) -> str:
        return f"{display_path(self.file)}:{self.line}"

    def plain(self) -> Any:
        if isinstance(self.value, dict):
            return {k: v.plain() for k, v in self.value.items()}
        if isinstance(self.value, list):
            return [v.plain() for v in self.value]
        return self.value

    def get(self, key: str) -> Node | None:
        return self.value.get(key) if isinstance(self.value, dict) else None


def _build(node: yaml.Node, loader: _Loader, file: Path, problems: list[Problem]) -> Node:
    line = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Node] = {}
        for k, v in node.value:
            key = loader.construct_object(k, deep=True)
            kline = k.start_mark.line + 1
            if not isinstance(key, str):
                problems.append(
                    Problem(
                        f"{display_path(file)}:{kline}",
                        f"keys must be words, got {key!r} (quote it if it is a time or number)",
                    )
                )
                continue
            if key in out:
                problems.append(
                    Problem(
                        f"{display_path(file)}:{kline}",
                        f"key {key!r} is given twice in this mapping (first on line "
                        f"{out[key].line})",
                    )
                )
                continue
            child = _build(v, loader, file, problems)
            if not isinstance(child.value, (dict, list)):
                child.line = kline
            out[key] = child
        return Node(out, file, line)
    if isinstance(node, yaml.SequenceNode):
        return Node([_build(v, loader, file, problems) for v in node.value], file, line)
    try:
        value = loader.construct_object(node, deep=True)
    except ValueError as exc:
        # a scalar YAML reads as a date or time that is not one (2026-13-01: month 13)
        problems.append(
            Problem(f"{display_path(file)}:{line}", f"{node.value!r} is not a valid date: {exc}")
        )
        value = node.value
    return Node(value, file, line)


def _read(path: Path, where: str) -> Node:
    if not path.exists():
        raise InputError.one(where, f"file not found: {display_path(path)}")
    if path.is_dir():
        raise InputError.one(where, f"expected a YAML file, found a directory: {path}")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError.one(display_path(path), f"not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise InputError.one(display_path(path), f"cannot read: {exc.strerror}") from None
    deep = too_deep(text)
    if deep is not None:
        raise InputError([depth_problem(display_path(path), deep)])
    loader = _Loader(text)
    problems: list[Problem] = []
    try:
        root = loader.get_single_node()
        if root is None:
            raise InputError.one(display_path(path), "the file is empty; expected a scenario")
        tree = _build(root, loader, path, problems)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        raise InputError.one(
            f"{display_path(path)}{line}", f"not valid YAML: {exc.problem or exc.context}"
        ) from None
    except yaml.YAMLError as exc:
        raise InputError.one(display_path(path), f"not valid YAML: {exc}") from None
    finally:
        loader.dispose()
    if problems:
        raise InputError(problems)
    if not isinstance(tree.value, dict):
        raise InputError.one(
            f"{display_path(path)}:{tree.line}",
            "expected a mapping of keys (name:, horizon:, channels: ...) at the top level",
        )
    return tree


def _is_id_list(node: Node) -> bool:
    return (
        isinstance(node.value, list)
        and bool(node.value)
        and all(isinstance(item.value, dict) and "id" in item.value for item in node.value)
    )


def _merge(base: Node, over: Node, key_path: str, problems: list[Problem]) -> Node:
    """Deep-merge ``over`` onto ``base`` (both kept unchanged)."""
    if isinstance(base.value, dict) and isinstance(over.value, dict):
        merged = dict(base.value)
        for k, v in over.value.items():
            sub = f"{key_path}.{k}" if key_path else k
            merged[k] = _merge(base.value[k], v, sub, problems) if k in base.value else v
        return Node(merged, over.file, over.line)
    if isinstance(base.value, list) and isinstance(over.value, list) and _is_id_list(over):
        if not _is_id_list(base):
            return over
        items = list(base.value)
        index = {_id(item): i for i, item in enumerate(items)}
        dropped: set[int] = set()
        for item in over.value:
            ident = _id(item)
            remove = item.value.get("remove")
            rest = {k: v for k, v in item.value.items() if k != "remove"}
            if remove is not None and remove.value is not True and remove.value is not False:
                problems.append(
                    Problem(
                        f"{remove.where} {key_path}[{ident}].remove",
                        f"expected true or false, got {remove.value!r}",
                    )
                )
                continue
            if ident in index:
                i = index[ident]
                if remove is not None and remove.value is True:
                    dropped.add(i)
                else:
                    items[i] = _merge(
                        items[i], Node(rest, item.file, item.line), f"{key_path}[{ident}]", problems
                    )
            elif remove is not None and remove.value is True:
                problems.append(
                    Problem(
                        f"{item.where} {key_path}[{ident}]",
                        f"remove: true, but the scenario it extends has no item with id {ident!r} "
                        f"in {key_path} (ids: {', '.join(sorted(map(str, index)))})",
                    )
                )
            else:
                index[ident] = len(items)
                items.append(Node(rest, item.file, item.line))
        return Node([x for i, x in enumerate(items) if i not in dropped], over.file, over.line)
    return over


def _id(node: Node) -> Any:
    return node.value["id"].value


def _strip_remove(node: Node, key_path: str, problems: list[Problem]) -> None:
    """A ``remove`` key left where nothing was merged is an error (nothing to remove from)."""
    if isinstance(node.value, dict):
        for k, v in node.value.items():
            _strip_remove(v, f"{key_path}.{k}" if key_path else k, problems)
    elif isinstance(node.value, list):
        for i, item in enumerate(node.value):
            if isinstance(item.value, dict) and "remove" in item.value:
                ident = item.value["id"].value if "id" in item.value else i
                problems.append(
                    Problem(
                        f"{item.value['remove'].where} {key_path}[{ident}].remove",
                        "remove: only applies to an item of a scenario this file extends "
                        "(no extends: here, or that list is not in the base)",
                    )
                )
            _strip_remove(item, f"{key_path}[{i}]", problems)


def _load(path: Path, chain: list[Path], where: str) -> Node:
    resolved = path.resolve()
    if resolved in chain:
        cycle = " -> ".join(display_path(p) for p in [*chain[chain.index(resolved) :], resolved])
        raise InputError.one(where, f"cycle {cycle}")
    tree = _read(path, where)
    ext = tree.value.get("extends")
    if ext is None:
        return tree
    own = Node({k: v for k, v in tree.value.items() if k != "extends"}, tree.file, tree.line)
    if not isinstance(ext.value, str) or not ext.value.strip():
        raise InputError.one(
            f"{ext.where} extends", f"expected the path of a scenario file, got {ext.value!r}"
        )
    base_path = path.parent / ext.value
    base = _load(base_path, [*chain, resolved], f"{ext.where} extends")
    problems: list[Problem] = []
    merged = _merge(base, own, "", problems)
    if problems:
        raise InputError(problems)
    return merged


@dataclass
class Tree:
    """A merged scenario tree and the files it came from."""

    root: Node
    path: Path

    def node(self, loc: tuple[str | int, ...]) -> tuple[Node, tuple[str | int, ...]]:
        """The deepest node on ``loc`` and the part of ``loc`` it covers."""
        node, done = self.root, 0
        for part in loc:
            v = node.value
            in_dict = isinstance(v, dict) and isinstance(part, str) and part in v
            in_list = isinstance(v, list) and isinstance(part, int) and 0 <= part < len(v)
            if in_dict or in_list:
                node = v[part]
            else:
                break
            done += 1
        return node, loc[:done]

    def key_path(self, loc: tuple[str | int, ...]) -> str:
        """'channels[phone].demand.volume_scale': list items by id where they have one."""
        out = ""
        node: Node | None = self.root
        for part in loc:
            if isinstance(part, int):
                ident = None
                if (
                    node is not None
                    and isinstance(node.value, list)
                    and 0 <= part < len(node.value)
                ):
                    item = node.value[part]
                    if isinstance(item.value, dict) and "id" in item.value:
                        ident = item.value["id"].value
                    node = item
                else:
                    node = None
                out += f"[{ident if ident is not None else part}]"
            else:
                out += f".{part}" if out else str(part)
                node = node.get(part) if node is not None else None
        return out

    def where(self, loc: tuple[str | int, ...]) -> str:
        """'scenarios/base.yaml:42 channels[phone].demand' (a CSV row: 'agents.csv:7')."""
        node, covered = self.node(loc)
        if node.csv:
            if covered and isinstance(covered[-1], str) and len(covered) > 1:
                return f"{node.where} column {covered[-1]}"
            if isinstance(node.value, list):
                return display_path(node.file)
            return node.where
        path = self.key_path(loc)
        return f"{node.where} {path}" if path else node.where


def load_tree(path: Path) -> Tree:
    """Read a scenario file and everything it extends; InputError with located problems."""
    root = _load(path, [], display_path(path))
    problems: list[Problem] = []
    _strip_remove(root, "", problems)
    if problems:
        raise InputError(problems)
    return Tree(root=root, path=path)
