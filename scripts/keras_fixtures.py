#!/usr/bin/env python3
"""Makes the Keras 3 `.keras` fixtures of tests/fixtures/keras/ with the real `keras` package.

Each fixture is a small model saved by Keras 3 itself (`model.save("x.keras")`: a zip of
config.json, metadata.json and model.weights.h5) plus `<name>.json` holding fixed inputs and the
predictions Keras computes for them, which the JS tests compare against. Keras runs on its numpy
backend's CPU build (KERAS_BACKEND=jax; jax and jaxlib from PyPI). Weights are Keras's own random initialisation with a fixed seed.

Rerun (idempotent; the fixtures are rewritten):

    python3 scripts/keras_fixtures.py

On first run it creates `.venv-keras/` at the repo root (git-ignored) and pip-installs the pinned
keras, h5py, jax and jaxlib into it (skipped when already there), then re-runs itself with that interpreter.
"""
import json
import os
from pathlib import Path

from fixture_venv import in_venv, reexec_in_venv

KERAS_VERSION = "3.15.1"
H5PY_VERSION = "3.16.0"
JAX_VERSION = "0.10.2"  # Keras runs on jax (CPU); the newest jax for CPython 3.11
REPO = Path(__file__).resolve().parent.parent
VENV = REPO / ".venv-keras"
OUT = REPO / "tests" / "fixtures" / "keras"


def main():
    os.environ["KERAS_BACKEND"] = "jax"
    import numpy as np
    import keras
    from keras import layers

    keras.utils.set_random_seed(7)
    rng = np.random.default_rng(11)
    OUT.mkdir(parents=True, exist_ok=True)

    def save(name, model, inputs):
        model.save(OUT / f"{name}.keras")
        preds = model.predict(inputs if len(inputs) > 1 else inputs[0], verbose=0)
        with open(OUT / f"{name}.json", "w") as f:
            json.dump({
                "keras": keras.__version__,
                "inputs": [{"shape": list(x.shape), "values": x.astype("float32").ravel().tolist()} for x in inputs],
                "output": {"shape": list(preds.shape), "values": preds.astype("float32").ravel().tolist()},
            }, f)
        print(f"{name}: {(OUT / f'{name}.keras').stat().st_size} bytes, output {preds.shape}")

    # A small CNN: conv, batch norm, pooling, dropout, dense.
    cnn = keras.Sequential([
        keras.Input(shape=(8, 8, 2)),
        layers.Conv2D(4, 3, padding="same", activation="relu"),
        layers.BatchNormalization(),
        layers.MaxPooling2D(2),
        layers.Conv2D(3, 3, padding="valid", activation="tanh"),
        layers.Flatten(),
        layers.Dropout(0.3),
        layers.Dense(5, activation="softmax"),
    ], name="small_cnn")
    # Non-trivial batch-norm statistics, so that loading them is tested.
    bn = cnn.layers[1]
    bn.moving_mean.assign(rng.normal(size=4).astype("float32"))
    bn.moving_variance.assign(rng.uniform(0.5, 2.0, size=4).astype("float32"))
    bn.gamma.assign(rng.uniform(0.5, 1.5, size=4).astype("float32"))
    bn.beta.assign(rng.normal(size=4).astype("float32") * 0.1)
    save("small_cnn", cnn, [rng.normal(size=(3, 8, 8, 2)).astype("float32")])

    # A functional model: two inputs, dense branches merged by add and concatenate.
    a = keras.Input(shape=(6,), name="a")
    b = keras.Input(shape=(4,), name="b")
    ha = layers.Dense(8, activation="relu", name="ha")(a)
    hb = layers.Dense(8, activation="sigmoid", name="hb")(b)
    s = layers.Add(name="sum")([ha, hb])
    c = layers.Concatenate(name="cat")([s, hb])
    out = layers.Dense(3, name="out")(c)
    fn = keras.Model(inputs=[a, b], outputs=out, name="two_inputs")
    save("two_inputs", fn, [rng.normal(size=(5, 6)).astype("float32"), rng.normal(size=(5, 4)).astype("float32")])

    # A transformer encoder block over token ids: embedding, causal self-attention (grouped as
    # Keras lays MultiHeadAttention's weights out), residual adds, layer norms over the last axis,
    # a per-position gelu MLP (Dense on 3-D input), mean over positions, a softmax head.
    seq, vocab, dim = 6, 11, 8
    ids = keras.Input(shape=(seq,), dtype="int32", name="ids")
    x = layers.Embedding(vocab, dim, name="tok")(ids)
    att = layers.MultiHeadAttention(num_heads=2, key_dim=4, name="mha")(x, x, use_causal_mask=True)
    x = layers.LayerNormalization(epsilon=1e-5, name="ln1")(layers.Add(name="res1")([x, att]))
    h = layers.Dense(16, activation="gelu", name="mlp_in")(x)
    h = layers.Dense(dim, name="mlp_out")(h)
    x = layers.LayerNormalization(epsilon=1e-5, name="ln2")(layers.Add(name="res2")([x, h]))
    x = layers.GlobalAveragePooling1D(name="pool")(x)
    out = layers.Dense(3, activation="softmax", name="head")(x)
    block = keras.Model(inputs=ids, outputs=out, name="transformer_block")
    save("transformer_block", block, [rng.integers(0, vocab, size=(4, seq)).astype("int32")])


if __name__ == "__main__":
    if not in_venv(VENV):
        reexec_in_venv(VENV, "import keras, h5py, jax; print(keras.__version__, h5py.__version__, jax.__version__)",
                       f"{KERAS_VERSION} {H5PY_VERSION} {JAX_VERSION}",
                       [[f"keras=={KERAS_VERSION}", f"h5py=={H5PY_VERSION}", f"jax=={JAX_VERSION}", f"jaxlib=={JAX_VERSION}"]], __file__)
    main()
