# METADATA
# title: Business service has a point of contact and an owning team
# description: >-
#   A business service is what stakeholders follow during an incident. Without a point of
#   contact they do not know whom to ask about its impact, and without an owning team nobody
#   keeps its supporting services and status up to date.
# custom:
#   id: PDG-BS-003
#   severity: low
#   remediation: >-
#     Set both: Service Directory > Business Services > the business service > Edit (Point of
#     contact, Team); REST API PUT /business_services/{id} with point_of_contact and team;
#     Terraform point_of_contact and team on the pagerduty_business_service.
package pdguard.business_services.ownership

import data.pdguard.lib

deny contains lib.finding_with(msg, "business_service", bs, {"missing": missing}) if {
	some bs in input.business_services
	missing := [field | some field in ["point_of_contact", "team"]; lacks(bs, field)]
	count(missing) > 0
	msg := sprintf("business service %q has no %s", [lib.name(bs), concat(" and no ", [label[f] | some f in missing])])
}

label := {"point_of_contact": "point of contact", "team": "owning team"}

lacks(bs, "point_of_contact") if lib.blank(bs, "point_of_contact")

lacks(bs, "team") if not lib.has_text(object.get(bs, ["team", "id"], null))
