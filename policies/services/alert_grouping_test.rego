package pdguard.services.alert_grouping_test

import data.pdguard.lib.testing
import data.pdguard.services.alert_grouping as policy

cfg := {"noisy_service_incidents": 10, "noisy_service_window_days": 7}

grouping(params) := {"alert_grouping_parameters": params}

noisy_ids := ["PSVC001", "PSVC002", "PSVC003", "PSVC004", "PSVC005"]

account(services) := testing.snapshot({"services": services, "incidents": [inc |
	some id in noisy_ids
	some inc in testing.incidents(id, 12, 12)
]})

test_noisy_service_without_grouping_denied if {
	inp := account([
		testing.service("PSVC001", grouping({"type": null, "config": null})),
		testing.service("PSVC002", grouping({"type": "intelligent", "config": null})),
		testing.service("PSVC003", grouping({"type": "time", "config": {"timeout": 300}})),
		# configured through the Alert Grouping Settings API: the service shows a reference
		testing.service("PSVC004", grouping({"id": "PAGS001", "type": "alert_grouping_setting_reference"})),
		testing.service("PSVC009", grouping({"type": null, "config": null})), # quiet
	])
	d := policy.deny with input as inp with data.pdguard.config as cfg
	testing.assert_ids(d, {"PSVC001"})
	testing.assert_finding(d, "PSVC001", {"msg": "service \"PSVC001\" opened 12 incidents in the last 7 days and opens one incident per alert: it groups no alerts"})
}

test_unknown_grouping_is_not_judged if {
	inp := account([testing.service("PSVC005", {})])
	testing.assert_empty(policy.deny) with input as inp with data.pdguard.config as cfg
}
