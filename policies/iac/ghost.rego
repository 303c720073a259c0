# METADATA
# title: Terraform state has no ghost objects
# description: >-
#   A ghost is an object recorded in Terraform state that no longer exists in PagerDuty -
#   it was deleted by hand. The next terraform apply recreates it (possibly re-enabling
#   paging for a retired service), or the state is simply stale and misleading.
# custom:
#   id: PDG-IAC-003
#   severity: low
#   remediation: >-
#     If the deletion was intended, remove the resource from the Terraform code and from
#     state (terraform state rm <address>, or a removed block); if it was not, run
#     terraform apply to recreate it and review who deleted it (Audit Records in the web UI).
package pdguard.iac.ghost

import data.pdguard.lib

# A state entry of a type whose collection was not scanned is not known to be a ghost.
deny contains lib.finding_with(msg, ghost.type, {"id": ghost.id, "name": object.get(ghost, "address", ghost.id)}, {"address": address}) if {
	some ghost in input.iac.ghosts
	lib.collected(lib.collection_of[ghost.type])
	address := object.get(ghost, "address", null)
	msg := sprintf("%s %s (%v) is in Terraform state but does not exist in PagerDuty%s", [ghost.type, ghost.id, address, changed(ghost)])
}

# Who deleted it (the latest change the audit records show), when they say.
changed(ghost) := sprintf("; last changed by %s", [lib.changed_by_text(object.get(ghost, "changed_by", null))]) if {
	lib.changed_by_text(object.get(ghost, "changed_by", null))
} else := ""
