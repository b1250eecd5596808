"""The service's database (SQLAlchemy 2): tables, engine, sessions and migrations at startup.

SQLite (a file, the default) or PostgreSQL. The schema is owned by the Alembic migrations in
``alembic/``; ``migrate(url)`` brings a database to the latest one. Tables: scenarios and their
revisions and files (every upload is a new revision), jobs (solves and comparisons) with their
output files, and leave records.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    create_engine,
    event,
    text,
)
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    mapped_column,
    relationship,
    sessionmaker,
)
from sqlalchemy.pool import NullPool

__all__ = [
    "ALEMBIC_DIR",
    "ArtifactRow",
    "Base",
    "FileRow",
    "JobRow",
    "LeaveRow",
    "RevisionRow",
    "ScenarioRow",
    "append_history",
    "exclusive",
    "make_engine",
    "make_sessionmaker",
    "migrate",
    "session_scope",
    "utcnow",
]

ALEMBIC_DIR = Path(__file__).resolve().parents[2] / "alembic"
log = logging.getLogger("wfm.db")


def utcnow() -> datetime:
    return datetime.now(UTC)


def append_history(row: JobRow, text: str) -> None:
    """Add a time-stamped line to a job's history (the server's and the workers' steps alike)."""
    stamp = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    row.history = [*(row.history or []), f"{stamp} {text}"]


class UTCDateTime(TypeDecorator[datetime]):
    """Time stamps in UTC; SQLite gives them back without a zone, this puts it back."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime}


class ScenarioRow(Base):
    """A scenario: a name and its revisions."""

    __tablename__ = "scenarios"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    revisions: Mapped[list[RevisionRow]] = relationship(
        back_populates="scenario", order_by="RevisionRow.number", cascade="all, delete-orphan"
    )


class RevisionRow(Base):
    """One upload of a scenario: its files, checked, and what the checks found."""

    __tablename__ = "scenario_revisions"
    __table_args__ = (UniqueConstraint("scenario_id", "number", name="uq_revision_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scenario_id: Mapped[int] = mapped_column(ForeignKey("scenarios.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    main_file: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    comment: Mapped[str] = mapped_column(Text, default="")
    sha256: Mapped[str] = mapped_column(String(64))
    overview: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    scenario: Mapped[ScenarioRow] = relationship(back_populates="revisions")
    files: Mapped[list[FileRow]] = relationship(
        back_populates="revision", order_by="FileRow.path", cascade="all, delete-orphan"
    )


class FileRow(Base):
    """A file of a revision (the YAML files and every CSV they name), byte for byte."""

    __tablename__ = "scenario_files"
    __table_args__ = (UniqueConstraint("revision_id", "path", name="uq_file_path"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    revision_id: Mapped[int] = mapped_column(
        ForeignKey("scenario_revisions.id", ondelete="CASCADE")
    )
    path: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    revision: Mapped[RevisionRow] = relationship(back_populates="files")


class JobRow(Base):
    """A solve (kind ``solve``) or a what-if comparison (kind ``compare``, whose variants are
    solve jobs with ``parent_id`` set)."""

    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_status_created", "status", "created_at"),
        Index("ix_jobs_parent", "parent_id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[str | None] = mapped_column(
        ForeignKey("jobs.id", ondelete="CASCADE"), default=None
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    scenario_id: Mapped[int] = mapped_column(ForeignKey("scenarios.id", ondelete="CASCADE"))
    revision_id: Mapped[int] = mapped_column(
        ForeignKey("scenario_revisions.id", ondelete="CASCADE")
    )
    variant: Mapped[str | None] = mapped_column(String(100), default=None)
    overrides: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    options: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    phase: Mapped[str] = mapped_column(String(40), default="")
    best_objective: Mapped[float | None] = mapped_column(Float, default=None)
    best_bound: Mapped[float | None] = mapped_column(Float, default=None)
    solver_elapsed_s: Mapped[float | None] = mapped_column(Float, default=None)
    message: Mapped[str] = mapped_column(Text, default="")
    result_status: Mapped[str | None] = mapped_column(String(32), default=None)
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    problems: Mapped[list[Any] | None] = mapped_column(JSON, default=None)
    applied_leave: Mapped[list[Any] | None] = mapped_column(JSON, default=None)
    history: Mapped[list[Any]] = mapped_column(JSON, default=list)


class ArtifactRow(Base):
    """An output file of a finished job (roster.csv, report.html, calendars/A01.ics ...)."""

    __tablename__ = "job_artifacts"
    __table_args__ = (UniqueConstraint("job_id", "name", name="uq_artifact_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(100))
    content: Mapped[bytes] = mapped_column(LargeBinary)


class LeaveRow(Base):
    """A leave record imported by HR (whole days, or part of a day)."""

    __tablename__ = "leave_records"
    __table_args__ = (Index("ix_leave_agent_days", "agent_id", "start_day", "end_day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agent_id: Mapped[str] = mapped_column(String(100))
    start: Mapped[str] = mapped_column(String(32))
    end: Mapped[str] = mapped_column(String(32))
    start_day: Mapped[date] = mapped_column(Date)
    end_day: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    batch_id: Mapped[str] = mapped_column(String(32))
    created_by: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


# --------------------------------------------------------------------------- engine
SQLITE_POOL = 40
"""SQLite connections kept open by the service (AnyIO's thread pool runs 40 requests at once)."""


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def make_engine(url: str, *, pooled: bool = True) -> Engine:
    """An engine for ``url``; SQLite in WAL mode with a busy timeout (several processes write),
    PostgreSQL with pre-ping. ``pooled=False`` for short-lived worker processes."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # pooled: connections kept for the thread pool's concurrent requests (SQLAlchemy's
        # default keeps 5 and opens and closes the rest per request, each open running the
        # pragmas below: the slowest reads under load)
        pool: dict[str, Any] = (
            {"pool_size": SQLITE_POOL, "max_overflow": SQLITE_POOL}
            if pooled
            else {"poolclass": NullPool}
        )
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, **pool
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    kwargs: dict[str, Any] = {"pool_pre_ping": True}
    if not pooled:
        kwargs["poolclass"] = NullPool
    return create_engine(url, **kwargs)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session that commits when the block succeeds and rolls back otherwise."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def exclusive(session: Session, key: str) -> None:
    """Serialise the rest of this transaction with every other one that calls ``exclusive`` with
    the same ``key``, on SQLite and PostgreSQL alike: a count and the insert it allows (queue
    admission), or a maximum and the next number (revision numbers), then decide atomically.

    SQLite: ``BEGIN IMMEDIATE`` takes the database's write lock before the first read (one
    writer at a time, across processes; others wait up to the busy timeout), so what this
    transaction reads cannot change before it commits. Call it before the transaction's first
    write: one that has written holds the lock anyway, and pysqlite opens the transaction only
    at the first write, so one that has only read takes the lock here. PostgreSQL: a
    transaction-scoped advisory lock on the key's hash (``pg_advisory_xact_lock``), released at
    commit or rollback."""
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        raw = connection.connection.dbapi_connection
        if raw is not None and not raw.in_transaction:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        return
    if connection.dialect.name == "postgresql":
        digest = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)
        connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": digest})


def alembic_config(url: str) -> Any:
    from alembic.config import Config  # start-up time: alembic loads only to migrate

    cfg = Config()
    cfg.set_main_option("script_location", str(ALEMBIC_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def migrate(engine: Engine) -> None:
    """Bring the database to the latest migration (``alembic upgrade head``)."""
    from alembic import command  # start-up time: alembic loads only to migrate

    with engine.begin() as connection:
        cfg = alembic_config(engine.url.render_as_string(hide_password=False))
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")
    log.info("database at the latest migration")
