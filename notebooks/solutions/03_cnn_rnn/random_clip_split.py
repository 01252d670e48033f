"""Notebook 03, exercise 2: a random split of the clips, blind to their groups.

To retrain the LSTM on it, in the notebook:

    leaky_fit, leaky_val = random_clip_split(len(F_train), VALIDATION_FRACTION, SEED)
    leaky = build_head(keras.layers.LSTM, SubtractClipMean)
    train.fit(leaky, (F_train[leaky_fit], y_train[leaky_fit]),
              (F_train[leaky_val], y_train[leaky_val]), epochs=EPOCHS, batch_size=BATCH_SIZE,
              learning_rate=LEARNING_RATE, log_every=0,
              stopping=keras.callbacks.EarlyStopping(patience=PATIENCE, min_delta=MIN_DELTA))
    for name, x, y in [("random validation clips", F_train[leaky_val], y_train[leaky_val]),
                       ("unseen test groups", F_test, y_test)]:
        print(name, train.evaluate(leaky, x, y, CLASS_NAMES).accuracy)

Report the test number. A random split puts clips of the same group (the same background, the
same colours) on both sides, so its validation accuracy rewards what the model remembers of the
training scenes as well as what it has learnt about motion. With the clip mean subtracted there
is little scene left to remember and the two numbers may agree; that is a property of this
dataset and model, not of the split. Try `build_head(keras.layers.LSTM)`, without the clip
mean: the two numbers then need not even differ in the direction you expect. Choose models on a
split by group, the one that measures what the test measures.
"""

import numpy as np


def random_clip_split(num_clips, fraction, seed):
    order = np.random.default_rng(seed).permutation(num_clips)
    count = round(fraction * num_clips)
    return order[count:], order[:count]
