"""pdguard: policy-as-code guardrails for PagerDuty."""

__version__ = "0.2.0"
INFORMATION_URI = "https://github.com/pdguard/pdguard"
