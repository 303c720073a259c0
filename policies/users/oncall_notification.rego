# METADATA
# title: On-call users are paged by phone, SMS or push for high-urgency incidents
# description: >-
#   A user an escalation policy pages - targeted directly, in a current layer of a targeted
#   schedule, or on call now according to GET /oncalls - must be woken up by a high-urgency
#   incident. When none of their high-urgency notification rules reaches a phone (call, SMS,
#   push or WhatsApp) the page lands in an inbox while the level looks staffed. Users who have
#   not accepted their invitation are reported by PDG-USR-003, directly targeted users without
#   any contact method by PDG-EP-003.
# custom:
#   id: PDG-USR-002
#   severity: high
#   remediation: >-
#     Ask the user to add a high-urgency notification rule on a phone (push and phone
#     immediately, SMS after a few minutes): web UI My Profile > Notification Rules >
#     High-Urgency; REST API POST /users/{id}/notification_rules with "urgency": "high" and a
#     phone, SMS or push contact method; Terraform pagerduty_user_notification_rule with
#     urgency = "high". Until then, take them out of the rotation.
package pdguard.users.oncall_notification

import data.pdguard.lib

deny contains lib.finding(message(user), "user", user) if {
	some user in input.users
	user.id in lib.responders
	lib.can_be_paged(user)
	not lib.is_paged_urgently(user)
	not lib.invitation_pending(user)
	not lib.unreachable_target(user)
}

message(user) := sprintf("user %q is %s but %s", [lib.name(user), on_call(user), gap(user)])

on_call(user) := "on call right now" if {
	user.id in lib.oncall_now_users
} else := "in an on-call rotation"

gap(user) := "is notified of high-urgency incidents only by email" if {
	some rule in user.notification_rules
	rule.urgency == "high"
} else := "has no high-urgency notification rule"
