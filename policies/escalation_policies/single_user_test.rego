package pdguard.escalation_policies.single_user_test

import data.pdguard.escalation_policies.single_user as policy

schedules := [
	{"id": "PSOLO01", "name": "solo", "schedule_layers": [
		{"id": "L1", "users": [{"user": {"id": "PUSER01", "type": "user_reference"}}]},
		{"id": "L2", "users": [{"user": {"id": "PUSER01", "type": "user_reference"}}]},
	]},
	{"id": "PTEAM01", "name": "team", "schedule_layers": [{"id": "L1", "users": [
		{"user": {"id": "PUSER01", "type": "user_reference"}},
		{"user": {"id": "PUSER02", "type": "user_reference"}},
	]}]},
	{"id": "PEMPTY1", "name": "empty", "schedule_layers": []},
]

ep(id, levels) := {"id": id, "name": id, "escalation_rules": [{"id": sprintf("R%d", [i]), "targets": ts} | some i, ts in levels]}

test_same_user_everywhere_denied if {
	inp := {"schedules": schedules, "escalation_policies": [
		ep("PEP0001", [[{"id": "PUSER01", "type": "user_reference"}], [{"id": "PSOLO01", "type": "schedule_reference"}]]),
		ep("PEP0002", [[{"id": "PTEAM01", "type": "schedule_reference"}], [{"id": "PUSER01", "type": "user_reference"}]]),
	]}
	d := policy.deny with input as inp with data.pdguard.config as {}
	count(d) == 1
	some f in d
	f.resource == {"type": "escalation_policy", "id": "PEP0001", "name": "PEP0001"}
	f.details == {"user_id": "PUSER01"}
}

test_message_names_the_user if {
	inp := {"users": [{"id": "PUSER09", "name": "Ann"}], "escalation_policies": [ep("PEP0003", [[{"id": "PUSER09", "type": "user"}]])]}
	d := policy.deny with input as inp with data.pdguard.config as {}
	some f in d
	f.msg == "every level of escalation policy \"PEP0003\" pages the same single user \"Ann\" (PUSER09): a single point of failure"
}

test_single_user_single_level_denied if {
	inp := {"schedules": schedules, "escalation_policies": [ep("PEP0003", [[{"id": "PUSER09", "type": "user"}]])]}
	d := policy.deny with input as inp with data.pdguard.config as {}
	count(d) == 1
}

test_several_people_pass if {
	inp := {"schedules": schedules, "escalation_policies": [
		ep("PEP0002", [[{"id": "PTEAM01", "type": "schedule_reference"}], [{"id": "PUSER01", "type": "user_reference"}]]),
		ep("PEP0004", [[{"id": "PUSER01", "type": "user_reference"}], [{"id": "PUSER02", "type": "user_reference"}]]),
		ep("PEP0005", [[{"id": "PUSER01", "type": "user_reference"}, {"id": "PUSER02", "type": "user_reference"}]]),
	]}
	d := policy.deny with input as inp with data.pdguard.config as {}
	count(d) == 0
}

test_unknown_or_empty_schedules_and_no_targets_skipped if {
	inp := {"schedules": schedules, "escalation_policies": [
		ep("PEP0006", [[{"id": "PUSER01", "type": "user_reference"}], [{"id": "PGONE01", "type": "schedule_reference"}]]),
		ep("PEP0007", [[{"id": "PUSER01", "type": "user_reference"}], [{"id": "PEMPTY1", "type": "schedule_reference"}]]),
		ep("PEP0008", [[]]),
		{"id": "PEP0009", "name": "bare"},
	]}
	d := policy.deny with input as inp with data.pdguard.config as {}
	count(d) == 0
}
