"""Inventory history: SQLite/Postgres store of scans, scan diffs, IaC (Terraform) status, codify, watch.

Modules:

* :mod:`pdguard.inventory.store` - :class:`~pdguard.inventory.store.Store` (SQLAlchemy Core, versioned
  migrations, one transaction per scan, an inter-process lock for ``watch``).
* :mod:`pdguard.inventory.diff` - :func:`~pdguard.inventory.diff.diff_scans` between two stored scans.
* :mod:`pdguard.inventory.iac` - :func:`~pdguard.inventory.iac.classify` live objects against Terraform
  state (``input.iac``).
* :mod:`pdguard.inventory.codify` - Terraform ``import`` blocks + resource skeletons for unmanaged objects.
* :mod:`pdguard.inventory.watch` - the periodic scan loop, interval parsing, new-findings notifications.
* :mod:`pdguard.inventory.cli` - click commands (``inventory list|show|scans``, ``diff``, ``codify``).

Submodules are imported lazily by their users: importing this package does not import SQLAlchemy.
"""
