package pdguard.schedules.single_user_test

import data.pdguard.lib.testing
import data.pdguard.schedules.single_user as policy

cfg := {"min_schedule_users": 2}

test_single_user_denied if {
	inp := testing.snapshot_paging({"schedules": [
		testing.schedule("PSCH001", [testing.layer(["PUSR001"], null), testing.layer(["PUSR001"], null)]),
		testing.schedule("PSCH002", [testing.layer(["PUSR001"], null), testing.layer(["PUSR002"], null)]),
	]})
	d := policy.deny with input as inp with data.pdguard.config as cfg
	testing.assert_ids(d, {"PSCH001"})
	testing.assert_finding(d, "PSCH001", {
		"msg": "schedule \"PSCH001\" has 1 distinct user(s), fewer than 2",
		"resource": {"type": "schedule", "id": "PSCH001", "name": "PSCH001"},
		"details": {"users": ["PUSR001"], "min_users": 2},
	})
}

test_users_of_ended_layers_do_not_rotate if {
	inp := testing.snapshot_paging({"schedules": [
		testing.schedule("PSCH003", [testing.layer(["PUSR001"], null), testing.layer(["PUSR002", "PUSR003"], "2026-06-01T00:00:00Z")]),
		testing.schedule("PSCH004", [testing.layer(["PUSR001"], null), testing.layer(["PUSR002"], "2027-01-01T00:00:00Z")]),
	]})
	d := policy.deny with input as inp with data.pdguard.config as cfg
	testing.assert_ids(d, {"PSCH003"})
	testing.assert_finding(d, "PSCH003", {"details": {"users": ["PUSR001"], "min_users": 2}})
}

test_enough_users_pass if {
	inp := testing.snapshot_paging({"schedules": [testing.schedule("PSCH002", [testing.layer(["PUSR001", "PUSR002"], null)])]})
	testing.assert_empty(policy.deny) with input as inp with data.pdguard.config as cfg
}

test_no_layers_denied if {
	inp := testing.snapshot_paging({"schedules": [
		{"id": "PSCH005", "type": "schedule", "name": "empty"},
		testing.schedule("PSCH006", [{"id": "L", "start": "2025-01-01T00:00:00Z", "users": []}]),
	]})
	d := policy.deny with input as inp with data.pdguard.config as cfg
	testing.assert_ids(d, {"PSCH005", "PSCH006"})
	testing.assert_finding(d, "PSCH005", {"details": {"users": [], "min_users": 2}})
}

test_min_is_configurable if {
	inp := testing.snapshot_paging({"schedules": [testing.schedule("PSCH002", [testing.layer(["PUSR001", "PUSR002"], null)])]})
	testing.assert_ids(policy.deny, {"PSCH002"}) with input as inp with data.pdguard.config as {"min_schedule_users": 3}
}

# A schedule no escalation policy targets is PDG-SCH-003's finding: its rotation pages nobody.
test_unpaged_schedules_are_left_to_sch_003 if {
	inp := testing.snapshot({
		"escalation_policies": [testing.escalation_policy("PEP0001", [[testing.schedule_ref("PSCH001")]])],
		"schedules": [testing.schedule("PSCH001", [testing.layer(["PUSR001"], null)]), testing.schedule("PSCH002", [testing.layer(["PUSR001"], null)])],
	})
	testing.assert_ids(policy.deny, {"PSCH001"}) with input as inp with data.pdguard.config as cfg
	unknown := testing.snapshot_without({"schedules": [testing.schedule("PSCH002", [testing.layer(["PUSR001"], null)])]}, ["escalation_policies"])
	testing.assert_ids(policy.deny, {"PSCH002"}) with input as unknown with data.pdguard.config as cfg
}
