# METADATA
# title: PagerDuty object matches its Terraform code
# description: >-
#   Drift means someone changed the object in PagerDuty outside Terraform (or the code was
#   changed and not applied). The next terraform apply silently reverts the manual change,
#   or the code no longer describes what is live - either way on-call configuration is not
#   what reviewers think it is.
# custom:
#   id: PDG-IAC-002
#   severity: medium
#   remediation: >-
#     Reconcile code and account - run terraform plan to see the difference; either port
#     the manual change into the Terraform code (and review it) or run terraform apply to
#     restore the codified configuration. Restrict who can edit managed objects in the web
#     UI to prevent repeat drift.
package pdguard.iac.drifted

import data.pdguard.lib

deny contains lib.finding_with(msg, rtype, {"id": id, "name": name}, {"address": address, "drift": drift}) if {
	some rtype, assets in input.iac.resources
	some id, res in assets
	res.status == "drifted"
	name := lib.asset_name(rtype, id)
	drift := sort(object.get(res, "drift", []))
	address := object.get(res, "address", null)
	msg := sprintf("%s %q (%v) differs from its Terraform code: %s%s", [rtype, name, address, concat(", ", drift), changed(res)])
}

# Who changed it last, when the audit records say (not part of the details: a new change to the
# same drift is the same finding).
changed(res) := sprintf("; last changed by %s", [lib.changed_by_text(object.get(res, "changed_by", null))]) if {
	lib.changed_by_text(object.get(res, "changed_by", null))
} else := ""
