package pdguard.escalation_policies.single_level_test

import data.pdguard.escalation_policies.single_level as policy
import data.pdguard.lib.testing

cfg := {"min_escalation_levels": 2}

# a rotation of two people, and each of them
team := [testing.schedule_ref("PSCH001")]

ann := [testing.user_ref("PUSR001")]

bob := [testing.user_ref("PUSR002")]

account(eps) := testing.snapshot({
	"schedules": [testing.schedule("PSCH001", [testing.layer(["PUSR001", "PUSR002"], null)])],
	"escalation_policies": eps,
})

test_single_level_denied if {
	inp := account([testing.escalation_policy("PEP0001", [team]), testing.escalation_policy("PEP0002", [team, ann])])
	d := policy.deny with input as inp with data.pdguard.config as cfg
	testing.assert_ids(d, {"PEP0001"})
	testing.assert_finding(d, "PEP0001", {
		"msg": "escalation policy \"PEP0001\" has a single escalation level: a missed page is never escalated",
		"resource": {"type": "escalation_policy", "id": "PEP0001", "name": "PEP0001"},
		"details": {"levels": 1, "min_levels": 2},
	})
}

# A level that repeats an earlier level's targets escalates to nobody new (PagerDuty's "unique
# levels", what its Service Standard counts).
test_repeated_levels_are_not_unique if {
	inp := account([testing.escalation_policy("PEP0003", [team, team])])
	d := policy.deny with input as inp with data.pdguard.config as cfg
	testing.assert_finding(d, "PEP0003", {
		"msg": "escalation policy \"PEP0003\" has 2 escalation levels but only 1 pages someone new (the others repeat its targets), fewer than 2",
		"details": {"levels": 1, "min_levels": 2},
	})
}

test_enough_levels_pass if {
	inp := account([testing.escalation_policy("PEP0002", [team, ann]), testing.escalation_policy("PEP0004", [ann, bob])])
	testing.assert_empty(policy.deny) with input as inp with data.pdguard.config as cfg
}

test_min_is_configurable if {
	inp := account([testing.escalation_policy("PEP0002", [team, ann])])
	d := policy.deny with input as inp with data.pdguard.config as {"min_escalation_levels": 3}
	testing.assert_finding(d, "PEP0002", {"msg": "escalation policy \"PEP0002\" has 2 escalation levels, fewer than 3"})
}

# One root cause, one finding: no level or an empty level is PDG-EP-002's, a single person on
# every level PDG-EP-004's.
test_left_to_the_owners_of_the_root_cause if {
	inp := account([
		{"id": "PEP0005", "type": "escalation_policy", "name": "no rules"},
		testing.escalation_policy("PEP0006", []),
		testing.escalation_policy("PEP0007", [team, []]),
		testing.escalation_policy("PEP0008", [ann]),
		testing.escalation_policy("PEP0009", [ann, ann]),
	])
	testing.assert_empty(policy.deny) with input as inp with data.pdguard.config as cfg
}
