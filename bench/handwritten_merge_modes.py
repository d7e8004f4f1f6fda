"""The reference experiment written by hand, as a Keras user would: the baseline for
``forecast compare``'s speed (see ``compare_vs_script.py``).

One bidirectional LSTM per merge mode, one ``fit`` each with the same settings, then the
next 20 steps of each, one ``model.predict`` call per step. Prints one JSON line with the
validation RMSE of each mode.
"""

import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from tensorflow import keras  # noqa: E402

started = time.perf_counter()
path, epochs, batch_size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
series = pd.read_csv(path)["value"].to_numpy(dtype="float32")
n_steps, n_val = 20, 200

# Standardise with the training part's statistics, then cut windows of 20 steps.
train_end = len(series) - n_val
mean, std = series[:train_end].mean(), series[:train_end].std()
scaled = (series - mean) / std
X = np.stack([scaled[i : i + n_steps] for i in range(len(scaled) - n_steps)])[..., None]
y = scaled[n_steps:]
first_val = train_end - n_steps  # the first window whose target is a validation row
X_train, y_train, X_val, y_val = X[:first_val], y[:first_val], X[first_val:], y[first_val:]

keras.utils.set_random_seed(42)
rmse, forecasts = {}, {}
for mode in ["concat", "sum", "mul", "ave"]:
    model = keras.Sequential(
        [
            keras.Input((n_steps, 1)),
            keras.layers.Bidirectional(keras.layers.LSTM(50), merge_mode=mode),
            keras.layers.Dense(1),
        ]
    )
    model.compile(optimizer="adam", loss="mse")
    model.fit(
        X_train,
        y_train,
        epochs=epochs,
        batch_size=batch_size,
        validation_data=(X_val, y_val),
        verbose=0,
    )
    predicted = model.predict(X_val, verbose=0)[:, 0] * std + mean
    rmse[mode] = float(np.sqrt(np.mean((predicted - series[train_end:]) ** 2)))
    window, steps = scaled[-n_steps:].copy(), []
    for _ in range(20):
        step = model.predict(window.reshape(1, n_steps, 1), verbose=0)[0, 0]
        steps.append(float(step * std + mean))
        window = np.append(window[1:], step)
    forecasts[mode] = steps

print(json.dumps({"rmse": rmse, "seconds": time.perf_counter() - started}))
