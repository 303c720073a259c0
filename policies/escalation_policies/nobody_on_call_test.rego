package pdguard.escalation_policies.nobody_on_call_test

import data.pdguard.escalation_policies.nobody_on_call as policy
import data.pdguard.lib.testing

sched := [testing.schedule_ref("PSCH001")]

eps := [
	testing.escalation_policy("PEP0001", [sched, [testing.user_ref("PUSR002")]]),
	testing.escalation_policy("PEP0002", [sched, [testing.user_ref("PUSR002")]]),
	testing.escalation_policy("PEP0003", [[testing.user_ref("PUSR003")]]),
]

uses(id, ep_id) := testing.service(id, {"name": lower(id), "escalation_policy": testing.escalation_policy_ref(ep_id)})

services := [uses("PSVC001", "PEP0001"), uses("PSVC002", "PEP0001"), uses("PSVC003", "PEP0002"), uses("PSVC004", "PEP0003")]

# PEP0001: only level 2 has someone; PEP0002: Ann on the schedule; PEP0003: a user target
# (start and end null: always on call)
oncalls := [
	testing.oncall("PEP0001", 2, "PUSR002", null),
	testing.oncall("PEP0002", 1, "PUSR001", "PSCH001"),
	testing.oncall("PEP0003", 1, "PUSR003", null),
]

test_nobody_on_call_at_level_one_denied if {
	inp := testing.snapshot({"escalation_policies": eps, "services": services, "oncalls": oncalls})
	d := policy.deny with input as inp
	testing.assert_ids(d, {"PEP0001"})
	testing.assert_finding(d, "PEP0001", {
		"msg": "nobody is on call at the first level of escalation policy \"PEP0001\" right now (GET /oncalls at the scan): incidents of psvc001, psvc002 page nobody until they escalate",
		"details": {"level": 1},
	})
}

# A shift that ended at the scan or starts after it is not "now".
test_shifts_outside_the_scan_do_not_count if {
	later := object.union(testing.oncall("PEP0002", 1, "PUSR001", "PSCH001"), {"start": "2026-11-26T10:00:00Z", "end": "2026-11-27T10:00:00Z"})
	inp := testing.snapshot({"escalation_policies": eps, "services": services, "oncalls": [later, oncalls[2]]})
	testing.assert_ids(policy.deny, {"PEP0001", "PEP0002"}) with input as inp
}

# Not judged: on-calls not collected (unknown), a policy no active service uses, a first level
# without target (PDG-EP-002's finding).
test_unknown_unused_or_empty_levels_pass if {
	not_collected := testing.snapshot_without({"escalation_policies": eps, "services": services}, ["oncalls"])
	testing.assert_empty(policy.deny) with input as not_collected
	parked := [object.union(services[0], {"status": "disabled"}), object.union(services[1], {"status": "maintenance"})]
	unused := testing.snapshot({"escalation_policies": [eps[0]], "services": parked, "oncalls": []})
	testing.assert_empty(policy.deny) with input as unused
	empty_first := testing.escalation_policy("PEP0001", [[], [testing.user_ref("PUSR002")]])
	empty := testing.snapshot({"escalation_policies": [empty_first], "services": [services[0]], "oncalls": []})
	testing.assert_empty(policy.deny) with input as empty
}
