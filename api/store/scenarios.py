"""Scenarios in the database: uploads checked by the scenario loader, stored as revisions.

An upload is a set of files (the scenario YAML, its ``extends`` bases and the CSVs they name).
It is written into a fresh folder and checked with ``api.pipeline.prepare_scenario`` exactly as
``wfm validate`` checks files on disk; only a valid upload is stored, as the next revision. Files
may only name files of the same upload (no absolute paths, no ``..``). Problems are reported with
the upload's own relative paths.
"""

from __future__ import annotations

import difflib
import hashlib
import re
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path, PurePosixPath
from typing import Any

import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from api.errors import InputError, NotFoundError, Problem
from api.pipeline.prepare import Prepared, prepare_scenario
from api.scenario.yamlsrc import depth_problem, too_deep
from api.store.db import FileRow, RevisionRow, ScenarioRow, exclusive, utcnow
from api.store.models import FileChange, FileDiff, ScenarioDiff

__all__ = [
    "MAX_FILES",
    "add_revision",
    "check_references",
    "clean_path",
    "create_scenario",
    "diff_revisions",
    "file_refs",
    "get_revision",
    "get_scenario",
    "materialize",
    "relocate",
    "validate_files",
]

MAX_FILES = 200
MAX_YAML_NODES = 200_000
_SAFE = re.compile(r"^[A-Za-z0-9_.\- ]+$")
_FILE_KEYS = ("agents", "leave", "pinned")


def clean_path(name: str) -> str:
    """A relative POSIX path of plain names; InputError for anything that could escape."""
    text = name.replace("\\", "/").strip()
    p = PurePosixPath(text)
    parts = p.parts
    if (
        not text
        or len(text) > 200
        or p.is_absolute()
        or not parts
        or any(part in ("..", ".") or not _SAFE.match(part) for part in parts)
    ):
        raise InputError.one(
            name[:200] or "(empty name)",
            "expected a relative file name of letters, digits, '_', '-', '.' and spaces "
            "(folders with '/'), without '..'",
        )
    return "/".join(parts)


def _count_nodes(node: yaml.Node, limit: int) -> int:
    """Values of a YAML document with aliases expanded (stops at ``limit``)."""
    seen = 0
    stack = [node]
    while stack:
        n = stack.pop()
        seen += 1
        if seen > limit:
            return seen
        if isinstance(n, yaml.MappingNode):
            for k, v in n.value:
                stack.extend((k, v))
        elif isinstance(n, yaml.SequenceNode):
            stack.extend(n.value)
    return seen


def file_refs(doc: Any) -> Iterator[tuple[str, str]]:
    """(key path, file name) of every file a scenario document names."""
    if not isinstance(doc, dict):
        return
    if isinstance(doc.get("extends"), str):
        yield "extends", doc["extends"]
    for key in _FILE_KEYS:
        if isinstance(doc.get(key), str):
            yield key, doc[key]
    channels = doc.get("channels")
    if isinstance(channels, list):
        for i, ch in enumerate(channels):
            demand = ch.get("demand") if isinstance(ch, dict) else None
            if isinstance(demand, dict):
                for k in ("forecast_file", "history_file"):
                    if isinstance(demand.get(k), str):
                        yield f"channels[{i}].demand.{k}", demand[k]


def _resolve(base: PurePosixPath, ref: str) -> str | None:
    """The upload-relative path ``ref`` names from a file in ``base`` (None: outside)."""
    target = PurePosixPath(ref.replace("\\", "/"))
    if target.is_absolute():
        return None
    parts: list[str] = []
    for part in (*base.parts, *target.parts):
        if part == "..":
            if not parts:
                return None
            parts.pop()
        elif part not in (".", ""):
            parts.append(part)
    return "/".join(parts)


def _scan(path: str, data: bytes) -> tuple[Any, list[Problem]]:
    """A YAML file's document, or a problem when its aliases expand too far."""
    try:
        text = data.decode("utf-8-sig")
        deep = too_deep(text)
        if deep is not None:
            return None, [depth_problem(path, deep)]
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        if node is None:
            return None, []
        if _count_nodes(node, MAX_YAML_NODES) > MAX_YAML_NODES:
            return None, [
                Problem(path, f"more than {MAX_YAML_NODES} values (with YAML aliases expanded)")
            ]
        return yaml.safe_load(text), []
    except (UnicodeDecodeError, yaml.YAMLError):
        return None, []  # the loader reports it, located


def check_references(files: Mapping[str, bytes]) -> list[Problem]:
    """Every file named by a scenario file of the upload (the YAML files, and whatever they
    name in ``extends``) must be a file of the upload."""
    problems: list[Problem] = []
    todo = [p for p in files if p.lower().endswith((".yaml", ".yml"))]
    seen = set(todo)
    while todo:
        path = todo.pop()
        doc, found = _scan(path, files[path])
        problems += found
        base = PurePosixPath(path).parent
        for key, ref in file_refs(doc):
            target = _resolve(base, ref)
            if target is None or target not in files:
                problems.append(
                    Problem(
                        f"{path} {key}",
                        f"{ref!r} is not a file of this upload; upload every file the scenario "
                        "names, with paths relative to the file that names them",
                    )
                )
            elif key == "extends" and target not in seen:
                seen.add(target)
                todo.append(target)
    return sorted(problems, key=lambda p: p.where)


def relocate(problems: list[Problem], folder: Path) -> list[Problem]:
    """Problems with the temporary folder taken out of file names."""
    forms = {str(folder), str(folder.resolve())}
    with suppress(ValueError):
        forms.add(str(folder.resolve().relative_to(Path.cwd().resolve())))
    prefixes = sorted((f + "/" for f in forms), key=len, reverse=True)
    out = []
    for p in problems:
        where, message = p.where, p.message
        for prefix in prefixes:
            where = where.replace(prefix, "")
            message = message.replace(prefix, "")
        out.append(Problem(where, message))
    return out


def write_files(folder: Path, files: Mapping[str, bytes]) -> None:
    for path, data in files.items():
        target = folder / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


@contextmanager
def scratch(data_dir: Path) -> Iterator[Path]:
    """A temporary folder under the data folder, removed afterwards."""
    root = data_dir / "tmp"
    root.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="upload-", dir=root))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def validate_files(main_file: str, files: Mapping[str, bytes], data_dir: Path) -> Prepared:
    """Check an upload as ``wfm validate`` would; InputError with every problem found."""
    if main_file not in files:
        raise InputError.one(
            "main_file", f"{main_file!r} is not among the files ({', '.join(sorted(files))})"
        )
    if not main_file.lower().endswith((".yaml", ".yml")):
        raise InputError.one("main_file", f"expected a .yaml file, got {main_file!r}")
    folders = {str(parent) for p in files for parent in PurePosixPath(p).parents}
    problems = [Problem(p, "is a file and a folder of the upload") for p in files if p in folders]
    problems += check_references(files)
    if problems:
        raise InputError(problems)
    with scratch(data_dir) as folder:
        write_files(folder, files)
        try:
            return prepare_scenario(folder / main_file)
        except InputError as exc:
            raise InputError(relocate(exc.problems, folder)) from None


def overview(prepared: Prepared) -> dict[str, Any]:
    s = prepared.scenario
    return {
        "horizon": s.horizon.model_dump(mode="json"),
        "channels": [{"id": c.id, "kind": c.kind.value} for c in s.channels],
        "agents": [a.id for a in s.agents],
        "shift_types": [t.id for t in s.shift_types],
        "leave": len(s.leave),
        "notes": [n for n in prepared.notes],
    }


def _file_rows(files: Mapping[str, bytes]) -> list[FileRow]:
    return [
        FileRow(path=p, content=d, size=len(d), sha256=hashlib.sha256(d).hexdigest())
        for p, d in sorted(files.items())
    ]


def _revision(
    prepared: Prepared,
    main_file: str,
    files: Mapping[str, bytes],
    number: int,
    comment: str,
    role: str,
) -> RevisionRow:
    s = prepared.scenario
    return RevisionRow(
        number=number,
        main_file=main_file,
        name=s.name[:200],
        description=s.description,
        comment=comment,
        sha256=prepared.sha256,
        overview=overview(prepared),
        created_by=role,
        files=_file_rows(files),
    )


def create_scenario(
    session: Session,
    main_file: str,
    files: Mapping[str, bytes],
    prepared: Prepared,
    comment: str,
    role: str,
) -> ScenarioRow:
    """Store a checked upload as a new scenario (revision 1)."""
    row = ScenarioRow(name=prepared.scenario.name[:200])
    row.revisions.append(_revision(prepared, main_file, files, 1, comment, role))
    session.add(row)
    session.flush()
    return row


def add_revision(
    session: Session,
    scenario_id: int,
    main_file: str,
    files: Mapping[str, bytes],
    prepared: Prepared,
    comment: str,
    role: str,
) -> ScenarioRow:
    """Store a checked upload as the next revision of a scenario (the number is decided with
    the scenario's revisions locked: concurrent uploads get consecutive numbers)."""
    exclusive(session, f"scenario-revisions:{scenario_id}")
    row = get_scenario(session, scenario_id, lock=True)
    number = (
        session.scalar(
            select(func.max(RevisionRow.number)).where(RevisionRow.scenario_id == scenario_id)
        )
        or 0
    ) + 1
    row.revisions.append(_revision(prepared, main_file, files, number, comment, role))
    row.name = prepared.scenario.name[:200]
    row.updated_at = utcnow()
    session.flush()
    return row


def get_scenario(session: Session, scenario_id: int, lock: bool = False) -> ScenarioRow:
    stmt = (
        select(ScenarioRow)
        .where(ScenarioRow.id == scenario_id)
        .options(selectinload(ScenarioRow.revisions).selectinload(RevisionRow.files))
    )
    if lock:
        stmt = stmt.with_for_update()
    row = session.scalar(stmt)
    if row is None:
        raise NotFoundError("scenario", scenario_id)
    return row


def get_revision(session: Session, scenario_id: int, number: int | None) -> RevisionRow:
    """A revision by number (None: the latest)."""
    stmt = select(RevisionRow).where(RevisionRow.scenario_id == scenario_id)
    stmt = (
        stmt.order_by(RevisionRow.number.desc()).limit(1)
        if number is None
        else stmt.where(RevisionRow.number == number)
    )
    row = session.scalar(stmt.options(selectinload(RevisionRow.files)))
    if row is None:
        if session.get(ScenarioRow, scenario_id) is None:
            raise NotFoundError("scenario", scenario_id)
        raise NotFoundError(f"revision of scenario {scenario_id}", number)
    return row


def materialize(revision: RevisionRow, folder: Path) -> Path:
    """Write a revision's files into ``folder``; returns the scenario file's path."""
    write_files(folder, {f.path: f.content for f in revision.files})
    return folder / revision.main_file


def _text(data: bytes) -> list[str]:
    try:
        return data.decode("utf-8-sig").splitlines(keepends=True)
    except UnicodeDecodeError:
        return [f"(binary, {len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()})\n"]


def diff_revisions(a: RevisionRow, b: RevisionRow) -> ScenarioDiff:
    """File by file: added, removed, changed (with a unified diff) or unchanged."""
    old = {f.path: f for f in a.files}
    new = {f.path: f for f in b.files}
    out: list[FileDiff] = []
    for path in sorted(old.keys() | new.keys()):
        fa, fb = old.get(path), new.get(path)
        if fa is not None and fb is not None and fa.sha256 == fb.sha256:
            out.append(FileDiff(path=path, change=FileChange.unchanged))
            continue
        change = (
            FileChange.added
            if fa is None
            else FileChange.removed
            if fb is None
            else FileChange.changed
        )
        lines = difflib.unified_diff(
            _text(fa.content) if fa is not None else [],
            _text(fb.content) if fb is not None else [],
            fromfile=f"r{a.number}/{path}" if fa is not None else "/dev/null",
            tofile=f"r{b.number}/{path}" if fb is not None else "/dev/null",
        )
        out.append(FileDiff(path=path, change=change, diff="".join(lines)))
    return ScenarioDiff(
        scenario_id=a.scenario_id, from_revision=a.number, to_revision=b.number, files=out
    )
