"""Print this process's kernel thread count and its machine's usable cores (run by tests/test_distributed.py).

Usage: python threads.py   (alone, or under `mpiexec -n 2`)
"""

import barenet as bn
from barenet import fast, parallel

strategy = bn.distributed.initialize(verbose=False)
print(f"rank {strategy.rank} threads {fast.threads()} cores {parallel.machine_threads()}", flush=True)
