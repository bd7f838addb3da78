"""fit on a ShardedDataset under `mpiexec -n 2`: each process streams its own shards (needs fit to accept
batch sources). Usage: python sharded_fit.py FOLDER OUT"""

import sys

import numpy as np

import barenet as bn

strategy = bn.distributed.initialize(verbose=False)
folder, out = sys.argv[1], sys.argv[2]
data = bn.datasets.ShardedDataset(folder, batch_size=16, seed=0)
model = bn.Sequential([bn.Dense(8, "tanh", input_dim=4), bn.Dense(1)], seed=0)
model.compile(bn.optimizers.SGD(0.05), "mse")
history = model.fit(data, epochs=3, verbose=0)
np.save(f"{out}.{strategy.rank}.npy", np.concatenate([w.ravel() for w in model.get_weights()]
                                                     + [np.array(history.history["loss"])]))
print(f"rank {strategy.rank}: {len(data)} steps per epoch, losses {history.history['loss']}")
