"""Full-profile training under tf.distribute.MirroredStrategy, on two logical CPU devices.

The model is notebook 03's recurrent classifier on the full profile's features (MobileNetV2's
1,280 per frame, clip mean subtracted, LSTM), taken from the notebook's own cell
(``vidlab.tools.course.definitions``) and built and trained the way the notebook does it:
inside ``strategy.scope()``, through ``vidlab.train.fit``, with the global batch of
``config.global_batch_size``.  Dropout is 0 here: each replica draws its own dropout
masks, so with dropout the two runs could not be compared step by step.

TensorFlow fixes its devices when it starts, so the run happens in a fresh Python.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent('''
    import json
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

    import keras
    import numpy as np

    from vidlab import config, train
    from vidlab.tools import course

    ran_on = set()

    class WhereItRuns(keras.layers.Layer):
        """Notes the device of every replica that runs the model."""

        def call(self, x):
            context = tf.distribute.get_replica_context()  # None while the model is built
            if context is not None:
                replica = context.replica_id_in_sync_group
                ran_on.add(getattr(replica, "device", "") or "")
            return x

    rng = np.random.default_rng(0)
    x = rng.normal(size=(96, 16, 1280)).astype("float32")
    y = rng.integers(0, 10, 96)
    cells = course.definitions(
        course.NOTEBOOKS / "03_cnn_rnn.ipynb", "SubtractClipMean", "build_head",
        keras=keras, np=np, config=config, train=train, SEED=0, FEATURE_DIM=1280,
        NUM_CLASSES=10, NUM_FRAMES=16, UNITS=32, PROJECTION=64, DROPOUT=0.0,
        feature_mean=x.mean((0, 1)), feature_variance=x.var((0, 1)))

    def run(strategy):
        ran_on.clear()
        with strategy.scope():
            classifier = cells["build_head"](keras.layers.LSTM, cells["SubtractClipMean"])
            model = keras.Sequential([keras.Input((16, 1280)), WhereItRuns(), classifier])
            # The same global batch of 16 on both: 16 on one device, 8 on each of two replicas.
            batch = config.global_batch_size(16 // strategy.num_replicas_in_sync, strategy)
            fit = tf.data.Dataset.from_tensor_slices((x[:64], y[:64])).batch(batch)
            val = tf.data.Dataset.from_tensor_slices((x[64:], y[64:])).batch(batch)
            history = train.fit(model, fit, val, epochs=3, learning_rate=3e-3, log_every=0)
        return {"replicas": strategy.num_replicas_in_sync, "loss": history.history["loss"],
                "val_loss": history.history["val_loss"], "ran_on": sorted(ran_on)}

    single = run(tf.distribute.get_strategy())
    mirrored = run(tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]))
    print("RESULT", json.dumps({"single": single, "mirrored": mirrored}))
''')


def test_mirrored_training_runs_on_both_replicas_and_matches_one_device():
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    line = next(line for line in done.stdout.splitlines() if line.startswith("RESULT "))
    result = json.loads(line.removeprefix("RESULT "))
    single, mirrored = result["single"], result["mirrored"]
    assert (single["replicas"], mirrored["replicas"]) == (1, 2)
    # Each replica ran the model on its own device (the global batch of 16 split in two).
    assert {device[-5:] for device in mirrored["ran_on"]} == {"CPU:0", "CPU:1"}
    # Same data, same initial weights, gradients summed over replicas: the same training, up
    # to the order of float32 additions (we measured differences below 1e-6).
    for key in ("loss", "val_loss"):
        for one, two in zip(single[key], mirrored[key], strict=True):
            assert abs(one - two) <= 1e-4 * max(1.0, abs(one)), (key, single[key], mirrored[key])
