"""Benchmark g's table: one line per figure, before and after side by side, with before/after."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from benchkit.report import Check, Figure, Result
from benchkit.scale_figures import ALL_STATUS, STATUS_KINDS, Sample, Sizes

OBJECT_LIMIT = 256 * 1024  # SPEC 4: every object the operator writes stays under 256 KiB
COLUMN = 22

Cell = Callable[[Sample], str]
Number = Callable[[Sample], float | None]


def _kb(size: float) -> str:
    return f"{size / 1000:.1f} KB"


def _sizes(sizes: Sizes) -> str:
    if not sizes.count:
        return "-"
    return f"{sizes.count} x {_kb(sizes.median)}/{_kb(sizes.max)}"


def _opt(value: float | None, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


def _line(label: str, pair: dict[str, Sample], cell: Cell, number: Number | None = None) -> Figure:
    before, after = pair.get("before"), pair.get("after")
    cells = [cell(s) if s else "(not run)" for s in (before, after)]
    ratio = ""
    # A ratio compares like with like: two Tasks that both succeeded.
    if number is not None and before is not None and after is not None and before.succeeded and after.succeeded:
        b, a = number(before), number(after)
        ratio = f"x{b / a:.2f}" if b is not None and a else ""
    return Figure(label, f"{cells[0]:>{COLUMN}}  {cells[1]:>{COLUMN}}  {ratio}")


def _largest(sample: Sample) -> str:
    size, which = sample.largest
    return f"{_kb(size)} {which.split('/')[0]}"


def _kind_largest(plural: str) -> Cell:
    def cell(sample: Sample) -> str:
        found = next((k for k in sample.done.kinds if k.plural == plural), None)
        if found is None or not found.served:
            return "(no such kind)"
        return f"{_kb(found.largest)} ({found.versions} versions)" if found.versions else "none written"
    return cell


def _per_kind(kind: str) -> tuple[Cell, Number]:
    return (lambda s: _sizes(s.by_kind[kind])), (lambda s: s.by_kind[kind].median or None)


def _timing(pick: Callable[[Sample], float | None]) -> Cell:
    return lambda s: _opt(pick(s), ".3f") + " s" if pick(s) is not None else "-"


def _block(members: int, pair: dict[str, Sample]) -> list[Figure]:
    def timing(name: str) -> Number:
        return lambda s: getattr(s.timings, name) if s.timings else None

    def ratio(s: Sample) -> float | None:
        return s.timings.plugin / s.timings.kubectl_task if s.timings else None

    lines = [
        Figure(f"{members:,} members", f"{'before':>{COLUMN}}  {'after':>{COLUMN}}  before/after"),
        _line("  outcome", pair, lambda s: s.state.split(",")[0]),
        _line("  steps completed", pair, lambda s: s.state.split(", ")[-1]),
        _line("  why it did not succeed", pair, lambda s: s.failure[:60] or "-"),
        _line("  rows of the Task (merged)", pair, lambda s: str(len(s.done.rows))),
        _line("  wall time, startedAt -> endedAt", pair, _timing(lambda s: s.wall), lambda s: s.wall),
        _line("  wall time, create -> end seen", pair, _timing(lambda s: s.client), lambda s: s.client),
        _line("  largest object written", pair, _largest, lambda s: float(s.largest[0])),
    ]
    for plural in ("tasks", "taskshards", "serviceinstances", "nodeshards"):
        lines.append(_line(f"    largest {plural}", pair, _kind_largest(plural)))
    lines.append(Figure("  status writes: count x median/max bytes sent", ""))
    for kind in (*STATUS_KINDS, ALL_STATUS):
        lines.append(_line(f"    {kind}", pair, *_per_kind(kind)))
    lines += [
        _line("  refused writes", pair, lambda s: ", ".join(f"{n} x {k}" for k, n in s.refused.items()) or "none"),
        _line("  Task writes (status + shards)", pair, lambda s: str(s.task_writes), lambda s: float(s.task_writes)),
        _line("  writes per row", pair, lambda s: _opt(s.writes_per_row, ".3f"), lambda s: s.writes_per_row),
        _line("  kubectl dtk task-status (median)", pair, _timing(timing("plugin")), timing("plugin")),
        _line("  kubectl get task -o yaml (median)", pair, _timing(timing("kubectl_task")), timing("kubectl_task")),
        _line("  task-status / kubectl get", pair, lambda s: _opt(ratio(s), ".2f")),
        _line("  kubectl get taskshards -l -o yaml", pair, _timing(timing("kubectl_shards"))),
        _line("  load average after the run", pair, lambda s: s.load),
    ]
    return lines


def result_of(samples: Sequence[Sample]) -> Result:
    figures: list[Figure] = []
    checks: list[Check] = []
    for members in sorted({s.members for s in samples}):
        pair = {s.label: s for s in samples if s.members == members}
        figures += _block(members, pair)
        if "after" in pair:
            checks.append(Check(f"largest object, after, {members:,} members", pair["after"].largest[0] / 1024,
                                OBJECT_LIMIT / 1024, "KiB"))
    commits = {s.label: s.commit[:7] for s in samples}
    notes = (f"revisions: {', '.join(f'{k} {v}' for k, v in commits.items())}; KB = 1,000 bytes",
             "bytes sent: the request body of each write as the proxy forwarded it (JSON merge patch or whole "
             "object); object sizes: compact JSON of each version seen on a watch",
             "timings: medians of 5 alternating runs after 1 warm-up, whole processes, output to a pipe")
    return Result(key="g", title="Scale: 1,000 and 5,000 members (issue 10)", figures=tuple(figures),
                  checks=tuple(checks), notes=notes)
