package pdguard.iac.ghost_test

import data.pdguard.iac.ghost as policy
import data.pdguard.lib.testing

ghosts := [
	{"type": "service", "id": "PGONE01", "address": "pagerduty_service.old", "file": null, "line": null},
	{"type": "schedule", "id": "PGONE02", "address": "pagerduty_schedule.legacy", "file": "main.tf", "line": 40},
	{"type": "team", "id": "PGONE03"},
]

with_iac(snapshot, iac) := object.union(snapshot, {"iac": iac})

test_ghosts_denied if {
	inp := with_iac(testing.snapshot({}), {"resources": {}, "ghosts": ghosts})
	d := policy.deny with input as inp
	testing.assert_ids(d, {"PGONE01", "PGONE02", "PGONE03"})
	testing.assert_finding(d, "PGONE01", {
		"msg": "service PGONE01 (pagerduty_service.old) is in Terraform state but does not exist in PagerDuty",
		"resource": {"type": "service", "id": "PGONE01", "name": "pagerduty_service.old"},
		"details": {"address": "pagerduty_service.old"},
	})
	testing.assert_finding(d, "PGONE03", {"resource": {"type": "team", "id": "PGONE03", "name": "PGONE03"}})
}

test_collection_not_scanned_is_no_ghost if {
	inp := with_iac(testing.snapshot_without({}, ["schedules", "teams"]), {"resources": {}, "ghosts": ghosts})
	testing.assert_ids(policy.deny, {"PGONE01"}) with input as inp
}

test_no_ghosts_passes if {
	testing.assert_empty(policy.deny) with input as with_iac(testing.snapshot({}), {"resources": {}, "ghosts": []})
	testing.assert_empty(policy.deny) with input as with_iac(testing.snapshot({}), {"resources": {}})
	testing.assert_empty(policy.deny) with input as with_iac(testing.snapshot({}), null)
}

test_ghost_names_who_deleted_it if {
	deleted := object.union(ghosts[0], {"changed_by": {"at": "2026-11-20T08:00:00Z", "action": "delete", "method": "api_token", "actors": []}})
	inp := with_iac(testing.snapshot({}), {"resources": {}, "ghosts": [deleted]})
	testing.assert_finding(policy.deny, "PGONE01", {
		"msg": "service PGONE01 (pagerduty_service.old) is in Terraform state but does not exist in PagerDuty; last changed by an actor PagerDuty does not name (api_token) at 2026-11-20T08:00:00Z",
		"details": {"address": "pagerduty_service.old"},
	}) with input as inp
}
