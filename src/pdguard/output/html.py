"""HTML report: one self-contained file for people (``--format html=report.html``).

No network at all: inline CSS and JS, no fonts, images or scripts from elsewhere, and a
Content-Security-Policy (``default-src 'none'``) that forbids fetching anything, so the file works
the same opened from a CI artifact, an email attachment or a laptop offline. Contents:

* header: account, scan time, policies, what evaluated them (``meta.evaluation``: the engine, the
  policy revision, on OPA the bundle and the decision id), pdguard version; the verdict of the gate
  (failing findings at or above ``fail_on``; with a baseline, the new ones);
* summary cards by severity (a click filters to that severity);
* warnings, first among them an **incomplete inventory** (``meta.complete`` false, per-collection
  status when the snapshot has it): findings may be missing;
* with ``--store``, the trend of findings across stored scans (an inline SVG stacked chart);
* findings grouped **by policy** (description, remediation and docs link once per policy) or
  **by team** (from the snapshot: the teams of the service, escalation policy, schedule, user,
  incident → service …), with filters: severity chips, policy, team and free text. Each finding's
  row is in the file once, in the by-policy view (readable without JavaScript); the page's script
  builds the by-team view from clones of those rows (groups, their order and the rows' order given
  by the JSON data block) and each row's search text from its cells and ``data-*`` attributes, so
  the file stays small (about 0.5 KB per finding);
  resources link to their page in PagerDuty (under the snapshot's ``meta.web_url``, or an
  object's own ``html_url`` when it carries one; only ``https://``/``http://`` URLs are ever linked);
* waived findings (reason, expiry), expired waivers, findings fixed since the baseline, and the
  list of policies evaluated.

Every piece of data is untrusted: it goes through :func:`pdguard.textsafe.safe_text` (control
and bidi characters made visible) and then HTML escaping; the JS reads data only from
``data-*`` attributes, ``textContent`` and the JSON data block (``<`` escaped), and builds nodes with
``createElement`` and ``textContent``, never ``innerHTML``.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

from pdguard.findings import SEVERITIES, Finding, Report
from pdguard.output._common import (
    count,
    evaluation_fields,
    gate_line,
    report_summary,
    short_revision,
    shown_note,
    sorted_findings,
    summary_counts,
)
from pdguard.snapshot import web_link
from pdguard.textsafe import safe_text

NO_TEAM = "(no team)"

# Collections whose objects carry teams (references or expanded) and an html_url.
_TEAMED = {
    "services": "service",
    "escalation_policies": "escalation_policy",
    "schedules": "schedule",
    "flexible_schedules": "flexible_schedule",
    "users": "user",
    "business_services": "business_service",
    "incidents": "incident",
    "teams": "team",
    "standards": "standard",
}


@dataclass
class HTMLContext:
    """What the report alone does not know: teams and links of resources, and the stored trend
    (with several accounts: each account's own, in `by_account` and `trends`)."""

    teams: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    links: dict[tuple[str, str], str] = field(default_factory=dict)
    trend: list[dict[str, Any]] = field(default_factory=list)
    trend_source: str | None = None
    by_account: dict[str, HTMLContext] = field(default_factory=dict)
    trends: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # account -> its trend

    def _of(self, f: Finding) -> HTMLContext:
        return self.by_account.get(f.account, self) if f.account else self

    def teams_of(self, f: Finding) -> list[str]:
        ctx = self._of(f)
        return ctx.teams.get((f.resource.type, f.resource.id)) or ctx.teams.get(("", f.resource.id)) or []

    def link_of(self, f: Finding) -> str | None:
        ctx = self._of(f)
        url = ctx.links.get((f.resource.type, f.resource.id)) or ctx.links.get(("", f.resource.id))
        url = safe_text(url)
        return url if url.startswith(("https://", "http://")) else None


def index_document(doc: dict[str, Any]) -> HTMLContext:
    """Teams and html_url of every object of a snapshot (v1 expanded objects or v2 references)."""
    ctx = HTMLContext()
    if not isinstance(doc, dict):
        return ctx
    team_names: dict[str, str] = {}
    for t in doc.get("teams") or []:
        if isinstance(t, dict) and t.get("id"):
            team_names[str(t["id"])] = str(t.get("name") or t.get("summary") or t["id"])

    def names(obj: dict[str, Any]) -> list[str]:
        refs = obj.get("teams")
        if not isinstance(refs, list):
            refs = [obj["team"]] if isinstance(obj.get("team"), dict) else []
        out = []
        for r in refs:
            if isinstance(r, dict) and r.get("id"):
                out.append(team_names.get(str(r["id"])) or str(r.get("summary") or r.get("name") or r["id"]))
        return sorted(set(out))

    meta = doc.get("meta") if isinstance(doc.get("meta"), dict) else {}
    service_teams: dict[str, list[str]] = {}
    for coll, rtype in _TEAMED.items():
        for o in doc.get(coll) or []:
            if not isinstance(o, dict) or not o.get("id"):
                continue
            oid = str(o["id"])
            teams = [team_names.get(oid, oid)] if coll == "teams" else names(o)
            if coll == "services":
                service_teams[oid] = teams
            if coll == "incidents" and not teams and isinstance(o.get("service"), dict):
                teams = service_teams.get(str(o["service"].get("id")), [])
            for key in ((rtype, oid), ("", oid)):
                if teams:
                    ctx.teams.setdefault(key, teams)
                link = o.get("html_url") if isinstance(o.get("html_url"), str) else web_link(meta, rtype, oid)
                if link:  # 1.x objects carry html_url; 2.0 snapshots give meta.web_url
                    ctx.links.setdefault(key, link)
    return ctx


def html_context(*, document: dict[str, Any] | None = None, snapshot_path: str | None = None,
                 store_url: str | None = None, cfg: Any = None, report: Report | None = None,
                 account_snapshots: dict[str, str] | None = None) -> HTMLContext:
    """Build the context: the snapshot (given, or read from `snapshot_path`; with several accounts
    each account's snapshot file of `account_snapshots`) and, with `store_url`, the findings trend
    of the stored scans of the report's account(s) (the current report appended when it is not
    stored)."""
    from pdguard.snapshot import read_json_file

    if document is None and snapshot_path:
        document = read_json_file(snapshot_path, "snapshot")
    ctx = index_document(document or {})
    for name, path in (account_snapshots or {}).items():
        ctx.by_account[name] = index_document(read_json_file(path, "snapshot"))
    if store_url:
        from pdguard.accounts import split
        from pdguard.inventory.store import Store

        parts = split(report) if report is not None else [(None, None)]
        with Store(store_url, config=cfg) as store:
            ctx.trend_source = Store._safe_url(store.url)
            for name, sub in parts:
                # The implicit account's scans are stored under its subdomain; without one, every scan.
                key = name or (sub.meta.get("account_subdomain") if sub is not None else None)
                trend = store.finding_trend(account=key)
                if sub is not None:
                    at = sub.meta.get("scanned_at")
                    if not trend or trend[-1].get("scanned_at") != at:
                        s = report_summary(sub)
                        trend.append({"id": None, "scanned_at": at, "complete": sub.meta.get("complete", True),
                                      "total": s.total, "by_severity": {k: v for k, v in s.by_severity.items() if v}})
                if len(parts) > 1 and name is not None:
                    ctx.trends[name] = trend
                else:
                    ctx.trend = trend
    return ctx


# ----------------------------------------------------------------------------------------- rendering

def e(value: Any) -> str:
    """Untrusted text for HTML text or attribute: neutralised, then escaped."""
    return html.escape(safe_text(value), quote=True)


def e_block(value: Any) -> str:
    return html.escape(safe_text(value, multiline=True), quote=True)


def _href(url: str | None) -> str | None:
    u = safe_text(url)
    return html.escape(u, quote=True) if u.startswith(("https://", "http://")) else None


def _sev(sev: str) -> str:
    cls = sev if sev in SEVERITIES else "other"
    return f'<span class="sev sev-{cls}">{e(sev)}</span>'


def _fmt_time(ts: Any) -> str:
    try:
        dt = datetime.fromisoformat(str(ts).replace("Z", "+00:00")).astimezone(UTC)
        return dt.strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        return safe_text(ts)


class HTMLOutput:
    name: ClassVar[str] = "html"

    def __init__(self, *, context: HTMLContext | None = None) -> None:
        self.context = context or HTMLContext()
        self.several = False  # several accounts in the report being rendered

    # -- pieces --------------------------------------------------------------------------------
    def _resource(self, f: Finding) -> str:
        r = f.resource
        label = f'<span class="rtype">{e(r.type)}</span> {e(r.name) if r.name else ""} <code>{e(r.id)}</code>'
        if self.several and f.account:  # several accounts in one report: say whose resource it is
            label = f'<span class="acct" title="PagerDuty account">{e(f.account)}</span> ' + label
        href = _href(self.context.link_of(f))
        if href:
            return (f'<a class="res" href="{href}" target="_blank" rel="noopener noreferrer" '
                    f'title="Open in PagerDuty">{label} <span class="ext" aria-hidden="true">↗</span></a>')
        return f'<span class="res">{label}</span>'

    def _row(self, f: Finding, teams: list[str], *, title: str, groups: list[int] | None) -> str:
        """A finding's row of the by-policy view. The page's JS computes its search text and builds the
        by-team view from it: `title` is its policy group's (a row's own title, when it differs, is in
        data-title) and `groups`, when given, its by-team groups (indices into the data block's
        `teams`) when data-teams alone would not tell them (see :meth:`_team_view_data`)."""
        team_attr = "|" + "|".join(teams or [NO_TEAM]) + "|"
        new = '<span class="tag new">new</span> ' if f.baseline == "new" else ""
        warn = '<span class="tag">warn</span> ' if f.kind == "warn" else ""
        attrs = f'data-sev="{e(f.severity)}" data-policy="{e(f.policy_id)}"'
        if self.several:
            attrs += f' data-account="{e(f.account or "")}"'
        attrs += f' data-teams="{e(team_attr)}"'
        if safe_text(f.title) != safe_text(title):
            attrs += f' data-title="{e(f.title)}"'
        if groups is not None:
            attrs += f' data-g="{" ".join(map(str, groups))}"'
        return (f'<tr class="f" {attrs}><td class="c-sev">{_sev(f.severity)}</td>'
                f'<td class="c-res">{self._resource(f)}</td><td class="c-msg">{new}{warn}{e(f.msg)}</td>'
                f'<td class="c-team">{", ".join(e(t) for t in teams) or "—"}</td></tr>')

    @staticmethod
    def _policy_groups(findings: list[Finding]) -> dict[str, list[int]]:
        """Indices of the (sorted) findings by policy, groups in order of first appearance."""
        groups: dict[str, list[int]] = {}
        for i, f in enumerate(findings):
            groups.setdefault(f.policy_id, []).append(i)
        return groups

    @staticmethod
    def _team_order(teams: list[list[str]]) -> list[str]:
        """The by-team groups in their order: most findings first, NO_TEAM last, then the name
        case-insensitively (a finding with several teams counts in each; none: NO_TEAM)."""
        sizes: dict[str, int] = {}
        for f_teams in teams:
            for t in f_teams or [NO_TEAM]:
                sizes[t] = sizes.get(t, 0) + 1
        return sorted(sizes, key=lambda t: (t == NO_TEAM, -sizes[t], t.lower()))

    def _by_policy(self, report: Report, findings: list[Finding], teams: list[list[str]],
                   policy_groups: dict[str, list[int]], row_groups: list[list[int] | None]) -> str:
        out = []
        for pid, idx in policy_groups.items():  # findings are sorted: groups come worst severity first
            group = [findings[i] for i in idx]
            f0 = group[0]
            info = report.policy(pid)
            desc = (info.description if info else None) or f0.description
            rem = (info.remediation if info else None) or f0.remediation
            docs = _href((info.docs_url if info else None) or f0.docs_url)
            worst = min((g.severity for g in group), key=lambda s: SEVERITIES.index(s) if s in SEVERITIES else 99)
            body = [f'<p class="desc">{e_block(desc)}</p>' if desc else ""]
            if rem:
                body.append(f'<div class="fix"><span class="fix-h">How to fix</span><p>{e_block(rem)}</p>'
                            + (f'<a href="{docs}" target="_blank" rel="noopener noreferrer">Policy documentation →</a>'
                               if docs else "") + "</div>")
            rows = "".join(self._row(findings[i], teams[i], title=f0.title, groups=row_groups[i]) for i in idx)
            out.append(
                f'<details class="group" open data-group="policy"><summary>{_sev(worst)} <b>{e(pid)}</b> '
                f'<span class="gtitle">{e(f0.title)}</span><span class="count" data-total="{len(group)}">{len(group)}'
                f'</span></summary>{"".join(body)}<table class="ft"><thead><tr><th>Severity</th><th>Resource</th>'
                f'<th>Finding</th><th>Team</th></tr></thead><tbody>{rows}</tbody></table></details>')
        return "".join(out)

    def _team_view_data(self, findings: list[Finding], teams: list[list[str]],
                        policy_groups: dict[str, list[int]]) -> tuple[dict[str, Any], list[list[int] | None]]:
        """What the page's JS needs to build the by-team view from the by-policy rows, and each row's
        explicit groups where its data-teams would not tell them.

        The JS puts a row in the groups named by its data-teams (split on ``|``; the first group of
        that name). That fails only for odd team names (a ``|`` in one, two names the same once
        neutralised): those rows carry their groups' indices in data-g. `order`, when the by-policy
        rows are not in the findings' order (a policy with findings of several severities), gives the
        rows in that order, which the by-team groups keep."""
        order = self._team_order(teams)
        labels = [safe_text(t) for t in order]
        position = {t: i for i, t in enumerate(order)}
        first: dict[str, int] = {}
        for i, label in enumerate(labels):
            first.setdefault(label, i)
        row_groups: list[list[int] | None] = []
        for f_teams in teams:
            expected = [position[t] for t in f_teams or [NO_TEAM]]
            names = safe_text("|" + "|".join(f_teams or [NO_TEAM]) + "|")[1:-1].split("|")
            row_groups.append(None if [first.get(n, -1) for n in names] == expected else expected)
        data: dict[str, Any] = {"teams": labels, "noTeam": NO_TEAM, "severities": list(SEVERITIES)}
        rows_order = [i for idx in policy_groups.values() for i in idx]  # finding index of each row
        if rows_order != list(range(len(findings))):
            row_of = {fi: r for r, fi in enumerate(rows_order)}
            data["order"] = [row_of[i] for i in range(len(findings))]
        return data, row_groups

    def _trends(self) -> str:
        if self.context.trends:
            return "".join(self._trend(points, f"account {name}") for name, points in self.context.trends.items())
        return self._trend(self.context.trend)

    def _trend(self, points: list[dict[str, Any]], of: str = "") -> str:
        title = f"Trend — {e(of)}" if of else "Trend"
        if len(points) < 2:
            if self.context.trend_source is not None:
                return (f'<section class="card"><h2>{title}</h2><p class="muted">The store holds fewer than two scans'
                        f'{" of this account" if of else ""}: the trend appears once <code>pdguard watch</code> has '
                        'stored more.</p></section>')
            return ""
        w, h, pl, pr, pt, pb = 760, 200, 44, 40, 12, 34
        n = len(points)
        top = max(1, max(int(p.get("total") or 0) for p in points))
        step = 10 ** max(0, len(str(top)) - 1)
        top = ((top + step - 1) // step) * step

        def x(i: int) -> float:
            return pl + (w - pl - pr) * (i / (n - 1))

        def y(v: float) -> float:
            return pt + (h - pt - pb) * (1 - v / top)

        layers = []
        base = [0.0] * n
        for sev in reversed(SEVERITIES):  # info at the bottom, critical on top
            vals = [float((p.get("by_severity") or {}).get(sev, 0)) for p in points]
            if not any(vals):
                continue
            upper = [b + v for b, v in zip(base, vals, strict=True)]
            poly = [f"{x(i):.1f},{y(upper[i]):.1f}" for i in range(n)]
            poly += [f"{x(i):.1f},{y(base[i]):.1f}" for i in reversed(range(n))]
            layers.append(f'<polygon class="area sev-{sev}" points="{" ".join(poly)}"><title>{sev}</title></polygon>')
            base = upper
        grid = []
        for k in range(5):
            v = top * k / 4
            grid.append(f'<line class="grid" x1="{pl}" x2="{w - pr}" y1="{y(v):.1f}" y2="{y(v):.1f}"/>'
                        f'<text class="axis" x="{pl - 6}" y="{y(v) + 4:.1f}" text-anchor="end">{int(v)}</text>')
        dots = []
        for i, p in enumerate(points):
            label = f"{_fmt_time(p.get('scanned_at'))}: {count(int(p.get('total') or 0), 'finding')}"
            if not p.get("complete", True):
                label += " (incomplete scan)"
            if p.get("id") is None:
                label += " (this report)"
            dots.append(f'<circle class="dot{" inc" if not p.get("complete", True) else ""}" cx="{x(i):.1f}" '
                        f'cy="{y(float(p.get("total") or 0)):.1f}" r="3.5"><title>{e(label)}</title></circle>')
        ticks = sorted({0, n - 1, *(range(0, n, max(1, n // 6)))})
        labels = [f'<text class="axis" x="{x(i):.1f}" y="{h - 12}" text-anchor="middle">'
                  f'{e(str(points[i].get("scanned_at") or "")[:10])}</text>' for i in ticks]
        legend = "".join(f'<span class="lg"><i class="sw sev-{s}"></i>{s}</span>' for s in SEVERITIES)
        first, last = points[0].get("total") or 0, points[-1].get("total") or 0
        delta = last - first
        change = "no change" if not delta else (f"{'+' if delta > 0 else '−'}{abs(delta)} since the first scan shown")
        return (f'<section class="card trend"><h2>{title} <span class="muted">— {count(n, "scan")}, {e(change)}</span></h2>'
                f'<svg viewBox="0 0 {w} {h}" role="img" aria-label="Findings per scan by severity">'
                f'{"".join(grid)}{"".join(layers)}{"".join(dots)}{"".join(labels)}</svg>'
                f'<div class="legend">{legend}</div></section>')

    def _warnings(self, report: Report) -> str:
        meta = report.meta
        items = []
        incomplete = meta.get("complete") is False
        accounts = meta.get("accounts") if isinstance(meta.get("accounts"), dict) else {None: meta}
        for account, m in accounts.items():
            status = m.get("collections_status") if isinstance(m, dict) and isinstance(
                m.get("collections_status"), dict) else {}
            whose = f"{account}: " if account and len(accounts) > 1 else ""
            for name, st in sorted(status.items()):
                if isinstance(st, dict) and st.get("status") not in (None, "complete"):
                    got, exp = st.get("got"), st.get("expected")
                    items.append(f"<li><b>{e(whose + name)}</b>: {e(st.get('status'))}"
                                 + (f" ({e(got)} of {e(exp)} collected)" if exp is not None else "") + "</li>")
        items += [f"<li>{e(w)}</li>" for w in report.warnings]
        if not items and not incomplete:
            return ""
        head = ('<h2>⚠ Incomplete inventory</h2><p>Not every object of the account was collected: findings may be '
                'missing. Fix the causes below and scan again before trusting a clean result.</p>'
                if incomplete else "<h2>Warnings</h2>")
        return f'<section class="card warn{" bad" if incomplete else ""}">{head}<ul>{"".join(items)}</ul></section>'

    def _waived(self, report: Report) -> str:
        if not report.waived:
            return ""
        rows = []
        for f in sorted_findings(report.waived):
            w = f.waiver
            rows.append(f"<tr><td>{_sev(f.severity)}</td><td><b>{e(f.policy_id)}</b> {e(f.title)}</td>"
                        f"<td>{self._resource(f)}</td><td>{e(f.msg)}</td><td>{e(w.reason) if w else ''}</td>"
                        f"<td>{e((w.expires or 'never') if w else '')}</td></tr>")
        return (f'<section class="card"><details><summary><h2>Waived findings <span class="muted">'
                f'({len(report.waived)})</span></h2></summary><table class="plain"><thead><tr><th>Severity</th>'
                f'<th>Policy</th><th>Resource</th><th>Finding</th><th>Reason</th><th>Expires</th></tr></thead>'
                f'<tbody>{"".join(rows)}</tbody></table></details></section>')

    def _extra(self, report: Report) -> str:
        out = []
        if report.expired_waivers:
            items = "".join(f"<li><b>{e(w.policy)}</b> {e(w.resource or '*')}: expired {e(w.expires)} — {e(w.reason)}</li>"
                            for w in report.expired_waivers)
            out.append(f'<section class="card warn"><h2>Expired waivers</h2><p>They no longer waive anything.</p>'
                       f'<ul>{items}</ul></section>')
        if report.fixed:
            items = []
            for item in report.fixed:
                res = item.get("resource") if isinstance(item.get("resource"), dict) else {}
                items.append(f"<li><b>{e(item.get('policy_id') or '')}</b> {e(res.get('type'))} {e(res.get('name'))} "
                             f"<code>{e(res.get('id'))}</code> — {e(item.get('msg') or '')}</li>")
            out.append(f'<section class="card good"><h2>Fixed since the baseline ({len(report.fixed)})</h2>'
                       f'<ul>{"".join(items)}</ul></section>')
        per_policy: dict[str, int] = {}
        for f in report.findings:
            per_policy[f.policy_id] = per_policy.get(f.policy_id, 0) + 1
        rows = "".join(
            f"<tr><td><b>{e(p.id)}</b></td><td>{_sev(p.severity)}</td><td>{e(p.title)}</td>"
            f"<td class=\"num\">{per_policy.get(p.id, 0)}</td></tr>"
            for p in sorted(report.policies, key=lambda p: p.id))
        if rows:
            out.append(f'<section class="card"><details><summary><h2>Policies evaluated <span class="muted">'
                       f'({len(report.policies)})</span></h2></summary><table class="plain"><thead><tr><th>Policy</th>'
                       f'<th>Severity</th><th>Title</th><th class="num">Findings</th></tr></thead><tbody>{rows}'
                       f'</tbody></table></details></section>')
        return "".join(out)

    @staticmethod
    def _evaluation(report: Report) -> list[str]:
        """The header's pieces on what decided the findings (``meta.evaluation``; else the tool's
        engine): engine, policy revision (12 characters, the whole in its title), on OPA the bundle
        (and its revision when it differs) and the decision id."""
        ev = evaluation_fields(report.meta)
        engine = ev.get("engine") or report.tool.get("engine")
        out = [f"engine {e(engine)}" if engine else ""]

        def rev(value: str) -> str:
            return f'<code class="rev" title="{e(value)}">{e(short_revision(value))}</code>'

        if "policy_revision" in ev:
            out.append(f"policy revision {rev(ev['policy_revision'])}")
        if "bundle" in ev:
            out.append(f"bundle <code>{e(ev['bundle'])}</code>"
                       + (f" (revision {rev(ev['bundle_revision'])})" if "bundle_revision" in ev else ""))
        if "decision_id" in ev:
            out.append(f"decision id <code>{e(ev['decision_id'])}</code>")
        return out

    # -- render --------------------------------------------------------------------------------
    def render(self, report: Report, *, color: bool = False) -> str:
        from pdguard.accounts import is_several
        from pdguard.accounts import label as account_label
        from pdguard.accounts import names as account_names

        self.several = is_several(report)
        s = report_summary(report)
        findings = sorted_findings(report.findings)
        teams = [self.context.teams_of(f) for f in findings]
        meta = report.meta
        account = safe_text(account_label(report))
        counts = summary_counts(s)
        failing = s.failing if s.fail_on != "none" else 0
        if failing:
            what = "new failing finding" if s.new is not None else "failing finding"
            verdict = (f'<div class="verdict fail"><span class="big">✕</span><div><b>{count(failing, what)}</b> at or '
                       f'above <b>{e(s.fail_on)}</b>' + (f" (of {s.failing_total} failing)" if s.new is not None else "")
                       + ' — the gate fails (exit 1).</div></div>')
        else:
            why = ("no finding at or above " + e(s.fail_on)) if s.fail_on != "none" else "the gate is off (--fail-on none)"
            if s.new is not None and s.failing_total:
                why = f"no new finding at or above {e(s.fail_on)} ({s.failing_total} known, in the baseline)"
            verdict = f'<div class="verdict pass"><span class="big">✓</span><div><b>Passing</b>: {why}.</div></div>'
        cards = "".join(
            f'<button class="scard sev-{sev}" data-sev="{sev}" type="button" title="Show only {sev}">'
            f'<span class="n">{counts.get(sev, 0)}</span><span class="l">{sev}</span></button>' for sev in SEVERITIES)
        cards += (f'<div class="scard total"><span class="n">{s.total}</span><span class="l">total</span></div>'
                  f'<div class="scard total"><span class="n">{s.waived or len(report.waived)}</span>'
                  f'<span class="l">waived</span></div>')
        note = shown_note(s)  # --severity: what is not listed, and that the gate counted it
        listed = f'<p class="muted">{e(note)}.</p>' if note else ""
        baseline = ""
        if s.new is not None:
            baseline = (f'<p class="muted">Baseline: {s.new} new · {s.unchanged or 0} unchanged · {s.fixed or 0} fixed '
                        '— only new findings fail the gate.</p>')
        policies = sorted({(f.policy_id, f.title) for f in findings})
        team_names = sorted({t for f_teams in teams for t in (f_teams or [NO_TEAM])},
                            key=lambda t: (t == NO_TEAM, t.lower()))
        acct_opts = "".join(f'<option value="{e(a)}">{e(a)}</option>' for a in account_names(report) if a)
        pol_opts = "".join(f'<option value="{e(p)}">{e(p)} — {e(t)}</option>' for p, t in policies)
        team_opts = "".join(f'<option value="{e(t)}">{e(t)}</option>' for t in team_names)
        chips = "".join(f'<label class="chip sev-{sev}"><input type="checkbox" name="sev" value="{sev}" checked>'
                        f'{sev}</label>' for sev in SEVERITIES if counts.get(sev, 0) or any(
                            f.severity == sev for f in findings))
        sub = " · ".join(x for x in [
            (f"accounts <b>{e(account)}</b>" if self.several else f"account <b>{e(account)}</b>") if account else "",
            f"scanned {e(_fmt_time(meta.get('scanned_at')))}" if meta.get("scanned_at") else "",
            f"{count(len(report.policies), 'policy')} evaluated",
            *self._evaluation(report),
            f"pdguard {e(report.tool.get('version'))}" if report.tool.get("version") else "",
        ] if x)
        data: dict[str, Any] = {"total": len(findings), "gate": gate_line(s)}
        if findings:
            policy_groups = self._policy_groups(findings)
            team_data, row_groups = self._team_view_data(findings, teams, policy_groups)
            data.update(team_data)
            body = (f'<div class="toolbar" role="search"><input id="q" type="search" placeholder="Filter: resource, '
                    f'message, policy, team…" aria-label="Filter text"><div class="chips">{chips}</div>'
                    f'<select id="policy" aria-label="Policy"><option value="">All policies</option>{pol_opts}</select>'
                    f'<select id="team" aria-label="Team"><option value="">All teams</option>{team_opts}</select>'
                    + (f'<select id="account" aria-label="Account"><option value="">All accounts</option>{acct_opts}'
                       '</select>' if self.several else "") +
                    f'<button id="reset" type="button">Reset</button></div>'
                    f'<div class="tabs" role="tablist"><button type="button" class="tab on" data-view="policy" '
                    f'role="tab">By policy</button><button type="button" class="tab" data-view="team" role="tab">By team'
                    f'</button><span id="shown" class="muted"></span></div>'
                    f'<div id="view-policy" class="view">'
                    f'{self._by_policy(report, findings, teams, policy_groups, row_groups)}</div>'
                    f'<div id="view-team" class="view" hidden></div>'
                    f'<p id="empty" class="empty" hidden>No finding matches these filters.</p>')
        else:
            body = '<p class="empty">No findings. 🎉</p>' if not s.hidden else '<p class="empty">No findings at the severities shown.</p>'
        title = f"pdguard report — {account}" if account else "pdguard report"
        data_json = json.dumps(data).replace("<", "\\u003c")
        return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'">
<meta name="referrer" content="no-referrer">
<meta name="generator" content="pdguard">
<title>{e(title)}</title>
<style>{CSS}</style>
</head>
<body>
<header class="top"><div class="wrap">
<div class="brand"><span class="logo">◆</span> pdguard</div>
<h1>PagerDuty governance report</h1>
<p class="sub">{sub}</p>
<button id="theme" type="button" title="Switch light/dark" aria-label="Switch light/dark">◐</button>
</div></header>
<main class="wrap">
{verdict}
<section class="cards">{cards}</section>
{listed}{baseline}
{self._warnings(report)}
{self._trends()}
<section class="card findings"><h2>Findings</h2>{body}</section>
{self._waived(report)}
{self._extra(report)}
</main>
<footer class="wrap muted">Generated by pdguard from a snapshot taken {e(_fmt_time(meta.get("scanned_at")))}. This file is self-contained: it loads nothing from the network.</footer>
<script type="application/json" id="pdguard-data">{data_json}</script>
<script>{JS}</script>
</body>
</html>
"""


CSS = """
:root{--bg:#f6f7f9;--fg:#1b1f24;--muted:#5d6670;--card:#fff;--line:#e3e6ea;--soft:#eef1f4;--accent:#0b6e4f;
--crit:#b42318;--high:#c4320a;--med:#a15c00;--low:#175cd3;--info:#667085;--good:#067647;--bad:#b42318;
--shadow:0 1px 2px rgba(16,24,40,.06),0 1px 3px rgba(16,24,40,.08);color-scheme:light}
@media (prefers-color-scheme:dark){:root:not([data-theme=light]){--bg:#0f1318;--fg:#e6e9ed;--muted:#9aa4af;
--card:#171c22;--line:#2a313a;--soft:#1f252d;--accent:#3ccf91;--crit:#ff6b5e;--high:#ff8a4c;--med:#f5b83d;
--low:#6aa6ff;--info:#9aa4af;--good:#3ccf91;--bad:#ff6b5e;--shadow:none;color-scheme:dark}}
:root[data-theme=dark]{--bg:#0f1318;--fg:#e6e9ed;--muted:#9aa4af;--card:#171c22;--line:#2a313a;--soft:#1f252d;
--accent:#3ccf91;--crit:#ff6b5e;--high:#ff8a4c;--med:#f5b83d;--low:#6aa6ff;--info:#9aa4af;--good:#3ccf91;
--bad:#ff6b5e;--shadow:none;color-scheme:dark}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,
"Helvetica Neue",Arial,"Noto Sans",sans-serif}
code{font:12.5px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace;background:var(--soft);
padding:1px 5px;border-radius:4px}
a{color:var(--low)}
.wrap{max-width:1180px;margin:0 auto;padding:0 20px}
.top{background:var(--card);border-bottom:1px solid var(--line);padding:18px 0 14px;margin-bottom:20px}
.top .wrap{position:relative}
.brand{font-weight:700;letter-spacing:.02em;color:var(--accent);font-size:14px}
.logo{display:inline-block;transform:translateY(-1px)}
h1{font-size:24px;margin:2px 0 2px;font-weight:650;letter-spacing:-.01em}
h2{font-size:17px;margin:0 0 10px;font-weight:650}
.sub{margin:0;color:var(--muted);font-size:14px}
#theme{position:absolute;right:20px;top:4px;border:1px solid var(--line);background:var(--soft);color:var(--fg);
border-radius:8px;width:34px;height:34px;font-size:16px;cursor:pointer}
.muted{color:var(--muted);font-weight:400}
.verdict{display:flex;gap:14px;align-items:center;padding:14px 18px;border-radius:12px;margin-bottom:16px;
border:1px solid var(--line);background:var(--card);box-shadow:var(--shadow)}
.verdict .big{display:inline-flex;align-items:center;justify-content:center;width:34px;height:34px;border-radius:50%;
color:#fff;font-weight:700;flex:none}
.verdict.fail{border-left:5px solid var(--bad)}.verdict.fail .big{background:var(--bad)}
.verdict.pass{border-left:5px solid var(--good)}.verdict.pass .big{background:var(--good)}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(118px,1fr));gap:10px;margin-bottom:16px}
.scard{display:flex;flex-direction:column;align-items:flex-start;gap:2px;padding:12px 14px;border-radius:12px;
border:1px solid var(--line);background:var(--card);color:var(--fg);box-shadow:var(--shadow);font:inherit;text-align:left}
button.scard{cursor:pointer;border-top:4px solid var(--c,var(--line))}
button.scard:hover{outline:2px solid var(--c)}
.scard .n{font-size:26px;font-weight:700;line-height:1.1;font-variant-numeric:tabular-nums}
.scard .l{font-size:13px;color:var(--muted);text-transform:capitalize}
.sev-critical{--c:var(--crit)}.sev-high{--c:var(--high)}.sev-medium{--c:var(--med)}.sev-low{--c:var(--low)}
.sev-info,.sev-other{--c:var(--info)}
.sev{display:inline-block;min-width:64px;text-align:center;padding:1px 8px;border-radius:999px;font-size:12px;
font-weight:600;color:var(--c);background:color-mix(in srgb,var(--c) 14%,transparent);
border:1px solid color-mix(in srgb,var(--c) 35%,transparent);text-transform:capitalize}
.card{background:var(--card);border:1px solid var(--line);border-radius:12px;padding:16px 18px;margin-bottom:16px;
box-shadow:var(--shadow)}
.card.warn{border-left:5px solid var(--med)}.card.warn.bad{border-left-color:var(--bad)}
.card.good{border-left:5px solid var(--good)}
.card ul{margin:6px 0 0;padding-left:20px}
.card details>summary{cursor:pointer;list-style:none}
.card details>summary h2{display:inline;margin:0}
.card details>summary::before{content:"▸ ";color:var(--muted)}
.card details[open]>summary::before{content:"▾ "}
.trend svg{width:100%;height:auto;display:block}
.trend .grid{stroke:var(--line);stroke-width:1}
.trend .axis{fill:var(--muted);font-size:11px}
.trend .area{fill:var(--c);fill-opacity:.55;stroke:var(--c);stroke-width:1}
.trend .dot{fill:var(--card);stroke:var(--fg);stroke-width:1.5}.trend .dot.inc{stroke:var(--bad);stroke-dasharray:2 2}
.legend{display:flex;gap:14px;flex-wrap:wrap;font-size:12.5px;color:var(--muted);margin-top:4px}
.sw{display:inline-block;width:10px;height:10px;border-radius:2px;background:var(--c);margin-right:5px;opacity:.8}
.toolbar{display:flex;flex-wrap:wrap;gap:8px;align-items:center;margin-bottom:10px}
.toolbar input[type=search]{flex:1 1 260px;min-width:200px}
input[type=search],select,#reset{font:inherit;font-size:14px;padding:7px 10px;border:1px solid var(--line);
border-radius:8px;background:var(--bg);color:var(--fg)}
select{max-width:280px}
#reset{cursor:pointer;background:var(--soft)}
.chips{display:flex;gap:6px;flex-wrap:wrap}
.chip{display:inline-flex;align-items:center;gap:5px;padding:5px 10px;border-radius:999px;border:1px solid var(--line);
font-size:13px;cursor:pointer;user-select:none;text-transform:capitalize;background:var(--bg)}
.chip input{accent-color:var(--c);margin:0}
.chip:has(input:checked){border-color:var(--c);background:color-mix(in srgb,var(--c) 12%,transparent)}
.tabs{display:flex;gap:4px;align-items:center;border-bottom:1px solid var(--line);margin:6px 0 12px}
.tab{font:inherit;font-size:14px;padding:7px 12px;border:0;border-bottom:2px solid transparent;background:none;
color:var(--muted);cursor:pointer}
.tab.on{color:var(--fg);border-bottom-color:var(--accent);font-weight:600}
#shown{margin-left:auto;font-size:13px}
.group{border:1px solid var(--line);border-radius:10px;margin-bottom:10px;overflow:hidden;background:var(--card)}
.group>summary{display:flex;gap:10px;align-items:center;padding:10px 14px;cursor:pointer;background:var(--soft);
list-style:none}
.group>summary::-webkit-details-marker{display:none}
.group>summary::before{content:"▸";color:var(--muted);width:10px}
.group[open]>summary::before{content:"▾"}
.gtitle{flex:1}
.count{margin-left:auto;font-variant-numeric:tabular-nums;font-size:13px;color:var(--muted);background:var(--card);
border:1px solid var(--line);border-radius:999px;padding:0 9px}
.mini{font-size:12px;font-weight:600;color:var(--c);padding:0 4px}
.desc{margin:10px 14px 0;color:var(--muted)}
.fix{margin:10px 14px;padding:10px 12px;border-radius:8px;background:color-mix(in srgb,var(--accent) 8%,transparent);
border:1px solid color-mix(in srgb,var(--accent) 25%,transparent)}
.fix p{margin:2px 0 4px;white-space:pre-line}.fix-h{font-weight:600;font-size:13px;color:var(--accent)}
.fix a{font-size:13px}
table{border-collapse:collapse;width:100%}
.ft td,.ft th,.plain td,.plain th{padding:8px 14px;border-top:1px solid var(--line);text-align:left;vertical-align:top}
th{font-size:12px;text-transform:uppercase;letter-spacing:.04em;color:var(--muted);font-weight:600}
.ft tbody tr:hover,.plain tbody tr:hover{background:var(--soft)}
.c-sev{width:96px}.c-pol{width:30%}.c-res{width:30%}.c-team{width:16%;color:var(--muted)}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.res{text-decoration:none;color:inherit;overflow-wrap:anywhere}a.res:hover{text-decoration:underline;color:var(--low)}
.rtype{color:var(--muted);font-size:13px}
.acct{display:inline-block;font-size:11px;font-weight:700;padding:0 6px;border-radius:4px;background:var(--soft);
border:1px solid var(--line);color:var(--fg)}
.ext{color:var(--low);font-size:12px}
.c-msg{overflow-wrap:anywhere}
.tag{display:inline-block;font-size:11px;font-weight:700;text-transform:uppercase;padding:0 6px;border-radius:4px;
background:var(--soft);color:var(--muted);margin-right:4px}
.tag.new{background:color-mix(in srgb,var(--bad) 15%,transparent);color:var(--bad)}
.empty{text-align:center;color:var(--muted);padding:26px}
footer{padding:10px 20px 40px;font-size:13px}
[hidden]{display:none!important}
@media (max-width:720px){.c-team,.ft th:nth-child(4){display:none}.c-sev{width:auto}}
@media print{.toolbar,.tabs,#theme{display:none}.group{break-inside:avoid}body{background:#fff}}
"""

JS = r"""
(function(){
  "use strict";
  var root = document.documentElement;
  var themeBtn = document.getElementById("theme");
  themeBtn.addEventListener("click", function(){
    var dark = root.dataset.theme ? root.dataset.theme === "dark"
      : window.matchMedia("(prefers-color-scheme: dark)").matches;
    root.dataset.theme = dark ? "light" : "dark";
  });
  var q = document.getElementById("q");
  if (!q) { return; }
  var policySel = document.getElementById("policy");
  var teamSel = document.getElementById("team");
  var accountSel = document.getElementById("account");
  var chips = Array.prototype.slice.call(document.querySelectorAll('input[name="sev"]'));
  var data = JSON.parse(document.getElementById("pdguard-data").textContent);
  var total = data.total;
  var view = "policy";

  // Each by-policy row: its search text (what the filter box matches, lowercased: policy id and
  // title, resource type, id and name, message, teams, and the account when several) and its
  // by-team groups (indices into data.teams), from its cells and data-* attributes.
  var labels = data.teams;
  var firstLabel = new Map();
  labels.forEach(function(l, i){ if (!firstLabel.has(l)) { firstLabel.set(l, i); } });
  var noTeam = "|" + data.noTeam + "|";
  function describe(r){
    var title = r.dataset.title !== undefined ? r.dataset.title
      : r.closest("details.group").querySelector(".gtitle").textContent;
    var res = r.querySelector(".c-res"), rtype = res.querySelector(".rtype");
    var name = rtype.nextSibling && rtype.nextSibling.nodeType === 3 ? rtype.nextSibling.nodeValue : "";
    var msgCell = r.querySelector(".c-msg"), msg = msgCell.textContent;
    Array.prototype.forEach.call(msgCell.querySelectorAll(".tag"), function(t){
      msg = msg.slice(t.textContent.length + 1);  // the "new" / "warn" tags and their space
    });
    var groups = r.dataset.g !== undefined ? r.dataset.g.split(" ").map(Number)
      : r.dataset.teams.slice(1, -1).split("|").map(function(n){ return firstLabel.get(n); });
    var none = r.dataset.teams === noTeam && r.querySelector(".c-team").textContent === "\u2014";
    var fields = [r.dataset.policy, title, rtype.textContent, res.querySelector("code").textContent, name, msg]
      .concat(none ? [] : groups.map(function(i){ return labels[i]; }))
      .concat(accountSel && r.dataset.account ? [r.dataset.account] : []);
    return {row: r, policy: r.dataset.policy, title: title, groups: groups,
            text: fields.join(" ").toLowerCase().replace(/[ \t\n\r]+/g, " ").trim()};
  }
  var policyRows = Array.prototype.slice.call(document.querySelectorAll("#view-policy tr.f")).map(describe);
  policyRows.forEach(function(d){ d.row.searchText = d.text; });

  // The by-team view, built from clones of those rows (no Team column; a Policy column): one group
  // per team in data.teams order, each finding under each of its teams, in the findings' order.
  function el(tag, cls, text){
    var n = document.createElement(tag);
    if (cls) { n.className = cls; }
    if (text !== undefined) { n.textContent = text; }
    return n;
  }
  (function buildTeamView(){
    var members = labels.map(function(){ return []; });
    var inOrder = data.order ? data.order.map(function(i){ return policyRows[i]; }) : policyRows;
    inOrder.forEach(function(d){ d.groups.forEach(function(i){ members[i].push(d); }); });
    var out = document.createDocumentFragment();
    labels.forEach(function(label, i){
      var m = members[i];
      if (!m.length) { return; }
      var det = el("details", "group");
      det.open = true;
      det.dataset.group = "team";
      var summary = el("summary");
      summary.append(el("b", "", label), " ");
      var counts = new Map();
      data.severities.forEach(function(s){ counts.set(s, 0); });
      m.forEach(function(d){ counts.set(d.row.dataset.sev, (counts.get(d.row.dataset.sev) || 0) + 1); });
      counts.forEach(function(n, s){
        if (n) { var mini = el("span", "mini sev-" + s, String(n)); mini.title = s; summary.append(mini); }
      });
      var c = el("span", "count", String(m.length));
      c.dataset.total = String(m.length);
      summary.append(c);
      var table = el("table", "ft"), head = el("tr"), body = el("tbody");
      ["Severity", "Policy", "Resource", "Finding"].forEach(function(h){ head.append(el("th", "", h)); });
      table.append(el("thead"), body);
      table.firstChild.append(head);
      m.forEach(function(d){
        var tr = d.row.cloneNode(true);
        tr.removeChild(tr.querySelector(".c-team"));
        var pol = el("td", "c-pol");
        pol.append(el("b", "", d.policy), " " + d.title);
        tr.insertBefore(pol, tr.querySelector(".c-res"));
        tr.searchText = d.text;
        body.append(tr);
      });
      det.append(summary, table);
      out.append(det);
    });
    document.getElementById("view-team").append(out);
  })();

  var rows = Array.prototype.slice.call(document.querySelectorAll("tr.f"));
  var groups = Array.prototype.slice.call(document.querySelectorAll("details.group"));
  var shown = document.getElementById("shown");
  var empty = document.getElementById("empty");

  function apply(){
    var text = q.value.trim().toLowerCase();
    var sevs = {};
    chips.forEach(function(c){ if (c.checked) { sevs[c.value] = true; } });
    var pol = policySel.value, team = teamSel.value, acct = accountSel ? accountSel.value : "";
    rows.forEach(function(r){
      var ok = sevs[r.dataset.sev] === true
        && (!pol || r.dataset.policy === pol)
        && (!acct || r.dataset.account === acct)
        && (!team || r.dataset.teams.indexOf("|" + team + "|") !== -1)
        && (!text || r.searchText.indexOf(text) !== -1);
      r.hidden = !ok;
    });
    var visible = 0;
    groups.forEach(function(g){
      var n = g.querySelectorAll("tr.f:not([hidden])").length;
      g.hidden = n === 0;
      var c = g.querySelector(".count");
      c.textContent = n === Number(c.dataset.total) ? String(n) : n + " / " + c.dataset.total;
      if (g.dataset.group === "policy") { visible += n; }
    });
    shown.textContent = visible === total ? "All " + total + " findings" : visible + " of " + total + " findings";
    empty.hidden = visible !== 0;
  }
  q.addEventListener("input", apply);
  policySel.addEventListener("change", apply);
  teamSel.addEventListener("change", apply);
  if (accountSel) { accountSel.addEventListener("change", apply); }
  chips.forEach(function(c){ c.addEventListener("change", apply); });
  document.getElementById("reset").addEventListener("click", function(){
    q.value = ""; policySel.value = ""; teamSel.value = ""; if (accountSel) { accountSel.value = ""; }
    chips.forEach(function(c){ c.checked = true; });
    apply();
  });
  Array.prototype.slice.call(document.querySelectorAll("button.scard")).forEach(function(b){
    b.addEventListener("click", function(){
      chips.forEach(function(c){ c.checked = c.value === b.dataset.sev; });
      apply();
      document.querySelector(".findings").scrollIntoView({behavior: "smooth"});
    });
  });
  Array.prototype.slice.call(document.querySelectorAll(".tab")).forEach(function(t){
    t.addEventListener("click", function(){
      view = t.dataset.view;
      document.querySelectorAll(".tab").forEach(function(o){ o.classList.toggle("on", o === t); });
      document.getElementById("view-policy").hidden = view !== "policy";
      document.getElementById("view-team").hidden = view !== "team";
    });
  });
  apply();
})();
"""
