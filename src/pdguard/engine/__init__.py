"""Policy engines: embedded regorus (default) and an OPA server, behind one contract."""
