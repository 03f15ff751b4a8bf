#!/usr/bin/env python3
"""Extracts ONNX's own backend conformance test cases into small fixtures under tests/fixtures/onnx/.

Source: the `onnx` package from PyPI, pinned below (ONNX_VERSION), which ships the ONNX backend
test data in `onnx/backend/test/data/`. Only four of its folders are read: `node/` (one case per
operator variant), `pytorch-converted/`, `pytorch-operator/` and `simple/`. Note: 1.22.0 is the
newest release whose wheels still ship `node/` (the 1.23.x wheels leave it out), hence the pin.

Licence: ONNX is Apache-2.0 (https://github.com/onnx/onnx, Copyright (c) ONNX Project
Contributors) and the test data is part of that package, so it comes under the same licence. The
script copies the package's LICENSE next to the fixtures (tests/fixtures/onnx/LICENSE); the
models and tensors are copied byte for byte, unmodified (only the data files are renamed).

Rerun (from anywhere; idempotent, the output is rewritten from scratch each time):

    python3 scripts/onnx_fixtures.py

It needs only a python3 (3.9+) with the `venv` module: on first run it creates `.venv-onnx/`
at the repo root (git-ignored), pip-installs onnx==ONNX_VERSION into it (skipped when that
version is already there), and re-runs itself with that venv's interpreter.

What is kept: a case whose every graph node is in the default domain ("" or "ai.onnx") with an
op type in ALLOWED_OPS; whose graph inputs, outputs, initializers, value_infos and in-graph
tensors (Constant / ConstantOfShape values, Cast targets) are all float32, int64, int32 or bool
tensors (no sequences, optionals, maps, float16, double, string, ...), except that the quantization
ops (QUANT_OPS) may also have 4-, 8- and 16-bit integer tensors; with no external
data; with model.onnx under 2 MB; and not needing training mode (Dropout with training_mode true
or an old is_test=0, BatchNormalization with training_mode=1). If the kept fixtures together
exceed SIZE_BUDGET, the largest cases are dropped until they fit.

Output, per kept case: tests/fixtures/onnx/<source>/<case>/model.onnx, input_0.pb ... and
output_0.pb ... (serialized onnx TensorProto, from test_data_set_0 only, numbered in the graph's
input / output order). tests/fixtures/onnx/manifest.json lists the kept cases:
    {"name": "<source>/<case>", "ops": [sorted op types], "opset": <ai.onnx opset>,
     "inputs": [{"name", "dtype", "shape"}], "outputs": [same]}
where inputs are the graph inputs that are not initializers (those that have a data file) and
"shape" is the concrete shape of the tensor in the data file. tests/fixtures/onnx/dropped.json
maps every dropped case to {"reason", "detail"}.
"""
import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

ONNX_VERSION = "1.22.0"
REPO = Path(__file__).resolve().parent.parent
VENV = REPO / ".venv-onnx"
OUT = REPO / "tests" / "fixtures" / "onnx"
SOURCES = ["node", "pytorch-converted", "pytorch-operator", "simple"]
MAX_MODEL_BYTES = 2 * 1024 * 1024
SIZE_BUDGET = 8 * 1024 * 1024

ALLOWED_OPS = {
    "Conv", "ConvTranspose", "Gemm", "MatMul", "BatchNormalization", "Relu", "LeakyRelu",
    "Sigmoid", "Tanh", "Softmax", "LogSoftmax", "MaxPool", "AveragePool", "GlobalAveragePool",
    "GlobalMaxPool", "LRN", "Concat", "Reshape", "Flatten", "Transpose", "Squeeze", "Unsqueeze",
    "Add", "Sub", "Mul", "Div", "Sum", "Pow", "Sqrt", "Exp", "Log", "Abs", "Neg", "Reciprocal",
    "Floor", "Ceil", "Constant", "ConstantOfShape", "Dropout", "Gather", "Pad", "Clip", "Shape",
    "Cast", "Identity", "Elu", "Selu", "HardSigmoid", "Softplus", "Softsign", "Min", "Max", "Mean",
    "ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ArgMax", "ArgMin", "Equal",
    "Less", "Greater", "Where", "Not", "And", "Or", "Expand", "Slice", "Split", "Tile", "Erf",
    "Sin", "Cos", "PRelu", "Gelu", "Sign", "Round", "Range",
    # Added with the transformer importer (what torch's and Hugging Face's exporters write).
    "LayerNormalization", "GatherElements", "ScatterElements", "ScatterND", "Mod", "LessOrEqual",
    "GreaterOrEqual", "Trilu", "CumSum", "Einsum", "NonZero", "Size",
    # Added with the quantized weights (onnxruntime's quantize_dynamic and QDQ models).
    "DequantizeLinear", "QuantizeLinear", "DynamicQuantizeLinear", "MatMulInteger",
    # Added with statically quantized conv nets (quantize_static's QOperator format).
    "QLinearMatMul", "QLinearConv",
}
# Narrow integer types are taken only in cases made of these ops (the engine holds every integer
# as int32, so the wrap-around of uint8 arithmetic elsewhere would not be reproduced).
QUANT_OPS = {"DequantizeLinear", "QuantizeLinear", "DynamicQuantizeLinear", "MatMulInteger", "QLinearMatMul", "QLinearConv", "Constant", "Identity"}


# ---------------------------------------------------------------------------------------------
# Bootstrap: make sure we run inside .venv-onnx with onnx==ONNX_VERSION.
# ---------------------------------------------------------------------------------------------
def venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def ensure_env() -> None:
    try:
        import onnx  # noqa: F401
        if onnx.__version__ == ONNX_VERSION:
            return
    except ImportError:
        pass
    if os.environ.get("ONNX_FIXTURES_REEXEC"):
        sys.exit(f"onnx_fixtures: still no onnx=={ONNX_VERSION} inside {VENV}; giving up")
    py = venv_python()
    if not py.exists():
        print(f"[onnx_fixtures] creating {VENV}")
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    probe = subprocess.run([str(py), "-c", "import onnx; print(onnx.__version__)"],
                           capture_output=True, text=True)
    if probe.returncode != 0 or probe.stdout.strip() != ONNX_VERSION:
        print(f"[onnx_fixtures] pip install onnx=={ONNX_VERSION} into {VENV}")
        subprocess.run([str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                        "--only-binary=onnx", f"onnx=={ONNX_VERSION}"], check=True)
    else:
        print(f"[onnx_fixtures] onnx {ONNX_VERSION} already in {VENV}")
    env = dict(os.environ, ONNX_FIXTURES_REEXEC="1")
    os.execve(str(py), [str(py), str(Path(__file__).resolve()), *sys.argv[1:]], env)


# ---------------------------------------------------------------------------------------------
# Extraction (runs inside the venv).
# ---------------------------------------------------------------------------------------------
class Drop(Exception):
    def __init__(self, reason: str, detail: str = ""):
        super().__init__(reason)
        self.reason, self.detail = reason, detail


def main() -> None:
    import onnx
    from onnx import TensorProto, numpy_helper

    allowed_types = {
        TensorProto.FLOAT: "float32",
        TensorProto.INT64: "int64",
        TensorProto.INT32: "int32",
        TensorProto.BOOL: "bool",
    }
    narrow_types = {TensorProto.UINT8, TensorProto.INT8, TensorProto.UINT16, TensorProto.INT16, TensorProto.UINT4, TensorProto.INT4}
    narrow_seen = []
    type_name = TensorProto.DataType.Name

    data_root = Path(onnx.__file__).resolve().parent / "backend" / "test" / "data"

    def check_dtype(elem: int, where: str) -> None:
        if elem in narrow_types:
            narrow_seen.append(f"{type_name(elem)} ({where})")
            return
        if elem not in allowed_types:
            raise Drop("unsupported_dtype", f"{type_name(elem)} ({where})")

    def check_value_info(vi, where: str) -> None:
        kind = vi.type.WhichOneof("value")
        if kind != "tensor_type":
            raise Drop("non_tensor_io", f"{kind or 'untyped'} {where} {vi.name!r}")
        check_dtype(vi.type.tensor_type.elem_type, f"{where} {vi.name!r}")

    def check_tensor(t, where: str) -> None:
        if t.data_location == TensorProto.EXTERNAL or len(t.external_data):
            raise Drop("external_data", f"{where} {t.name!r}")
        check_dtype(t.data_type, f"{where} {t.name!r}")

    def attr(node, name):
        for a in node.attribute:
            if a.name == name:
                return onnx.helper.get_attribute_value(a)
        return None

    def scalar_true(name: str, graph, consts: dict, case_dir: Path, inputs_order: list):
        """Value of a bool scalar tensor feeding the graph (initializer, Constant or test input)."""
        if name in consts:
            return bool(numpy_helper.to_array(consts[name]).any())
        if name in inputs_order:
            pb = case_dir / "test_data_set_0" / f"input_{inputs_order.index(name)}.pb"
            t = TensorProto()
            t.ParseFromString(pb.read_bytes())
            return bool(numpy_helper.to_array(t).any())
        return None  # produced by another node: unknown

    def inspect(case_dir: Path) -> dict:
        narrow_seen.clear()
        model_path = case_dir / "model.onnx"
        if not model_path.is_file():
            raise Drop("no_model")
        size = model_path.stat().st_size
        if size >= MAX_MODEL_BYTES:
            raise Drop("model_too_large", f"{size} bytes")
        extra = sorted(p.name for p in case_dir.iterdir()
                       if p.name != "model.onnx" and not p.name.startswith("test_data_set_"))
        if extra:
            raise Drop("external_data", f"extra files {extra}")
        try:
            model = onnx.load(str(model_path), load_external_data=False)
        except Exception as e:  # noqa: BLE001
            raise Drop("unparsable", str(e)[:200])
        g = model.graph

        # Ops.
        ops = set()
        for n in g.node:
            if n.domain not in ("", "ai.onnx"):
                raise Drop("non_default_domain", f"{n.domain}.{n.op_type}")
            if n.op_type not in ALLOWED_OPS:
                raise Drop("unsupported_op", n.op_type)
            if any(a.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS)
                   for a in n.attribute):
                raise Drop("unsupported_op", f"{n.op_type} with subgraph")
            ops.add(n.op_type)
        opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), None)
        if opset is None:
            raise Drop("no_ai_onnx_opset")

        # Types.
        init_names = {t.name for t in g.initializer}
        for t in g.initializer:
            check_tensor(t, "initializer")
        if len(g.sparse_initializer):
            raise Drop("unsupported_dtype", "sparse initializer")
        for vi in g.input:
            check_value_info(vi, "input")
        for vi in g.output:
            check_value_info(vi, "output")
        for vi in g.value_info:
            check_value_info(vi, "value_info")
        consts = {t.name: t for t in g.initializer}
        for n in g.node:
            if n.op_type == "Constant":
                for a in n.attribute:
                    if a.name == "value":
                        check_tensor(a.t, "Constant")
                        consts[n.output[0]] = a.t
                    elif a.name in ("value_string", "value_strings"):
                        raise Drop("unsupported_dtype", "STRING (Constant)")
                    elif a.name == "sparse_value":
                        raise Drop("unsupported_dtype", "sparse Constant")
            elif n.op_type == "ConstantOfShape":
                v = attr(n, "value")
                if v is not None:
                    check_tensor(v, "ConstantOfShape value")
            elif n.op_type == "Cast":
                to = attr(n, "to")
                if isinstance(to, bytes):  # Cast-1 names the type as a string
                    to = TensorProto.DataType.Value(to.decode())
                check_dtype(to, "Cast to")

        if narrow_seen and not ops <= QUANT_OPS:
            raise Drop("unsupported_dtype", narrow_seen[0])

        # Test data: test_data_set_0, one file per non-initializer input and per output.
        ds = case_dir / "test_data_set_0"
        if not ds.is_dir():
            raise Drop("no_test_data")
        data_inputs = [vi for vi in g.input if vi.name not in init_names]
        in_files = sorted(ds.glob("input_*.pb"), key=lambda p: int(p.stem.split("_")[1]))
        out_files = sorted(ds.glob("output_*.pb"), key=lambda p: int(p.stem.split("_")[1]))
        if [p.name for p in in_files] != [f"input_{i}.pb" for i in range(len(data_inputs))] or \
                [p.name for p in out_files] != [f"output_{i}.pb" for i in range(len(g.output))]:
            raise Drop("io_mismatch",
                       f"{len(in_files)}/{len(data_inputs)} inputs, "
                       f"{len(out_files)}/{len(g.output)} outputs")

        def describe(vis, files):
            out = []
            for vi, f in zip(vis, files):
                t = TensorProto()
                try:
                    t.ParseFromString(f.read_bytes())
                except Exception:  # noqa: BLE001
                    raise Drop("non_tensor_io", f"{f.name} is not a TensorProto")
                check_tensor(t, f.name)
                if t.data_type != vi.type.tensor_type.elem_type:
                    raise Drop("io_mismatch", f"{f.name} is {type_name(t.data_type)}, graph says "
                                              f"{type_name(vi.type.tensor_type.elem_type)}")
                out.append({"name": vi.name, "dtype": allowed_types.get(t.data_type) or type_name(t.data_type).lower(),
                            "shape": [int(d) for d in t.dims]})
            return out

        inputs = describe(data_inputs, in_files)
        outputs = describe(list(g.output), out_files)

        # Training mode.
        names = [vi.name for vi in data_inputs]
        for n in g.node:
            if n.op_type == "Dropout":
                if opset < 7 and not attr(n, "is_test"):
                    raise Drop("training_mode", "Dropout is_test=0")
                if len(n.input) > 2 and n.input[2]:
                    if scalar_true(n.input[2], g, consts, case_dir, names) is True:
                        raise Drop("training_mode", "Dropout training_mode=true")
            elif n.op_type == "BatchNormalization":
                if attr(n, "training_mode") == 1:
                    raise Drop("training_mode", "BatchNormalization training_mode=1")
                if opset < 7 and not attr(n, "is_test") and len([o for o in n.output if o]) > 1:
                    raise Drop("training_mode", "BatchNormalization is_test=0")

        return {"ops": sorted(ops), "opset": int(opset), "inputs": inputs, "outputs": outputs,
                "files": [model_path, *in_files, *out_files]}

    kept, dropped = [], {}
    for source in SOURCES:
        for case_dir in sorted((data_root / source).iterdir()):
            if not case_dir.is_dir():
                continue
            name = f"{source}/{case_dir.name}"
            try:
                info = inspect(case_dir)
            except Drop as d:
                dropped[name] = {"reason": d.reason, "detail": d.detail}
                continue
            info["name"] = name
            info["bytes"] = sum(p.stat().st_size for p in info["files"])
            kept.append(info)

    # Size budget: drop the largest cases until the total fits.
    total = sum(c["bytes"] for c in kept)
    budget_drops = []
    for c in sorted(kept, key=lambda c: (-c["bytes"], c["name"])):
        if total <= SIZE_BUDGET:
            break
        total -= c["bytes"]
        budget_drops.append(c)
        dropped[c["name"]] = {"reason": "size_budget", "detail": f"{c['bytes']} bytes"}
    gone = {c["name"] for c in budget_drops}
    kept = [c for c in kept if c["name"] not in gone]

    # Write everything afresh.
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    manifest = []
    for c in kept:
        dest = OUT / c["name"]
        dest.mkdir(parents=True)
        model_path, *data = c["files"]
        shutil.copyfile(model_path, dest / "model.onnx")
        for f in data:  # already named input_<i>.pb / output_<i>.pb in graph order
            shutil.copyfile(f, dest / f.name)
        manifest.append({k: c[k] for k in ("name", "ops", "opset", "inputs", "outputs")})
    # One entry a line: small, and diffs stay readable when the pin moves.
    (OUT / "manifest.json").write_text(
        "[\n" + ",\n".join(json.dumps(m) for m in manifest) + "\n]\n")
    (OUT / "dropped.json").write_text(
        "{\n" + ",\n".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in sorted(dropped.items()))
        + "\n}\n")
    lic = next(Path(onnx.__file__).resolve().parent.parent.glob(
        f"onnx-{ONNX_VERSION}.dist-info/**/LICENSE"), None)
    if lic:
        shutil.copyfile(lic, OUT / "LICENSE")
    (OUT / "README.md").write_text(
        f"# ONNX backend conformance fixtures\n\n"
        f"Copied from `onnx/backend/test/data/` of the `onnx=={ONNX_VERSION}` PyPI package "
        f"(Apache-2.0, see LICENSE; Copyright (c) ONNX Project Contributors) by "
        f"`scripts/onnx_fixtures.py`, which says what is kept and why. Do not edit by hand: "
        f"rerun `python3 scripts/onnx_fixtures.py`.\n\n"
        f"- `manifest.json`: the {len(manifest)} kept cases (ops, opset, input and output "
        f"names, dtypes, shapes).\n"
        f"- `dropped.json`: every case left out, with the reason.\n"
        f"- `<source>/<case>/`: `model.onnx`, `input_<i>.pb`, `output_<i>.pb` "
        f"(serialized `onnx.TensorProto`, from the case's `test_data_set_0`).\n")

    # Summary.
    print(f"onnx {ONNX_VERSION}: data from {data_root}")
    per_source = Counter(c["name"].split("/")[0] for c in kept)
    print(f"kept {len(kept)} cases: " + ", ".join(f"{s} {per_source[s]}" for s in SOURCES))
    per_op = Counter(op for c in kept for op in c["ops"])
    print("kept per op (cases containing it):")
    print("  " + ", ".join(f"{op} {n}" for op, n in sorted(per_op.items(), key=lambda x: (-x[1], x[0]))))
    missing = sorted(ALLOWED_OPS - set(per_op))
    print(f"allowed ops with no kept case: {', '.join(missing) or 'none'}")
    reasons = Counter(d["reason"] for d in dropped.values())
    print(f"dropped {len(dropped)} cases:")
    for r, n in reasons.most_common():
        print(f"  {r}: {n}")
    ops_dropped = Counter(d["detail"] for d in dropped.values() if d["reason"] == "unsupported_op")
    print("  unsupported_op, top ops: " + ", ".join(f"{o} {n}" for o, n in ops_dropped.most_common(15)))
    for c in budget_drops:
        print(f"  size_budget dropped {c['name']} ({c['bytes']} bytes)")
    files = [p for p in OUT.rglob("*") if p.is_file()]
    print(f"wrote {len(files)} files, {sum(p.stat().st_size for p in files)} bytes "
          f"(cases {sum(c['bytes'] for c in kept)}), in {OUT.relative_to(REPO)}")


def external_data_fixture() -> None:
    """tests/fixtures/onnx_external/: a model whose weights live in an external data file (as ONNX
    writes models over protobuf's 2 GB limit), with an input and the output numpy computes."""
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    out = REPO / "tests" / "fixtures" / "onnx_external"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    rng = np.random.default_rng(3)
    w = rng.normal(0, 0.5, (16, 8)).astype(np.float32)
    b = rng.normal(0, 0.5, (8,)).astype(np.float32)
    scale = np.float32(1.5)
    x = rng.normal(0, 1, (3, 16)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["h"]), helper.make_node("Add", ["h", "b"], ["hb"]),
         helper.make_node("Mul", ["hb", "scale"], ["hs"]), helper.make_node("Relu", ["hs"], ["y"])],
        "external_mlp",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 8])],
        [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b"), numpy_helper.from_array(np.array(scale), "scale")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    # w and b go to weights.bin (at offsets ONNX chooses); the scalar stays inline.
    onnx.save_model(model, str(out / "model.onnx"), save_as_external_data=True, all_tensors_to_one_file=True,
                    location="weights.bin", size_threshold=16)
    y = np.maximum((x @ w + b) * scale, 0)
    with open(out / "expected.json", "w") as f:
        json.dump({"input": {"shape": list(x.shape), "values": x.ravel().tolist()},
                   "output": {"shape": list(y.shape), "values": y.ravel().tolist()}}, f)
    print(f"wrote {out.relative_to(REPO)}: model.onnx + weights.bin ({(out / 'weights.bin').stat().st_size} bytes)")


if __name__ == "__main__":
    ensure_env()
    main()
    external_data_fixture()
