# The sidecar's authorization policy (`opa run --authentication=token --authorization=basic`).
#
# OPA consults data.system.authz.allow for every API request. This one makes the sidecar
# read-only: it allows the health check and pdguard's one query, and nothing else — no policy or
# data writes, no other query, no config or status reads. When the sidecar's environment sets
# PDGUARD_OPA_TOKEN, the query must carry it as a bearer token (pdguard --opa-token).
package system.authz

default allow := false

# Docker's health check and load balancers.
allow if {
	input.method == "GET"
	input.path == ["health"]
}

# POST /v1/data/pdguard_entry/result (pdguard check/watch --engine opa --opa-preloaded).
allow if {
	input.method == "POST"
	input.path == ["v1", "data", "pdguard_entry", "result"]
	token_ok
}

expected_token := object.get(opa.runtime().env, "PDGUARD_OPA_TOKEN", "")

token_ok if expected_token == ""

token_ok if {
	expected_token != ""
	input.identity == expected_token
}
