"""A PagerDuty-faithful local REST API server, an account generator and the bundled demo account.

    from pdguard.simulator import serve, sample_account, generate_account, FaultConfig

    with serve(sample_account(), faults=FaultConfig(latency_ms=50)) as server:
        ...  # point the scanner at server.url
"""

from pdguard.simulator.account import Account, generate_account
from pdguard.simulator.sample import sample_account
from pdguard.simulator.server import FaultConfig, ServerStats, SimulatorServer, serve

__all__ = [
    "Account",
    "FaultConfig",
    "ServerStats",
    "SimulatorServer",
    "generate_account",
    "sample_account",
    "serve",
]
