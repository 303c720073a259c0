# Decision-log mask (OPA's decision_logs.mask_decision, default data.system.log.mask).
#
# pdguard's input is the whole account snapshot (up to hundreds of MB): the decision log keeps
# only its `meta` (account, scanned_at, counts) next to the result (the findings), the bundle
# revision and the decision_id that pdguard writes into its report.
package system.log

mask contains {"op": "upsert", "path": "/input", "value": {"meta": object.get(input.input, "meta", null)}} if {
	input.path == "pdguard_entry/result"
}
