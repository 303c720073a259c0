"""JSON output: complete, sorted, deterministic, documented."""

from __future__ import annotations

import json

from report_fixtures import SCANNED_KEY, all_fingerprints, sample_report, scanned_report

from pdguard.findings import SEVERITIES, Report
from pdguard.output import get_output
from pdguard.output import json as json_mod
from pdguard.output.json import JSONOutput


def test_registered():
    out = get_output("json")
    assert isinstance(out, JSONOutput) and out.name == "json"


def test_roundtrip_same_findings():
    report = sample_report(baseline=True)
    doc = json.loads(JSONOutput().render(report))
    assert {f["fingerprint"] for f in doc["findings"]} == {f.fingerprint for f in report.findings}
    assert {f["fingerprint"] for f in doc["waived"]} == {f.fingerprint for f in report.waived}
    assert len(doc["findings"]) == len(report.findings) and len(doc["waived"]) == len(report.waived)
    assert {f["fingerprint"] for f in [*doc["findings"], *doc["waived"]]} == all_fingerprints(report)
    # the document is the report: it loads back into the model unchanged (modulo order)
    back = Report.model_validate(doc)
    assert {f.fingerprint: f for f in back.findings} == {f.fingerprint: f for f in report.findings}
    assert back.summary == report.summary and back.meta == report.meta
    assert doc["summary"]["new"] == 3 and doc["fixed"] == report.fixed


def test_sorted_by_severity_policy_resource():
    doc = json.loads(JSONOutput().render(sample_report()))
    keys = [
        (SEVERITIES.index(f["severity"]), f["policy_id"], f["resource"]["type"], f["resource"]["id"], f["fingerprint"])
        for f in doc["findings"]
    ]
    assert keys == sorted(keys)
    assert [p["id"] for p in doc["policies"]] == sorted(p["id"] for p in doc["policies"])


def test_deterministic_regardless_of_input_order():
    a = JSONOutput().render(sample_report())
    report = sample_report()
    report.findings.reverse()
    report.waived.reverse()
    report.policies.reverse()
    b = JSONOutput().render(report)
    assert a == b
    assert a.endswith("\n")


def test_special_characters_survive():
    report = sample_report()
    doc = json.loads(JSONOutput().render(report))
    names = {f["resource"]["name"] for f in doc["findings"]}
    assert 'API | <prod> & "edge"' in names
    assert "Zoë O'Brien" in names  # UTF-8, not \\u escapes
    assert "Zoë" in JSONOutput().render(report)


def test_schema_documented_in_docstring():
    doc = json.loads(JSONOutput().render(sample_report()))
    assert json_mod.__doc__
    for key in doc:
        assert f"``{key}``" in json_mod.__doc__, f"top-level field {key!r} is not documented"
    for key in doc["findings"][0]:
        assert f"``{key}``" in json_mod.__doc__, f"finding field {key!r} is not documented"


def test_no_token():
    """The key goes through the real path (simulator → scanner → engine → report) and never out."""
    report = scanned_report()
    text = JSONOutput().render(report)
    assert report.findings and report.findings[0].fingerprint[:12] in text or report.findings[0].policy_id in text
    assert SCANNED_KEY not in text
    assert "token=" not in text.lower()


AWKWARD_VALUES = [
    "é 😀 \u2028 \x00 \x1f \x7f \" \\ \n\t", 0, -1, 2**63 - 1, -(2**63), 2**64 - 1, 2**64, -(2**63) - 1,
    0.0, -0.0, 0.1, 100.0, 1e-4, 9.999e15, 1e15, 1e16, 1e-05, 5e-324, 1.7976931348623157e308,
    float("nan"), float("inf"), True, False, None, [], {}, [[]], {"": {}},
]


def test_indented_rendering_is_the_standard_librarys_byte_for_byte():
    # JSON and SARIF reports go through orjson where it writes what json.dumps would (10x faster on
    # a full-size report), else through json: every value renders exactly as json.dumps renders it.
    from pdguard.output._common import dumps_indented

    for value in AWKWARD_VALUES:
        doc = {"z": value, "a": {"k": [value, {"b": value}]}}
        for sort_keys in (True, False):
            want = json.dumps(doc, indent=2, sort_keys=sort_keys, ensure_ascii=False, default=str) + "\n"
            assert dumps_indented(doc, sort_keys=sort_keys, default=str) == want, value
    report = sample_report(baseline=True)
    doc = json_mod.report_document(report)
    assert JSONOutput().render(report) == json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n"
