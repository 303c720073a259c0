package pdguard.schedules.coverage_gap_test

import data.pdguard.lib.testing
import data.pdguard.schedules.coverage_gap as policy

cfg := {"min_schedule_coverage_percent": 100}

# A schedule as GET /schedules/{id}?since&until renders it: a final_schedule over the window.
sched(id, pct) := object.union(testing.schedule(id, [testing.layer(["PUSR001"], null)]), {"final_schedule": {
	"name": "Final Schedule",
	"rendered_schedule_entries": [{"user": testing.user_ref("PUSR001"), "start": "2026-11-26T09:00:00Z", "end": "2026-11-27T09:00:00Z"}],
	"rendered_coverage_percentage": pct,
}})

test_gap_denied if {
	inp := testing.snapshot_paging({"schedules": [sched("PSCH001", 87.5), sched("PSCH002", 100)]})
	d := policy.deny with input as inp with data.pdguard.config as cfg
	testing.assert_ids(d, {"PSCH001"})
	testing.assert_finding(d, "PSCH001", {
		"msg": "schedule \"PSCH001\" covers only 87.5% of the rendered period (minimum 100%)",
		"resource": {"type": "schedule", "id": "PSCH001", "name": "PSCH001"},
		"details": {"min_coverage_percent": 100},
	})
}

test_full_coverage_passes if {
	inp := testing.snapshot_paging({"schedules": [sched("PSCH002", 100), sched("PSCH003", 100.0)]})
	testing.assert_empty(policy.deny) with input as inp with data.pdguard.config as cfg
}

test_threshold_is_configurable if {
	inp := testing.snapshot_paging({"schedules": [sched("PSCH001", 87.5), sched("PSCH004", 50)]})
	testing.assert_ids(policy.deny, {"PSCH004"}) with input as inp with data.pdguard.config as {"min_schedule_coverage_percent": 80}
}

test_missing_coverage_skipped if {
	inp := testing.snapshot_paging({"schedules": [
		testing.schedule("PSCH005", []),
		object.union(testing.schedule("PSCH006", []), {"final_schedule": null}),
		object.union(testing.schedule("PSCH007", []), {"final_schedule": {"name": "Final Schedule", "rendered_coverage_percentage": null}}),
		object.union(testing.schedule("PSCH008", []), {"final_schedule": {"name": "Final Schedule"}}),
	]})
	testing.assert_empty(policy.deny) with input as inp with data.pdguard.config as cfg
}

# A schedule no escalation policy targets is PDG-SCH-003's finding: its gaps page nobody anyway.
test_unpaged_schedules_are_left_to_sch_003 if {
	inp := testing.snapshot({
		"escalation_policies": [testing.escalation_policy("PEP0001", [[testing.schedule_ref("PSCH001")]])],
		"schedules": [sched("PSCH001", 87.5), sched("PSCH002", 87.5)],
	})
	testing.assert_ids(policy.deny, {"PSCH001"}) with input as inp with data.pdguard.config as cfg
}
