"""Train on a shard folder under an address-space limit (run by tests/test_shards.py).

Usage: python out_of_core.py FOLDER HEADROOM_BYTES BATCH OUT.npy
The limit (RLIMIT_AS, what `ulimit -v` sets) is this process's size after start-up plus HEADROOM_BYTES,
so the data, several times larger, can only be streamed. Saves the trained weights.
"""

import resource
import sys

import numpy as np

import barenet as bn

folder, headroom, batch_size, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
model = bn.Sequential([bn.Dense(1, input_dim=256)], seed=0)
model.compile(bn.optimizers.SGD(0.01), "mse")
for dtype in (np.float32, np.float64):  # OpenBLAS maps its work buffers on the first product: before the limit
    np.ones((512, 512), dtype) @ np.ones((512, 512), dtype)
with open("/proc/self/status") as f:
    size = int(next(line for line in f if line.startswith("VmSize:")).split()[1]) * 1024
hard = resource.getrlimit(resource.RLIMIT_AS)[1]
resource.setrlimit(resource.RLIMIT_AS, (size + headroom, hard))
data = bn.datasets.ShardedDataset(folder, batch_size=batch_size, shuffle=False, buffer_shards=2)
model.fit(data, epochs=1, shuffle=False, verbose=0)  # fit streams the shards: one batch in memory at a time
resource.setrlimit(resource.RLIMIT_AS, (hard, hard))
np.save(out, np.concatenate([w.ravel() for w in model.get_weights()]))
print(f"limit {size + headroom} bytes, {len(data)} steps")
