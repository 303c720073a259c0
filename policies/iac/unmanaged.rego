# METADATA
# title: Service is managed as code
# description: >-
#   Services created by hand in the web UI are invisible to code review, cannot be
#   reproduced after an accidental deletion and drift from the team's conventions. This
#   opt-in policy flags live services that no Terraform state manages.
# custom:
#   id: PDG-IAC-001
#   severity: medium
#   enabled: false
#   remediation: >-
#     Bring the service under Terraform - write a pagerduty_service resource for it and
#     import it (terraform import pagerduty_service.<name> <SERVICE_ID>, or an import
#     block with id = "<SERVICE_ID>"); pdguard's inventory codify feature can generate the HCL.
#     Opt in via pdguard.yaml: policies: {PDG-IAC-001: {enabled: true}}.
package pdguard.iac.unmanaged

import data.pdguard.lib

deny contains lib.finding(msg, "service", {"id": id, "name": name}) if {
	some id, res in input.iac.resources.service
	res.status == "unmanaged"
	name := lib.asset_name("service", id)
	msg := sprintf("service %q is not managed by Terraform", [name])
}
