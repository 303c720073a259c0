package pdguard.schedules.coverage_gap_test

import data.pdguard.schedules.coverage_gap as policy

cfg := {"min_schedule_coverage_percent": 100}

sched(id, pct) := {"id": id, "name": id, "final_schedule": {"name": "Final Schedule", "rendered_coverage_percentage": pct}}

test_gap_denied if {
	inp := {"schedules": [sched("PSCH001", 87.5), sched("PSCH002", 100)]}
	d := policy.deny with input as inp with data.pdguard.config as cfg
	count(d) == 1
	some f in d
	f.resource == {"type": "schedule", "id": "PSCH001", "name": "PSCH001"}
	f.details == {"min_coverage_percent": 100}
	contains(f.msg, "87.5%")
}

test_full_coverage_passes if {
	inp := {"schedules": [sched("PSCH002", 100), sched("PSCH003", 100.0)]}
	d := policy.deny with input as inp with data.pdguard.config as cfg
	count(d) == 0
}

test_threshold_is_configurable if {
	inp := {"schedules": [sched("PSCH001", 87.5), sched("PSCH004", 50)]}
	d := policy.deny with input as inp with data.pdguard.config as {"min_schedule_coverage_percent": 80}
	{f.resource.id | some f in d} == {"PSCH004"}
}

test_missing_coverage_skipped if {
	inp := {"schedules": [
		{"id": "PSCH005", "name": "a"},
		{"id": "PSCH006", "name": "b", "final_schedule": null},
		{"id": "PSCH007", "name": "c", "final_schedule": {"rendered_coverage_percentage": null}},
		{"id": "PSCH008", "name": "d", "final_schedule": {}},
	]}
	d := policy.deny with input as inp with data.pdguard.config as cfg
	count(d) == 0
}
