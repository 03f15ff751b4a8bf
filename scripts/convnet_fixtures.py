#!/usr/bin/env python3
"""torchvision conv nets exported to ONNX for the benchmark (bench/models/, git-ignored).

Models (torchvision 0.20, `weights=None`: seeded random weights, no download): mobilenet_v2,
resnet18, efficientnet_b0 and squeezenet1_1, in eval mode, exported by torch at opset 17 with a
symbolic batch axis (torch folds each BatchNormalization into its Conv). Batch-norm statistics
come from a few random images (see `calibrated`). Each model is checked
against onnxruntime on one image before it is written; the bench then compares our outputs with
ONNX Runtime Web's in the same page (`maxAbsDiffVsFirst`).

Rerun (idempotent; output rewritten): python3 scripts/convnet_fixtures.py
It uses .venv-torch/ (git-ignored, shared with transformer_fixtures.py) and adds torchvision to it.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fixture_venv import in_venv, reexec_in_venv  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
VENV = REPO / ".venv-torch"
OUT = REPO / "bench" / "models"
PINS = ["torch==2.5.1", "torchvision==0.20.1", "onnx==1.17.0", "onnxruntime==1.20.1", "numpy==1.26.4"]
PROBE = "import torch, torchvision, onnx, onnxruntime; print(torch.__version__.split('+')[0], torchvision.__version__.split('+')[0], onnx.__version__, onnxruntime.__version__)"
EXPECTED = "2.5.1 0.20.1 1.17.0 1.20.1"
OPSET = 17
MODELS = ["mobilenet_v2", "resnet18", "efficientnet_b0", "squeezenet1_1"]

if not in_venv(VENV):
    reexec_in_venv(VENV, PROBE, EXPECTED, [PINS], __file__)

import numpy as np  # noqa: E402
import onnxruntime as ort  # noqa: E402
import torch  # noqa: E402
import torchvision  # noqa: E402


def calibrated(model):
    """`model` in eval mode with each BatchNorm's running statistics set to those of a few random
    images: with the initial ones (mean 0, variance 1) activations shrink layer by layer until
    the logits are ~1e-15, too small for an output comparison to mean anything."""
    for m in model.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.momentum = None  # a cumulative average over the calibration batches
    model.train()
    rng = np.random.default_rng(1)
    with torch.no_grad():
        for _ in range(3):
            model(torch.from_numpy(rng.standard_normal((8, 3, 224, 224)).astype(np.float32)))
    return model.eval()


def main() -> None:
    image = torch.from_numpy(np.random.default_rng(0).standard_normal((1, 3, 224, 224)).astype(np.float32))
    for k, name in enumerate(MODELS):
        torch.manual_seed(k)
        model = calibrated(getattr(torchvision.models, name)(weights=None))
        path = OUT / name / "model.onnx"
        path.parent.mkdir(parents=True, exist_ok=True)
        with torch.no_grad():
            want = model(image).numpy()
            torch.onnx.export(model, (image,), str(path), input_names=["input"], output_names=["logits"],
                              dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
                              opset_version=OPSET, do_constant_folding=True, dynamo=False)
        got = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"input": image.numpy()})[0]
        err = float(np.abs(got - want).max())
        assert err <= 1e-3 * (1 + float(np.abs(want).max())), f"{name}: onnxruntime differs from torch by {err}"
        print(f"[convnet_fixtures] {name}: {path.stat().st_size} bytes, logits up to {np.abs(want).max():.3g}, |ort - torch| <= {err:.2e}")


if __name__ == "__main__":
    main()
