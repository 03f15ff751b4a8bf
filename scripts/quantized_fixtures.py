#!/usr/bin/env python3
"""Quantized transformer ONNX fixtures, made by onnxruntime's own quantization tools from the
float32 fixtures of scripts/transformer_fixtures.py, with references from onnxruntime running
the quantized files.

Writes tests/fixtures/onnx_quantized/<model>/: model.onnx and case_<k>/{input,output}_<i>.pb (the
source model's case inputs, onnxruntime's outputs of the quantized model), plus manifest.json in
the same form as tests/fixtures/onnx_models/manifest.json.

Models:
- llama_q4:    llama, every MatMul with a constant weight as com.microsoft MatMulNBits, 4-bit,
               blocks of 32, symmetric (no zero points): what transformers.js calls q4.
- bert_q4_zp:  bert, MatMulNBits 4-bit in blocks of 16 with zero points (asymmetric).
- bert_q8:     bert through quantize_dynamic (int8 weights): DynamicQuantizeLinear on the
               activations, MatMulInteger, and the scale products: transformers.js's q8.
- llama_q8_uint8: llama through quantize_dynamic with uint8 weights, per channel.
- llama_f16, gpt2_f16, vit_f16: onnxruntime's float16 converter (keep_io_types): float16
               weights and arithmetic between Casts at the inputs and outputs: transformers.js's
               fp16 (vit_f16's float32 input Cast comes last in its node list).
- llama_q4f16: llama_f16 with its MatMuls as 4-bit MatMulNBits (float16 scales): q4f16.
- llama_q4_qdq: llama through the same 4-bit quantizer in its QDQ format (opset 21): each weight
               a uint4 initializer with uint4 zero points read by DequantizeLinear (blocks of 32
               along K) feeding the MatMul: the form other toolchains export.

- convnet_qop, convnet_qdq: a small conv net (strided Conv, ReLU, depthwise Conv, 1x1 Conv,
               GlobalAveragePool, fully connected MatMul), built with onnx.helper and statically
               quantized by quantize_static (uint8 activations calibrated on seeded inputs, int8
               weights per output channel): in the QOperator format (QLinearConv, QLinearMatMul,
               QuantizeLinear/DequantizeLinear around the float ops) and in the QDQ format.
               onnxruntime computes the integer ops in integers, rounding each requantized
               activation once: the engine does the same for QLinearConv/QLinearMatMul; for QDQ it
               runs the float ops between Dequantize and Quantize as written, so a product on a
               rounding boundary may land one code away: the tolerance allows one output code.

- gather_block_int4, gather_block_uint4: one com.microsoft GatherBlockQuantized node each (a
               4-bit embedding table [50, 64] in blocks of 32, int4 with zero points and uint4
               without), built with onnx.helper; ids include a negative one.
- f16_overflow: the float16 shapes onnxruntime's users report as overflowing (its issues
               #31626, #29130): LayerNormalization over 4096 features of magnitude ~300 (their
               squares pass float16's 65504) and ReduceMean over 1 M ones (a float16 running sum
               stops at 2048). The reference is numpy in float64; the manifest records whether
               onnxruntime's own outputs were finite and right (`onnxruntime_max_error`).

Each manifest entry gives `tolerance` (the relative error the tests allow: tight where the engine
computes what onnxruntime computes; 2e-3 for float16 models, which the engine computes in float32
while onnxruntime computes in float16) and `delta_vs_f32` (onnxruntime's own largest relative
change of the outputs from the float32 model's: what the quantization costs).

Rerun (idempotent; output rewritten): python3 scripts/quantized_fixtures.py
With --bench it writes the benchmark's larger models to bench/models/ (git-ignored) instead: a
decoder-shaped stack of two feed-forward blocks (d 1024, hidden 4096, GELU, residual; 16.8 M
weights) as float32 (ffn_f32), float16 by onnxruntime's converter with keep_io_types (ffn_f16),
4-bit MatMulNBits in blocks of 32 (ffn_q4) and quantize_dynamic int8 (ffn_q8).
It makes .venv-quant/ (git-ignored) with the pins below on first run (no torch needed).
"""
import json
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fixture_venv import in_venv, reexec_in_venv  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
VENV = REPO / ".venv-quant"
SOURCE = REPO / "tests" / "fixtures" / "onnx_models"
OUT = REPO / "tests" / "fixtures" / "onnx_quantized"
PINS = ["onnx==1.17.0", "onnxruntime==1.20.1", "numpy==1.26.4"]
PROBE = "import onnx, onnxruntime; print(onnx.__version__, onnxruntime.__version__)"
EXPECTED = "1.17.0 1.20.1"

if not in_venv(VENV):
    reexec_in_venv(VENV, PROBE, EXPECTED, [PINS], __file__)

import numpy as np  # noqa: E402
import onnx  # noqa: E402
import onnx.version_converter  # noqa: E402
import onnxruntime as ort  # noqa: E402
from onnx import numpy_helper  # noqa: E402
from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_dynamic, quantize_static  # noqa: E402
from onnxruntime.quantization.matmul_4bits_quantizer import DefaultWeightOnlyQuantConfig, MatMul4BitsQuantizer  # noqa: E402


def q4(src: Path, dst: Path, block: int, symmetric: bool, quant_format=QuantFormat.QOperator) -> None:
    config = DefaultWeightOnlyQuantConfig(block_size=block, is_symmetric=symmetric, quant_format=quant_format)
    model = onnx.load(str(src))
    if quant_format == QuantFormat.QDQ:
        # The QDQ form needs opset 21 (4-bit DequantizeLinear): the model is converted to it first
        # (the quantizer itself only raises the declared opset).
        model = onnx.version_converter.convert_version(model, 21)
    quantizer = MatMul4BitsQuantizer(model, algo_config=config)
    quantizer.process()
    quantizer.model.save_model_to_file(str(dst), use_external_data_format=False)


def q8(src: Path, dst: Path, weight_type, per_channel: bool) -> None:
    quantize_dynamic(str(src), str(dst), weight_type=weight_type, per_channel=per_channel, op_types_to_quantize=["MatMul"])


def f16(src: Path, dst: Path) -> None:
    from onnxruntime.transformers.float16 import convert_float_to_float16
    onnx.save(convert_float_to_float16(onnx.load(str(src)), keep_io_types=True), str(dst))


def q4f16(src: Path, dst: Path) -> None:
    f16(src, dst)
    q4(dst, dst, 32, True)


def f16_overflow(out_dir: Path, manifest: list) -> None:
    from onnx import TensorProto, helper
    d = 4096
    nodes = [
        helper.make_node("Cast", ["x"], ["xh"], to=TensorProto.FLOAT16),
        helper.make_node("LayerNormalization", ["xh", "gamma", "beta"], ["ln"], axis=-1, epsilon=1e-5),
        helper.make_node("Cast", ["ln"], ["normalized"], to=TensorProto.FLOAT),
        helper.make_node("ConstantOfShape", ["shape"], ["ones"], value=helper.make_tensor("one", TensorProto.FLOAT16, [1], [1.0])),
        helper.make_node("ReduceMean", ["ones"], ["mean_h"], keepdims=0),
        helper.make_node("Cast", ["mean_h"], ["mean"], to=TensorProto.FLOAT),
    ]
    inits = [numpy_helper.from_array(np.ones(d, np.float16), "gamma"), numpy_helper.from_array(np.zeros(d, np.float16), "beta"),
             numpy_helper.from_array(np.array([1024, 1024], np.int64), "shape")]
    graph = helper.make_graph(nodes, "f16_overflow", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, d])],
                              [helper.make_tensor_value_info("normalized", TensorProto.FLOAT, [1, d]), helper.make_tensor_value_info("mean", TensorProto.FLOAT, [])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    (out_dir / "f16_overflow" / "case_0").mkdir(parents=True)
    path = out_dir / "f16_overflow" / "model.onnx"
    onnx.save(model, str(path))
    x = (300 + 50 * np.random.default_rng(3).standard_normal((1, d))).astype(np.float16).astype(np.float32)
    xd = x.astype(np.float64)
    want = [((xd - xd.mean()) / np.sqrt(xd.var() + 1e-5)).astype(np.float32), np.array(1.0, np.float32)]
    case = out_dir / "f16_overflow" / "case_0"
    (case / "input_0.pb").write_bytes(numpy_helper.from_array(x).SerializeToString())
    for i, w in enumerate(want):
        (case / f"output_{i}.pb").write_bytes(numpy_helper.from_array(w).SerializeToString())
    got = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"x": x})
    ort_error = max(float(np.max(np.abs(g.astype(np.float64) - w) / (1 + np.abs(w)))) for g, w in zip(got, want))
    manifest.append({"name": "f16_overflow", "from": None, "inputs": ["x"], "outputs": ["normalized", "mean"], "ops": op_types(model),
                     "cases": [{"x": [1, d]}], "tolerance": 2e-3, "reference": "numpy float64",
                     "onnxruntime_max_error": ort_error if np.isfinite(ort_error) else "non-finite"})
    print(f"[quantized_fixtures] f16_overflow: onnxruntime's largest error {ort_error}")


def gather_block(out_dir: Path, manifest: list) -> None:
    from onnx import TensorProto, helper
    rng = np.random.default_rng(4)
    vocab, dim, block = 50, 64, 32
    for name, dt, with_zero in [("gather_block_int4", TensorProto.INT4, True), ("gather_block_uint4", TensorProto.UINT4, False)]:
        lo, hi = (-8, 8) if dt == TensorProto.INT4 else (0, 16)
        inits = [helper.make_tensor("data", dt, [vocab, dim], rng.integers(lo, hi, vocab * dim).tolist()),
                 numpy_helper.from_array(rng.uniform(0.01, 0.1, (vocab, dim // block)).astype(np.float32), "scales")]
        inputs = ["data", "ids", "scales"]
        if with_zero:
            inits.append(helper.make_tensor("zero_points", dt, [vocab, dim // block], rng.integers(lo, hi, vocab * dim // block).tolist()))
            inputs.append("zero_points")
        node = helper.make_node("GatherBlockQuantized", inputs, ["y"], domain="com.microsoft", block_size=block)
        graph = helper.make_graph([node], name, [helper.make_tensor_value_info("ids", TensorProto.INT64, [2, 3])],
                                  [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)])
        (out_dir / name / "case_0").mkdir(parents=True)
        path = out_dir / name / "model.onnx"
        onnx.save(model, str(path))
        ids = np.array([[0, 7, 49], [3, -1, 3]], np.int64)
        y = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"ids": ids})[0]
        (out_dir / name / "case_0" / "input_0.pb").write_bytes(numpy_helper.from_array(ids).SerializeToString())
        (out_dir / name / "case_0" / "output_0.pb").write_bytes(numpy_helper.from_array(y).SerializeToString())
        manifest.append({"name": name, "from": None, "inputs": ["ids"], "outputs": ["y"], "ops": op_types(model), "cases": [{"ids": [2, 3]}],
                         "tolerance": 2e-4})


def convnets(out_dir: Path, manifest: list) -> None:
    from onnx import TensorProto, helper
    rng = np.random.default_rng(6)

    def weight(name, shape):
        fan_in = int(np.prod(shape[1:]))
        return numpy_helper.from_array((rng.standard_normal(shape) * np.sqrt(2 / fan_in)).astype(np.float32), name)

    def bias(name, n):
        return numpy_helper.from_array((0.1 * rng.standard_normal(n)).astype(np.float32), name)

    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("Conv", ["r1", "w2", "b2"], ["c2"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], group=8),
        helper.make_node("Relu", ["c2"], ["r2"]),
        helper.make_node("Conv", ["r2", "w3", "b3"], ["c3"], kernel_shape=[1, 1]),
        helper.make_node("GlobalAveragePool", ["c3"], ["p"]),
        helper.make_node("Flatten", ["p"], ["f"]),
        helper.make_node("MatMul", ["f", "fc"], ["y"]),
    ]
    inits = [weight("w1", [8, 3, 3, 3]), bias("b1", 8), weight("w2", [8, 1, 3, 3]), bias("b2", 8), weight("w3", [16, 8, 1, 1]), bias("b3", 16),
             numpy_helper.from_array((rng.standard_normal((16, 10)) / 4).astype(np.float32), "fc")]
    graph = helper.make_graph(nodes, "convnet", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3, 16, 16])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 10])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    tmp = out_dir / "convnet_f32.onnx"
    onnx.save(model, str(tmp))
    calibration = [rng.uniform(0, 1, (1, 3, 16, 16)).astype(np.float32) for _ in range(16)]

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.items = iter({"x": x} for x in calibration)

        def get_next(self):
            return next(self.items, None)

    cases = [rng.uniform(0, 1, (1, 3, 16, 16)).astype(np.float32), rng.uniform(0, 1, (3, 3, 16, 16)).astype(np.float32)]
    exact = ort.InferenceSession(str(tmp), providers=["CPUExecutionProvider"])
    for name, fmt in [("convnet_qop", QuantFormat.QOperator), ("convnet_qdq", QuantFormat.QDQ)]:
        (out_dir / name).mkdir()
        path = out_dir / name / "model.onnx"
        quantize_static(str(tmp), str(path), Reader(), quant_format=fmt, op_types_to_quantize=["Conv", "MatMul"], per_channel=True,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
        quantized = onnx.load(str(path))
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        delta, code = 0.0, 0.0
        for k, x in enumerate(cases):
            (out_dir / name / f"case_{k}").mkdir()
            (out_dir / name / f"case_{k}" / "input_0.pb").write_bytes(numpy_helper.from_array(x).SerializeToString())
            y = session.run(None, {"x": x})[0]
            (out_dir / name / f"case_{k}" / "output_0.pb").write_bytes(numpy_helper.from_array(y).SerializeToString())
            want = exact.run(None, {"x": x})[0]
            delta = max(delta, float(np.max(np.abs(y.astype(np.float64) - want) / (1 + np.abs(want)))))
        # One step of the output's quantization (the scale of the last DequantizeLinear).
        last = next(n for n in reversed(quantized.graph.node) if n.op_type == "DequantizeLinear")
        scale = next(i for i in quantized.graph.initializer if i.name == last.input[1])
        code = float(numpy_helper.to_array(scale).max())
        tolerance = 2e-4 if fmt == QuantFormat.QOperator else round(1.01 * code, 6)
        manifest.append({"name": name, "from": None, "inputs": ["x"], "outputs": ["y"], "ops": op_types(quantized),
                         "cases": [{"x": list(x.shape)} for x in cases], "tolerance": tolerance, "delta_vs_f32": round(delta, 6),
                         "output_step": code})
        print(f"[quantized_fixtures] {name}: {path.stat().st_size} bytes, ops {op_types(quantized)}, output step {code}, delta {delta}")
    tmp.unlink()


def as_written() -> "ort.SessionOptions":
    """onnxruntime's CPU session fuses DequantizeLinear -> MatMul into MatMulNBits at accuracy
    level 4 by default, quantizing the activations to int8 (2.7e-3 from the graph as written on
    llama_q4_qdq): the references keep the activations in float32, as the graph says."""
    options = ort.SessionOptions()
    options.add_session_config_entry("session.qdq_matmulnbits_accuracy_level", "0")
    return options


def op_types(model) -> list:
    return sorted({(n.domain + "." if n.domain else "") + n.op_type for n in model.graph.node})


def bench_models() -> None:
    from onnx import TensorProto, helper
    import numpy as np
    out = REPO / "bench" / "models"
    d, hidden, blocks = 1024, 4096, 2
    rng = np.random.default_rng(5)
    nodes, inits, x = [], [], "x"
    for b in range(blocks):
        w1 = (rng.standard_normal((d, hidden)) / np.sqrt(d)).astype(np.float32)
        w2 = (rng.standard_normal((hidden, d)) / np.sqrt(hidden)).astype(np.float32)
        inits += [onnx.numpy_helper.from_array(w1, f"w1_{b}"), onnx.numpy_helper.from_array(w2, f"w2_{b}")]
        nodes += [helper.make_node("MatMul", [x, f"w1_{b}"], [f"h_{b}"]),
                  helper.make_node("Gelu", [f"h_{b}"], [f"g_{b}"]),
                  helper.make_node("MatMul", [f"g_{b}", f"w2_{b}"], [f"o_{b}"]),
                  helper.make_node("Add", [x, f"o_{b}"], [f"r_{b}"])]
        x = f"r_{b}"
    nodes.append(helper.make_node("Identity", [x], ["y"]))
    graph = helper.make_graph(nodes, "ffn", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, "sequence", d])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, "sequence", d])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 20)])
    model.ir_version = 9
    (out / "ffn_f32").mkdir(parents=True, exist_ok=True)
    f32 = out / "ffn_f32" / "model.onnx"
    onnx.save(model, str(f32))
    for name, make in [("ffn_f16", f16), ("ffn_q4", lambda s, t: q4(s, t, 32, True)), ("ffn_q8", lambda s, t: q8(s, t, QuantType.QInt8, False))]:
        (out / name).mkdir(parents=True, exist_ok=True)
        make(f32, out / name / "model.onnx")
    for name in ["ffn_f32", "ffn_f16", "ffn_q4", "ffn_q8"]:
        print(f"[quantized_fixtures] bench/models/{name}: {(out / name / 'model.onnx').stat().st_size} bytes")


def main() -> None:
    if "--bench" in sys.argv:
        bench_models()
        return
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    source = {m["name"]: m for m in json.loads((SOURCE / "manifest.json").read_text())["models"]}
    specs = [
        ("llama_q4", "llama", lambda s, d: q4(s, d, 32, True)),
        ("bert_q4_zp", "bert", lambda s, d: q4(s, d, 16, False)),
        ("bert_q8", "bert", lambda s, d: q8(s, d, QuantType.QInt8, False)),
        ("llama_q8_uint8", "llama", lambda s, d: q8(s, d, QuantType.QUInt8, True)),
        ("llama_f16", "llama", f16),
        ("gpt2_f16", "gpt2", f16),
        # Its float32 pixel input keeps its type: the converter appends the Cast after its readers.
        ("vit_f16", "vit", f16),
        ("llama_q4f16", "llama", q4f16),
        ("llama_q4_qdq", "llama", lambda s, d: q4(s, d, 32, False, QuantFormat.QDQ)),
    ]
    manifest = []
    for name, base, make in specs:
        (OUT / name).mkdir()
        path = OUT / name / "model.onnx"
        make(SOURCE / base / "model.onnx", path)
        model = onnx.load(str(path))
        session = ort.InferenceSession(str(path), as_written(), providers=["CPUExecutionProvider"])
        reference = ort.InferenceSession(str(SOURCE / base / "model.onnx"), providers=["CPUExecutionProvider"])
        inputs = [i.name for i in session.get_inputs()]
        outputs = [o.name for o in session.get_outputs()]
        cases = []
        delta = 0.0
        for k, _ in enumerate(source[base]["cases"]):
            src_case, dst_case = SOURCE / base / f"case_{k}", OUT / name / f"case_{k}"
            dst_case.mkdir()
            feed = {}
            for i, input_name in enumerate(inputs):
                shutil.copy(src_case / f"input_{i}.pb", dst_case / f"input_{i}.pb")
                t = onnx.TensorProto()
                t.ParseFromString((src_case / f"input_{i}.pb").read_bytes())
                feed[input_name] = numpy_helper.to_array(t)
            for i, (value, exact) in enumerate(zip(session.run(None, feed), reference.run(None, feed))):
                (dst_case / f"output_{i}.pb").write_bytes(numpy_helper.from_array(value).SerializeToString())
                delta = max(delta, float(np.max(np.abs(value.astype(np.float64) - exact) / (1 + np.abs(exact)))))
            cases.append({n: list(v.shape) for n, v in feed.items()})
        tolerance = 2e-3 if "f16" in name else 2e-4
        manifest.append({"name": name, "from": base, "inputs": inputs, "outputs": outputs, "ops": op_types(model), "cases": cases,
                         "tolerance": tolerance, "delta_vs_f32": round(delta, 6)})
        print(f"[quantized_fixtures] {name}: {path.stat().st_size} bytes (from {(SOURCE / base / 'model.onnx').stat().st_size}), ops {op_types(model)}")
    gather_block(OUT, manifest)
    convnets(OUT, manifest)
    f16_overflow(OUT, manifest)
    (OUT / "manifest.json").write_text(json.dumps({"tools": EXPECTED, "models": manifest}, indent=1) + "\n")
    (OUT / "README.md").write_text(
        "# Quantized transformer ONNX fixtures\n\nMade by `scripts/quantized_fixtures.py` from the float32 models of ../onnx_models with "
        "onnxruntime's quantization tools (MatMul4BitsQuantizer, quantize_dynamic; PyPI). References are onnxruntime's outputs on the "
        "quantized files, for the source models' case inputs. Do not edit by hand: rerun the script.\n")


if __name__ == "__main__":
    main()
