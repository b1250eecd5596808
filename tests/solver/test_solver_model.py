"""The LP-guided CP-SAT solve (``solver.model.solve_lp_guided``)."""

from __future__ import annotations

from types import SimpleNamespace

from ortools.sat.python import cp_model

from solver import model as model_mod
from solver.model import solve_cp, solve_lp_guided
from solver.options import SolveOptions

OPTIONS = SolveOptions(workers=2, seed=0)


def _cover_model() -> tuple[cp_model.CpModel, list[cp_model.IntVar]]:
    """Shifts of three lengths covering 24 slots of demand at least once each, cheapest
    count: the LP is fractional (half shifts), the integer optimum is not its rounding."""
    m = cp_model.CpModel()
    starts = [m.new_int_var(0, 5, f"x[{t}]") for t in range(24)]
    for t in range(24):
        m.add(sum(starts[s] for s in range(max(0, t - 7), t + 1)) >= 1 + (t % 5 == 0))
    m.minimize(sum(3 * x for x in starts))
    return m, starts


def test_an_lp_guided_solve_reaches_the_optimum_of_the_whole_model() -> None:
    m, _ = _cover_model()
    plain = solve_cp(SimpleNamespace(model=m), OPTIONS, 10.0)  # type: ignore[arg-type]
    m2, starts2 = _cover_model()
    guided = solve_lp_guided(SimpleNamespace(model=m2), OPTIONS, 10.0, starts2)  # type: ignore[arg-type]
    assert plain.optimal and guided.optimal
    assert guided.objective == plain.objective


def test_the_boxed_solution_is_the_whole_searchs_hint(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The whole model is searched with the boxed model's solution as a complete hint."""
    m, starts = _cover_model()
    seen: list[dict[object, int] | None] = []
    real = model_mod.solve_cp

    def spy(v, options, limit, hint=None, **kw):  # type: ignore[no-untyped-def]
        seen.append(hint)
        return real(v, options, limit, hint=hint, **kw)

    monkeypatch.setattr(model_mod, "solve_cp", spy)
    out = solve_lp_guided(SimpleNamespace(model=m), OPTIONS, 10.0, starts)  # type: ignore[arg-type]
    assert out.optimal
    assert len(seen) == 2 and seen[0] is None  # the boxed model, then the whole one
    hint = seen[1]
    assert hint is not None and len(hint) == len(m.Proto().variables)
    # the hint keeps every cover row
    for t in range(24):
        assert sum(hint[starts[s]] for s in range(max(0, t - 7), t + 1)) >= 1 + (t % 5 == 0)


def test_an_lp_guided_solve_keeps_the_whole_models_infeasibility() -> None:
    m = cp_model.CpModel()
    x = [m.new_int_var(0, 3, f"x[{i}]") for i in range(4)]
    m.add(sum(x) >= 13)
    m.minimize(sum(x))
    out = solve_lp_guided(SimpleNamespace(model=m), OPTIONS, 5.0, x)  # type: ignore[arg-type]
    assert out.status == cp_model.INFEASIBLE
    assert not out.has_solution


def test_with_lp_proof_an_infeasible_lp_ends_the_solve_without_a_search(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    m = cp_model.CpModel()
    x = [m.new_int_var(0, 3, f"x[{i}]") for i in range(4)]
    m.add(sum(x) >= 13)
    m.minimize(sum(x))
    calls: list[float] = []
    real = model_mod.solve_cp

    def spy(v, options, limit, **kw):  # type: ignore[no-untyped-def]
        calls.append(limit)
        return real(v, options, limit, **kw)

    monkeypatch.setattr(model_mod, "solve_cp", spy)
    out = solve_lp_guided(SimpleNamespace(model=m), OPTIONS, 5.0, x, lp_proof=True)  # type: ignore[arg-type]
    assert out.status == cp_model.INFEASIBLE and calls == []
