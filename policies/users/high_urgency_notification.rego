# METADATA
# title: User is woken up by high-urgency incidents
# description: >-
#   Notification rules decide how and when PagerDuty contacts a user. A user who can be paged
#   but has no high-urgency rule, or whose high-urgency rules only send e-mail, is not woken up
#   when a high-urgency incident is assigned to them - the exact case that needs an immediate
#   response. Observers and read-only users cannot be paged and are not judged. Users on call
#   are judged by PDG-USR-002 (high severity), users an escalation policy targets without any
#   contact method by PDG-EP-003.
# custom:
#   id: PDG-USR-001
#   severity: medium
#   remediation: >-
#     Add high-urgency notification rules that reach a phone (for example push and phone
#     immediately, SMS after a few minutes): in the PagerDuty web UI My Profile > Notification
#     Rules > High-Urgency; via the REST API POST /users/{id}/notification_rules with
#     "urgency": "high" and a phone, SMS or push contact method; with Terraform a
#     pagerduty_user_notification_rule with urgency = "high".
package pdguard.users.high_urgency_notification

import data.pdguard.lib

deny contains lib.finding(message(user), "user", user) if {
	some user in input.users
	lib.can_be_paged(user)
	not lib.is_paged_urgently(user)
	not user.id in lib.responders
	not lib.unreachable_target(user)
}

message(user) := sprintf(
	"user %q is notified of high-urgency incidents only by email: no rule reaches a phone (call, SMS or push)",
	[lib.name(user)],
) if {
	some rule in user.notification_rules
	rule.urgency == "high"
} else := sprintf("user %q has no high-urgency notification rule", [lib.name(user)])
