package pdguard.escalation_policies.no_loops_high_urgency_test

import data.pdguard.escalation_policies.no_loops_high_urgency as policy

eps := [
	{"id": "PEP0001", "name": "no-loops", "num_loops": 0},
	{"id": "PEP0002", "name": "loops", "num_loops": 2},
	{"id": "PEP0003", "name": "no-loops-low", "num_loops": 0},
	{"id": "PEP0004", "name": "no-loops-unused", "num_loops": 0},
]

svc(id, ep_id, rule) := {"id": id, "name": id, "escalation_policy": {"id": ep_id, "type": "escalation_policy"}, "incident_urgency_rule": rule}

high := {"type": "constant", "urgency": "high"}

low := {"type": "constant", "urgency": "low"}

test_high_urgency_without_loops_denied if {
	inp := {"escalation_policies": eps, "services": [
		svc("PSVC001", "PEP0001", high),
		svc("PSVC002", "PEP0001", high),
		svc("PSVC003", "PEP0002", high),
		svc("PSVC004", "PEP0003", low),
	]}
	d := policy.deny with input as inp with data.pdguard.config as {}
	count(d) == 1
	some f in d
	f.resource == {"type": "escalation_policy", "id": "PEP0001", "name": "no-loops"}
	contains(f.msg, "2 high-urgency")
}

test_support_hours_high_either_part if {
	during := {"type": "use_support_hours", "during_support_hours": {"type": "constant", "urgency": "high"}, "outside_support_hours": {"type": "constant", "urgency": "low"}}
	outside := {"type": "use_support_hours", "during_support_hours": {"type": "constant", "urgency": "low"}, "outside_support_hours": {"type": "constant", "urgency": "high"}}
	inp := {"escalation_policies": eps, "services": [svc("PSVC001", "PEP0001", during), svc("PSVC002", "PEP0003", outside)]}
	d := policy.deny with input as inp with data.pdguard.config as {}
	{f.resource.id | some f in d} == {"PEP0001", "PEP0003"}
}

test_low_urgency_loops_or_no_ep_pass if {
	both_low := {"type": "use_support_hours", "during_support_hours": {"urgency": "low"}, "outside_support_hours": {"urgency": "low"}}
	inp := {"escalation_policies": eps, "services": [
		svc("PSVC003", "PEP0002", high),
		svc("PSVC004", "PEP0003", low),
		svc("PSVC005", "PEP0003", both_low),
		{"id": "PSVC006", "escalation_policy": null, "incident_urgency_rule": high},
		{"id": "PSVC007", "escalation_policy": {"id": "PEP0004"}},
	]}
	d := policy.deny with input as inp with data.pdguard.config as {}
	count(d) == 0
}

test_missing_num_loops_means_zero if {
	inp := {"escalation_policies": [{"id": "PEP0009", "name": "x"}], "services": [svc("PSVC001", "PEP0009", high)]}
	count(policy.deny) == 1 with input as inp with data.pdguard.config as {}
}
