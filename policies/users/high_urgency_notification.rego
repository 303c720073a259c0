# METADATA
# title: User is notified of high-urgency incidents
# description: >-
#   Notification rules decide how and when PagerDuty contacts a user. A user with no
#   notification rule for high urgency is not notified when a high-urgency incident is
#   assigned to them - the exact case that needs an immediate response.
# custom:
#   id: PDG-USR-001
#   severity: medium
#   remediation: >-
#     Add high-urgency notification rules (for example push and phone immediately, SMS after
#     a few minutes): in the PagerDuty web UI My Profile > Notification Rules > High-Urgency;
#     via the REST API POST /users/{id}/notification_rules with "urgency": "high"; with
#     Terraform a pagerduty_user_notification_rule with urgency = "high".
package pdguard.users.high_urgency_notification

import data.pdguard.lib

deny contains lib.finding(msg, "user", user) if {
	some user in input.users
	not has_high_urgency_rule(user)
	msg := sprintf("user %q has no high-urgency notification rule", [lib.name(user)])
}

has_high_urgency_rule(user) if {
	some rule in user.notification_rules
	rule.urgency == "high"
}
