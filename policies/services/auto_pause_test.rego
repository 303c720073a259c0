package pdguard.services.auto_pause_test

import data.pdguard.lib.testing
import data.pdguard.services.auto_pause as policy

cfg := {"noisy_service_incidents": 10, "noisy_service_window_days": 7}

pause(enabled) := {"auto_pause_notifications_parameters": {"enabled": enabled, "timeout": 300}}

# PSVC001-003 opened 12 incidents this week, PSVC004 3
account(services) := testing.snapshot({"services": services, "incidents": array.concat(
	array.concat(testing.incidents("PSVC001", 12, 12), testing.incidents("PSVC002", 12, 12)),
	array.concat(testing.incidents("PSVC003", 12, 12), testing.incidents("PSVC004", 3, 12)),
)})

test_noisy_service_without_auto_pause_denied if {
	inp := account([
		testing.service("PSVC001", pause(false)),
		testing.service("PSVC002", pause(true)),
		testing.service("PSVC004", pause(false)),
	])
	d := policy.deny with input as inp with data.pdguard.config as cfg
	testing.assert_ids(d, {"PSVC001"})
	testing.assert_finding(d, "PSVC001", {
		"msg": "service \"PSVC001\" opened 12 incidents in the last 7 days but does not auto-pause the notifications of transient alerts",
		"resource": {"type": "service", "id": "PSVC001", "name": "PSVC001"},
	})
}

# a setting the scan did not read is unknown; a parked service pages nobody; without incidents
# noise is unknown
test_unknown_or_parked_pass if {
	inp := account([testing.service("PSVC001", {}), testing.service("PSVC003", object.union(pause(false), {"status": "disabled"}))])
	testing.assert_empty(policy.deny) with input as inp with data.pdguard.config as cfg
	no_incidents := testing.snapshot_without({"services": [testing.service("PSVC001", pause(false))]}, ["incidents"])
	testing.assert_empty(policy.deny) with input as no_incidents with data.pdguard.config as cfg
}

test_thresholds_are_settings if {
	inp := account([testing.service("PSVC004", pause(false))])
	testing.assert_ids(policy.deny, {"PSVC004"}) with input as inp
		with data.pdguard.config as {"noisy_service_incidents": 3, "noisy_service_window_days": 7}
}
