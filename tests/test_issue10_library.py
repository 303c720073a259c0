"""Issue 10 across the whole built-in library, on the demo account (scanned over HTTP):

* #5: a collection that was not collected (`--exclude`, a 403) never produces a finding: taking
  any collection out of `meta.collections` (and emptying it) never reports anything about an
  object the full scan found nothing wrong with (a root cause may move to the policy that no
  longer defers - PDG-STD-002 reports PagerDuty's score when PDG-STD-001 cannot judge - but no
  new one appears);
* #10: PDG-SVC-003 does not tell to PUT `teams` on a service (read-only);
* one root cause, one finding: no two findings of the demo share a root cause;
* the per-defect regressions live beside each policy (`*_test.rego`, run by test_policy_library).
"""

from __future__ import annotations

import copy
from functools import lru_cache

import pytest
from conftest import scan_account

from pdguard.config import Config
from pdguard.engine.base import InputRef
from pdguard.engine.embedded import EmbeddedEngine
from pdguard.engine.loader import load_policies
from pdguard.evaluate import evaluate


@lru_cache(maxsize=1)
def demo() -> dict:
    from pdguard.simulator import sample_account

    return scan_account(sample_account())


def everything() -> Config:
    """Every policy on, opt-in ones included."""
    return Config(policies={m.info.id: {"enabled": True} for m in load_policies().policies if m.info})


def findings(doc: dict) -> list:
    return evaluate(InputRef(doc=doc), everything(), engine=EmbeddedEngine()).findings


def _ids(value: object) -> set[str]:
    if isinstance(value, dict):
        return {str(value["id"])} if "id" in value else set() | {i for v in value.values() for i in _ids(v)}
    if isinstance(value, list):
        return {i for v in value for i in _ids(v)}
    return set()


@lru_cache(maxsize=1)
def subjects() -> frozenset[str]:
    """The objects the full scan has findings about (their resources and the ids in their details)."""
    return frozenset({f.resource.id for f in findings(demo())} | {i for f in findings(demo()) for i in _ids(f.details)})


@pytest.mark.parametrize("collection", sorted(demo()["meta"]["collections"]))
def test_a_collection_not_collected_never_adds_a_finding(collection: str) -> None:
    doc = copy.deepcopy(demo())
    doc["meta"]["collections"].remove(collection)
    doc[collection] = []
    if collection == "standards":
        doc["standards_scores"] = []
    extra = sorted((f.policy_id, f.resource.id) for f in findings(doc) if f.resource.id not in subjects())
    assert not extra, f"without {collection}: {extra}"


def test_service_team_remediation_does_not_put_teams_on_the_service() -> None:
    info = next(m.info for m in load_policies().policies if m.info and m.info.id == "PDG-SVC-003")
    text = " ".join(info.remediation.split())
    assert '{"service": {"teams"' not in text
    assert "PUT /escalation_policies/{id}" in text and "PUT /services/{id} ignores them" in text
