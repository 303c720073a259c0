package pdguard.schedules.single_user_test

import data.pdguard.schedules.single_user as policy

layer(ids) := {"id": "L", "users": [{"user": {"id": id, "type": "user_reference"}} | some id in ids]}

cfg := {"min_schedule_users": 2}

test_single_user_denied if {
	inp := {"schedules": [
		{"id": "PSCH001", "name": "solo", "schedule_layers": [layer(["PUSER01"]), layer(["PUSER01"])]},
		{"id": "PSCH002", "name": "pair", "schedule_layers": [layer(["PUSER01"]), layer(["PUSER02"])]},
	]}
	d := policy.deny with input as inp with data.pdguard.config as cfg
	count(d) == 1
	some f in d
	f.resource == {"type": "schedule", "id": "PSCH001", "name": "solo"}
	f.details == {"users": ["PUSER01"], "min_users": 2}
}

test_enough_users_pass if {
	inp := {"schedules": [{"id": "PSCH002", "name": "pair", "schedule_layers": [layer(["PUSER01", "PUSER02"])]}]}
	d := policy.deny with input as inp with data.pdguard.config as cfg
	count(d) == 0
}

test_no_layers_denied if {
	inp := {"schedules": [{"id": "PSCH003", "name": "empty"}, {"id": "PSCH004", "name": "nolayers", "schedule_layers": [{"id": "L"}]}]}
	d := policy.deny with input as inp with data.pdguard.config as cfg
	count(d) == 2
	every f in d { f.details.users == [] }
}

test_min_is_configurable if {
	inp := {"schedules": [{"id": "PSCH002", "name": "pair", "schedule_layers": [layer(["PUSER01", "PUSER02"])]}]}
	count(policy.deny) == 1 with input as inp with data.pdguard.config as {"min_schedule_users": 3}
}
