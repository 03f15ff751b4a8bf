#!/usr/bin/env python3
"""Makes the TF.js graph-model fixtures of tests/fixtures/tfjs_graph/ with the real TF.js converter.

Each fixture is a small TensorFlow model (tf.nn ops on tf.Variables in a tf.function, exported as a SavedModel)
converted by `tensorflowjs` 4.22.0 (the converter matching TF.js 4.22) into a graph model:
model.json (a GraphDef as JSON, with its signature) and weight shards. `<name>.json` beside it
holds fixed inputs and the outputs TensorFlow computed for them.

Rerun (idempotent; the fixtures are rewritten):

    python3 scripts/tfjs_graph_fixtures.py

On first run it creates `.venv-tfjs/` at the repo root (git-ignored; about 1.6 GB: TensorFlow) and
installs the pins below, then re-runs itself there. tensorflowjs is installed without its
dependencies: it pins jax, flax and tensorflow-decision-forests, none of which converting a plain
SavedModel uses. Its package imports tensorflow_decision_forests and its JAX converter at the top
without using them for such models, so stand-in modules are registered before the import.
"""
import json
import os
import shutil
import sys
import types
from pathlib import Path

from fixture_venv import in_venv, reexec_in_venv

PINS = ["tensorflow-cpu==2.21.0", "tf-keras==2.21.0", "tensorflow-hub==0.16.1", "importlib_resources==6.5.2",
        "packaging==23.2", "six==1.17.0"]
TFJS = "tensorflowjs==4.22.0"
REPO = Path(__file__).resolve().parent.parent
VENV = REPO / ".venv-tfjs"
OUT = REPO / "tests" / "fixtures" / "tfjs_graph"


def main():
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
    import numpy as np
    import tensorflow as tf
    # Stand-ins for the parts of tensorflowjs that need jax or TF-DF (not installed, not used here).
    sys.modules.setdefault("tensorflow_decision_forests", types.ModuleType("tensorflow_decision_forests"))
    jax_stub = types.ModuleType("tensorflowjs.converters.jax_conversion")
    jax_stub.convert_jax = lambda *a, **k: (_ for _ in ()).throw(NotImplementedError("JAX conversion is not installed"))
    sys.modules.setdefault("tensorflowjs.converters.jax_conversion", jax_stub)
    from tensorflowjs.converters import tf_saved_model_conversion_v2 as converter

    rng = np.random.default_rng(5)
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)

    def export(name, module, inputs):
        saved = OUT / f"_{name}_saved"
        tf.saved_model.save(module, str(saved), signatures=module.__call__.get_concrete_function())
        converter.convert_tf_saved_model(str(saved), str(OUT / name))
        shutil.rmtree(saved)
        outputs = module(*[tf.constant(x) for x in inputs])
        with open(OUT / f"{name}.json", "w") as f:
            json.dump({
                "tensorflow": tf.__version__,
                "inputs": [{"shape": list(x.shape), "values": x.ravel().tolist()} for x in inputs],
                "output": {"shape": list(outputs.shape), "values": outputs.numpy().ravel().tolist()},
            }, f)
        ops = sorted({n["op"] for n in json.load(open(OUT / name / "model.json"))["modelTopology"]["node"]})
        print(f"{name}: ops {ops}")

    def var(*shape, positive=False):
        values = rng.uniform(0.5, 2.0, shape) if positive else rng.normal(0, 0.4, shape)
        return tf.Variable(values.astype("float32"))

    class Cnn(tf.Module):
        """conv+bias+relu, batch norm, depthwise conv+bias+relu6, max and average pooling, a
        strided valid conv, dense+softmax: what image models convert to."""

        def __init__(self):
            self.k1, self.b1 = var(3, 3, 3, 6), var(6)
            self.gamma, self.beta, self.mean, self.variance = var(6), var(6), var(6), var(6, positive=True)
            self.dw, self.b2 = var(3, 3, 6, 1), var(6)
            self.k3, self.b3 = var(2, 2, 6, 5), var(5)
            self.w, self.b4 = var(5, 4), var(4)

        @tf.function(input_signature=[tf.TensorSpec([None, 12, 12, 3], tf.float32, name="image")])
        def __call__(self, x):
            h = tf.nn.relu(tf.nn.bias_add(tf.nn.conv2d(x, self.k1, 1, "SAME"), self.b1))
            h, _, _ = tf.compat.v1.nn.fused_batch_norm(h, self.gamma, self.beta, self.mean, self.variance, epsilon=1e-3, is_training=False)
            h = tf.nn.relu6(tf.nn.bias_add(tf.nn.depthwise_conv2d(h, self.dw, [1, 2, 2, 1], "SAME"), self.b2))
            h = tf.nn.max_pool2d(h, 2, 2, "VALID")
            h = tf.nn.relu(tf.nn.bias_add(tf.nn.conv2d(h, self.k3, 2, "VALID"), self.b3))
            h = tf.nn.avg_pool2d(h, 2, 2, "SAME")
            return tf.nn.softmax(tf.matmul(tf.reshape(h, [-1, 5]), self.w) + self.b4)

    export("cnn", Cnn(), [rng.normal(size=(2, 12, 12, 3)).astype("float32")])

    class Mlp(tf.Module):
        """dense layers with biases and activations, concat, reductions, slicing, broadcasting."""

        def __init__(self):
            self.w1, self.b1 = var(5, 8), var(8)
            self.w2, self.b2 = var(5, 8), var(8)
            self.w3, self.b3 = var(16, 3), var(3)

        @tf.function(input_signature=[tf.TensorSpec([None, 5], tf.float32, name="x")])
        def __call__(self, x):
            a = tf.nn.tanh(tf.matmul(x, self.w1) + self.b1)
            b = tf.nn.sigmoid(tf.matmul(x, self.w2) + self.b2) * 2.0 - 1.0
            h = tf.concat([a, b], axis=1)
            h = h - tf.reduce_mean(h, axis=1, keepdims=True)
            y = tf.nn.elu(tf.matmul(h, self.w3) + self.b3)
            return y + tf.reduce_sum(tf.square(x[:, 1:4]), axis=1, keepdims=True) + tf.reduce_max(x, axis=1, keepdims=True)

    export("mlp", Mlp(), [rng.normal(size=(4, 5)).astype("float32")])


if __name__ == "__main__":
    if not in_venv(VENV):
        reexec_in_venv(VENV, "import tensorflow as tf, tensorflowjs; print(tf.__version__, tensorflowjs.__version__)",
                       "2.21.0 4.22.0", [PINS, ["--no-deps", TFJS]], __file__)
    main()
