"""Schedule rendering for the simulator: what PagerDuty computes from a schedule's definition.

Classic schedules (``/schedules``): each layer rotates its ``users`` every
``rotation_turn_length_seconds`` from ``rotation_virtual_start``, inside the layer's
``start``/``end`` and its ``restrictions`` (daily or weekly windows; like the API, they are read
in the request's ``time_zone``). Later layers take precedence over earlier ones, overrides over
every layer: that is the final schedule. Flexible schedules (``/v3/schedules``): every rotation's
events recur (``RRULE`` ``FREQ=DAILY|WEEKLY`` with optional ``INTERVAL`` and ``BYDAY``) between
``effective_since`` and ``effective_until``, members assigned in turn (``shifts_per_member``) or
all at once; the result is the list of ``computed_shift_assignments``.

Entries are cut at the window's edges unless ``overflow`` is true (then an entry keeps its whole
shift). Coverage is the share of the window covered by at least one entry, in percent.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import Any

from pdguard.simulator.account import iso, make_ref, parse_time

try:  # the system time zone database; without it every zone is read as UTC
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
except ImportError:  # pragma: no cover
    ZoneInfo = None  # type: ignore[assignment,misc]
    ZoneInfoNotFoundError = Exception  # type: ignore[assignment,misc]

DAY = timedelta(days=1)
_WEEKDAYS = {"MO": 1, "TU": 2, "WE": 3, "TH": 4, "FR": 5, "SA": 6, "SU": 7}


def zone(name: str | None) -> tzinfo:
    if not name or name in ("UTC", "Etc/UTC") or ZoneInfo is None:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def fmt(dt: datetime, tz: tzinfo) -> str:
    """A timestamp as the API writes it in the requested time zone (``Z`` for UTC)."""
    if tz is UTC:
        return iso(dt)
    return dt.astimezone(tz).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Entry:
    start: datetime
    end: datetime
    user: dict[str, Any]
    source: str = ""  # which layer/override/rotation produced it (merging only)


@dataclass(frozen=True)
class Window:
    since: datetime
    until: datetime
    tz: tzinfo = UTC
    overflow: bool = False

    def cut(self, entries: list[Entry]) -> list[Entry]:
        """Entries overlapping the window, cut at its edges unless overflow."""
        out = []
        for e in entries:
            if e.end <= self.since or e.start >= self.until:
                continue
            if not self.overflow:
                e = Entry(max(e.start, self.since), min(e.end, self.until), e.user, e.source)
            out.append(e)
        return out

    def coverage(self, entries: list[Entry]) -> float:
        span = (self.until - self.since).total_seconds()
        if span <= 0:
            return 0.0
        covered = 0.0
        cursor = self.since
        for e in sorted(entries, key=lambda x: x.start):
            start, end = max(e.start, cursor), min(e.end, self.until)
            if end > start:
                covered += (end - start).total_seconds()
                cursor = end
        return round(100.0 * covered / span, 2)


# --------------------------------------------------------------------------------------------- classic


def _restriction_windows(restrictions: list[dict[str, Any]], lo: datetime, hi: datetime, tz: tzinfo
                         ) -> list[tuple[datetime, datetime]]:
    out: list[tuple[datetime, datetime]] = []
    first = (lo.astimezone(tz) - 8 * DAY).date()
    last = hi.astimezone(tz).date()
    for r in restrictions:
        try:
            hh, mm, ss = (int(x) for x in str(r.get("start_time_of_day", "00:00:00")).split(":"))
            length = timedelta(seconds=int(r.get("duration_seconds") or 0))
        except (TypeError, ValueError):
            continue
        weekly = r.get("type") == "weekly_restriction"
        day = first
        while day <= last:
            if not weekly or day.isoweekday() == int(r.get("start_day_of_week") or 1):
                start = datetime.combine(day, time(hh, mm, ss), tzinfo=tz).astimezone(UTC)
                if start < hi and start + length > lo:
                    out.append((start, start + length))
            day += timedelta(days=1)
    out.sort()
    return out


def layer_entries(layer: dict[str, Any], lo: datetime, hi: datetime, tz: tzinfo, source: str = "") -> list[Entry]:
    """The whole shifts of one layer overlapping [lo, hi) (not cut at lo/hi; cut at the layer's end)."""
    users = [u.get("user") for u in layer.get("users") or [] if isinstance(u, dict) and u.get("user")]
    try:
        turn = timedelta(seconds=int(layer.get("rotation_turn_length_seconds") or 0))
        virtual = parse_time(layer.get("rotation_virtual_start") or layer["start"])
        l_start = parse_time(layer["start"])
    except (KeyError, TypeError, ValueError):
        return []
    l_end = parse_time(layer["end"]) if layer.get("end") else None
    a = max(lo, l_start)
    b = min(hi, l_end) if l_end else hi
    if not users or turn.total_seconds() <= 0 or a >= b:
        return []
    k = int((a - virtual) // turn)
    turns: list[Entry] = []
    while virtual + k * turn < b:
        t0, t1 = virtual + k * turn, virtual + (k + 1) * turn
        t0, t1 = max(t0, l_start), min(t1, l_end) if l_end else t1
        if t1 > t0:
            turns.append(Entry(t0, t1, make_ref(users[k % len(users)]), source))  # type: ignore[arg-type]
        k += 1
    restrictions = layer.get("restrictions") or []
    if not restrictions:
        return turns
    windows = _restriction_windows(restrictions, turns[0].start if turns else a, b, tz)
    out = []
    for t in turns:
        for w0, w1 in windows:
            s, e = max(t.start, w0), min(t.end, w1)
            if e > s:
                out.append(Entry(s, e, t.user, source))
    return out


def _flatten(layers: list[list[Entry]]) -> list[Entry]:
    """Higher index wins: the final schedule of stacked layers (and overrides on top)."""
    points = sorted({p for entries in layers for e in entries for p in (e.start, e.end)})
    out: list[Entry] = []
    for a, b in zip(points, points[1:], strict=False):
        winner = None
        for entries in reversed(layers):
            winner = next((e for e in entries if e.start <= a and e.end >= b), None)
            if winner:
                break
        if winner is None:
            continue
        last = out[-1] if out else None
        if last and last.end == a and last.source == winner.source and last.user.get("id") == winner.user.get("id"):
            out[-1] = Entry(last.start, b, last.user, last.source)
        else:
            out.append(Entry(a, b, winner.user, winner.source))
    return out


def _margin(schedule: dict[str, Any]) -> timedelta:
    """How far before/after a window the whole shifts overlapping it can reach."""
    longest = DAY
    for layer in schedule.get("schedule_layers") or []:
        try:
            longest = max(longest, timedelta(seconds=int(layer.get("rotation_turn_length_seconds") or 0)))
        except (TypeError, ValueError):
            pass
    for o in schedule.get("overrides") or []:
        try:
            longest = max(longest, parse_time(o["end"]) - parse_time(o["start"]))
        except (KeyError, TypeError, ValueError):
            pass
    return longest


def final_entries(schedule: dict[str, Any], lo: datetime, hi: datetime, tz: tzinfo = UTC) -> list[Entry]:
    """Whole final-schedule shifts overlapping [lo, hi)."""
    margin = _margin(schedule)
    a, b = lo - margin, hi + margin
    stack = [layer_entries(layer, a, b, tz, f"layer:{i}") for i, layer in enumerate(schedule.get("schedule_layers") or [])]
    stack.append(override_entries(schedule, a, b))
    return [e for e in _flatten(stack) if e.end > lo and e.start < hi or (lo == hi and e.start <= lo < e.end)]


def override_entries(schedule: dict[str, Any], lo: datetime, hi: datetime) -> list[Entry]:
    out = []
    for o in schedule.get("overrides") or []:
        try:
            s, e = parse_time(o["start"]), parse_time(o["end"])
        except (KeyError, TypeError, ValueError):
            continue
        if e > lo and s < hi and o.get("user"):
            out.append(Entry(s, e, make_ref(o["user"]), f"override:{o.get('id')}"))  # type: ignore[arg-type]
    return out


def _sub(name: str, entries: list[Entry], w: Window) -> dict[str, Any]:
    shown = w.cut(entries)
    return {
        "name": name,
        "rendered_schedule_entries": [{"start": fmt(e.start, w.tz), "end": fmt(e.end, w.tz), "user": e.user} for e in shown],
        "rendered_coverage_percentage": w.coverage(entries),
    }


def render_schedule(schedule: dict[str, Any], w: Window | None) -> dict[str, Any]:
    """The fields `GET /schedules/{id}` renders: layers (with their entries), overrides, final schedule.

    ``w`` None (no window, or since/until without time_zone): nothing is rendered, entries are
    empty and coverages null, as the API does.
    """
    layers = []
    margin = _margin(schedule)
    for i, layer in enumerate(schedule.get("schedule_layers") or []):
        out = dict(layer)
        if w is None:
            out["rendered_schedule_entries"] = []
            out["rendered_coverage_percentage"] = None
        else:
            entries = layer_entries(layer, w.since - margin, w.until + margin, w.tz, f"layer:{i}")
            sub = _sub("", entries, w)
            out["rendered_schedule_entries"] = sub["rendered_schedule_entries"]
            out["rendered_coverage_percentage"] = sub["rendered_coverage_percentage"]
        layers.append(out)
    if w is None:
        empty = {"rendered_schedule_entries": [], "rendered_coverage_percentage": None}
        return {"schedule_layers": layers, "overrides_subschedule": {"name": "Overrides", **empty},
                "final_schedule": {"name": "Final Schedule", **empty}}
    overrides = override_entries(schedule, w.since - margin, w.until + margin)
    return {
        "schedule_layers": layers,
        "overrides_subschedule": _sub("Overrides", overrides, w),
        "final_schedule": _sub("Final Schedule", final_entries(schedule, w.since, w.until, w.tz), w),
    }


# --------------------------------------------------------------------------------------------- flexible


def _rrule(rule: str) -> dict[str, str]:
    body = rule.split(":", 1)[1] if ":" in rule else rule
    return dict(p.split("=", 1) for p in body.split(";") if "=" in p)


def _occurrences(event: dict[str, Any], lo: datetime, hi: datetime) -> Iterator[tuple[int, datetime, datetime]]:
    """(index since the first occurrence, start, end) of an event's occurrences overlapping [lo, hi)."""
    try:
        first = parse_time(event["start_time"]["date_time"])
        length = parse_time(event["end_time"]["date_time"]) - first
        since = parse_time(event["effective_since"])
    except (KeyError, TypeError, ValueError):
        return
    until = parse_time(event["effective_until"]) if event.get("effective_until") else None
    rules = [_rrule(r) for r in event.get("recurrence") or [] if str(r).startswith("RRULE")]
    rule = rules[0] if rules else {"FREQ": "DAILY"}
    interval = max(1, int(rule.get("INTERVAL", "1") or 1))
    days = {_WEEKDAYS[d[-2:]] for d in rule.get("BYDAY", "").split(",") if d[-2:] in _WEEKDAYS}
    if rule.get("FREQ") == "WEEKLY" and not days:
        days = {first.isoweekday()}
    index = 0
    day = first
    stop = min(hi, until) if until else hi
    while day < stop:
        weeks = (day.date() - first.date()).days // 7
        if rule.get("FREQ") == "WEEKLY":
            ok = day.isoweekday() in days and weeks % interval == 0
        else:
            ok = (day.date() - first.date()).days % interval == 0
        if ok:
            if day >= since and day + length > lo:
                yield index, day, day + length
            index += 1
        day += DAY


def flexible_entries(schedule: dict[str, Any], lo: datetime, hi: datetime) -> list[tuple[Entry, str, dict[str, Any]]]:
    """(entry, rotation id, member) for every shift overlapping [lo, hi) (covering lo when lo == hi)."""
    hi = hi if hi > lo else lo + timedelta(seconds=1)
    out = []
    for rot in schedule.get("rotations") or []:
        for ev in rot.get("events") or []:
            strategy = ev.get("assignment_strategy") or {}
            members = strategy.get("members") or []
            if not members:
                continue
            per = max(1, int(strategy.get("shifts_per_member") or 1))
            for k, s, e in _occurrences(ev, lo - 8 * DAY, hi):
                if e <= lo:
                    continue
                chosen = members if strategy.get("type") == "every_member_assignment_strategy" else [
                    members[(k // per) % len(members)]]
                for m in chosen:
                    user = {"id": m.get("user_id"), "type": "user_reference"} if m.get("type") == "user_member" else {}
                    out.append((Entry(s, e, user, rot.get("id", "")), rot.get("id", ""), m))
    out.sort(key=lambda x: (x[0].start, x[1]))
    return out


def render_flexible(schedule: dict[str, Any], w: Window) -> dict[str, Any]:
    """``final_schedule`` of a flexible schedule (``include[]=final_schedule`` with since/until)."""
    shifts = flexible_entries(schedule, w.since, w.until)
    covered = [e for e, _rid, m in shifts if m.get("type") == "user_member"]
    assignments = []
    for e, rid, member in shifts:
        shown = w.cut([e])
        if not shown:
            continue
        assignments.append({
            "type": "computed_shift_assignment",
            "start_time": fmt(shown[0].start, w.tz),
            "end_time": fmt(shown[0].end, w.tz),
            "member": dict(member),
            "source": {"type": "schedule_rotation", "rotation_id": rid},
        })
    return {"type": "final_schedule", "rendered_coverage_percentage": w.coverage(covered),
            "computed_shift_assignments": assignments}


# --------------------------------------------------------------------------------------------- on-calls


def compute_oncalls(account: Any, since: datetime, until: datetime, *, earliest: bool = False,
                    tz: tzinfo = UTC) -> list[dict[str, Any]]:
    """`GET /oncalls` for [since, until]: per escalation policy and level, who is on call.

    Like the API: users targeted directly have `start`/`end` null; schedule targets give one
    entry per whole shift of their final schedule (overrides applied) overlapping the window;
    schedules on no escalation policy do not appear; `earliest` keeps the first entry per
    user, level and policy.
    """
    schedules = {s["id"]: s for s in account.schedules}
    flexible = {s["id"]: s for s in account.flexible_schedules}
    users = {u["id"]: u for u in account.users}
    out: list[dict[str, Any]] = []
    seen: set[tuple[str, int, str]] = set()
    shifts_cache: dict[str, list[Entry]] = {}

    def shifts(kind: str, sid: str) -> list[Entry]:
        key = f"{kind}:{sid}"
        if key not in shifts_cache:
            if kind == "schedule_reference":
                entries = final_entries(schedules[sid], since, until, tz)
            else:
                entries = [e for e, _r, m in flexible_entries(flexible[sid], since, until)
                           if m.get("type") == "user_member"]
                if since == until:
                    entries = [e for e in entries if e.start <= since < e.end]
            shifts_cache[key] = entries
        return shifts_cache[key]

    for ep in account.escalation_policies:
        ep_ref = make_ref(ep)
        for level, rule in enumerate(ep.get("escalation_rules") or [], start=1):
            for t in rule.get("targets") or []:
                kind = t.get("type")
                rows: list[tuple[dict[str, Any], dict[str, Any] | None, str | None, str | None]] = []
                if kind == "user_reference" and t["id"] in users:
                    rows.append((make_ref(users[t["id"]]), None, None, None))  # type: ignore[arg-type]
                elif kind == "schedule_reference" and t["id"] in schedules:
                    ref = make_ref(schedules[t["id"]])
                    rows += [(e.user, ref, fmt(e.start, tz), fmt(e.end, tz)) for e in shifts(kind, t["id"])]
                elif kind == "schedule_v3_reference" and t["id"] in flexible:
                    ref = make_ref(flexible[t["id"]])
                    for e in shifts(kind, t["id"]):
                        user = users.get(e.user.get("id"))
                        if user is not None:
                            rows.append((make_ref(user), ref, fmt(e.start, tz), fmt(e.end, tz)))  # type: ignore[arg-type]
                for user, sched, start, end in rows:
                    key = (ep["id"], level, user.get("id"))
                    if earliest and key in seen:
                        continue
                    seen.add(key)
                    out.append({"escalation_policy": ep_ref, "escalation_level": level, "schedule": sched,
                                "user": user, "start": start, "end": end})
    return out
