#!/usr/bin/env python3
"""Small transformer models exported to ONNX by torch, with references from onnxruntime.

Writes tests/fixtures/onnx_models/<model>/: model.onnx and case_<k>/{input,output}_<i>.pb
(serialized onnx.TensorProto, in the graph's input / output order), plus manifest.json listing,
per model, its inputs, outputs, and cases. Every model is exported with symbolic batch and
sequence axes, and each model has cases at two or more sequence lengths: one export must run
at any length.

Models (seeded random weights, tiny configs; all from the `transformers` package):
- bert:       BertModel (eager attention), inputs input_ids / attention_mask / token_type_ids.
- bert_fused: the same file after onnxruntime's transformer optimizer (model_type "bert"):
              EmbedLayerNormalization, Attention, SkipLayerNormalization, BiasGelu (com.microsoft).
- gpt2:       GPT2LMHeadModel without a cache (SDPA attention as torch exports it).
- gpt2_past:  GPT2LMHeadModel with past key/values: inputs input_ids, attention_mask,
              past_key_values.<i>.key/value; outputs logits, present.<i>.key/value.
- vit:        ViTForImageClassification on 16x16 images.
- llama:      LlamaForCausalLM with grouped-query attention (4 heads, 2 kv heads), RMSNorm, RoPE, SiLU.
- contrib_*:  one com.microsoft node each (MultiHeadAttention, GroupQueryAttention, RotaryEmbedding,
              Attention with a past, SkipSimplifiedLayerNormalization, FastGelu, QuickGelu, Gelu)
              built with onnx.helper on random inputs.

Rerun (idempotent; output rewritten): python3 scripts/transformer_fixtures.py
With --bench it writes the benchmark's larger models to bench/models/ (git-ignored) instead.
It makes .venv-torch/ (git-ignored) with the pins below on first run (torch from PyPI brings
its CUDA libraries, ~4 GB; nothing here needs a GPU).
"""
import json
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fixture_venv import in_venv, reexec_in_venv  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
VENV = REPO / ".venv-torch"
OUT = REPO / "tests" / "fixtures" / "onnx_models"
PINS = ["torch==2.5.1", "transformers==4.46.3", "onnx==1.17.0", "onnxruntime==1.20.1", "numpy==1.26.4"]
PROBE = "import torch, transformers, onnx, onnxruntime; print(torch.__version__.split('+')[0], transformers.__version__, onnx.__version__, onnxruntime.__version__)"
EXPECTED = "2.5.1 4.46.3 1.17.0 1.20.1"
OPSET = 17
VOCAB = 99

if not in_venv(VENV):
    reexec_in_venv(VENV, PROBE, EXPECTED, [PINS], __file__)

import numpy as np  # noqa: E402
import onnx  # noqa: E402
import onnxruntime as ort  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402
from onnx import numpy_helper  # noqa: E402


class Logits(torch.nn.Module):
    """A causal LM as ids -> logits, without a cache."""

    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, input_ids):
        return self.m(input_ids=input_ids, use_cache=False).logits


class WithPast(torch.nn.Module):
    """A causal LM with its cache flattened: (ids, mask, past k/v per layer) -> (logits, presents)."""

    def __init__(self, m, layers: int):
        super().__init__()
        self.m, self.layers = m, layers

    def forward(self, input_ids, attention_mask, *past):
        pkv = tuple((past[2 * i], past[2 * i + 1]) for i in range(self.layers))
        out = self.m(input_ids=input_ids, attention_mask=attention_mask, past_key_values=pkv, use_cache=True)
        return (out.logits, *[t for kv in out.past_key_values for t in kv])


def cache_names(layers: int) -> tuple:
    """The input and output names of the cache (as Hugging Face Optimum writes them) and their dynamic axes."""
    past = [f"past_key_values.{i}.{kv}" for i in range(layers) for kv in ("key", "value")]
    present = [f"present.{i}.{kv}" for i in range(layers) for kv in ("key", "value")]
    axes = {"input_ids": {0: "batch", 1: "sequence"}, "attention_mask": {0: "batch", 1: "total_sequence"}, "logits": {0: "batch", 1: "sequence"}}
    axes.update({n: {0: "batch", 2: "past_sequence"} for n in past})
    axes.update({n: {0: "batch", 2: "total_sequence"} for n in present})
    return past, present, axes


def save_case(folder: Path, inputs: list, outputs: list) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i, a in enumerate(inputs):
        (folder / f"input_{i}.pb").write_bytes(numpy_helper.from_array(a).SerializeToString())
    for i, a in enumerate(outputs):
        (folder / f"output_{i}.pb").write_bytes(numpy_helper.from_array(a).SerializeToString())


def ops_of(path: Path) -> list:
    m = onnx.load(str(path))
    return sorted({(n.domain + "." if n.domain not in ("", "ai.onnx") else "") + n.op_type for n in m.graph.node})


def finish(name: str, path: Path, cases: list, manifest: list, check_torch=None) -> None:
    """Runs each case's inputs (dict name -> array) through onnxruntime and saves the references."""
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    in_names = [i.name for i in sess.get_inputs()]
    out_names = [o.name for o in sess.get_outputs()]
    shapes = []
    for k, feeds in enumerate(cases):
        outs = sess.run(None, {n: feeds[n] for n in in_names})
        if check_torch is not None:
            check_torch(feeds, outs)
        save_case(path.parent / f"case_{k}", [feeds[n] for n in in_names], outs)
        shapes.append({n: list(feeds[n].shape) for n in in_names})
    manifest.append({"name": name, "inputs": in_names, "outputs": out_names, "ops": ops_of(path), "cases": shapes})
    print(f"[transformer_fixtures] {name}: {len(cases)} cases, {path.stat().st_size} bytes, ops {ops_of(path)}")


def export(model, args: tuple, path: Path, input_names, output_names, dynamic_axes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with torch.no_grad():
        torch.onnx.export(model, args, str(path), input_names=input_names, output_names=output_names,
                          dynamic_axes=dynamic_axes, opset_version=OPSET, do_constant_folding=True, dynamo=False)


def text_feeds(rng, batch: int, seq: int, pad_last: int = 0) -> dict:
    ids = rng.integers(1, VOCAB, size=(batch, seq)).astype(np.int64)
    mask = np.ones((batch, seq), dtype=np.int64)
    if pad_last:
        mask[-1, seq - pad_last:] = 0
    types = np.zeros((batch, seq), dtype=np.int64)
    types[:, seq // 2:] = 1
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}


def bert(manifest: list, rng) -> Path:
    torch.manual_seed(0)
    cfg = transformers.BertConfig(vocab_size=VOCAB, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                                  intermediate_size=37, max_position_embeddings=64, type_vocab_size=2,
                                  attn_implementation="eager")
    model = transformers.BertModel(cfg).eval()
    path = OUT / "bert" / "model.onnx"
    f = text_feeds(rng, 2, 7)
    axes = {n: {0: "batch", 1: "sequence"} for n in ["input_ids", "attention_mask", "token_type_ids", "last_hidden_state"]}
    axes["pooler_output"] = {0: "batch"}
    export(model, (torch.from_numpy(f["input_ids"]), torch.from_numpy(f["attention_mask"]), torch.from_numpy(f["token_type_ids"])),
           path, ["input_ids", "attention_mask", "token_type_ids"], ["last_hidden_state", "pooler_output"], axes)

    def check(feeds, outs):
        with torch.no_grad():
            ref = model(**{k: torch.from_numpy(v) for k, v in feeds.items()})
        assert np.allclose(ref.last_hidden_state.numpy(), outs[0], atol=1e-4), "bert: onnxruntime disagrees with torch"

    cases = [text_feeds(rng, 2, 7, pad_last=2), text_feeds(rng, 1, 12), text_feeds(rng, 3, 4, pad_last=1)]
    finish("bert", path, cases, manifest, check)
    return path


def bert_fused(manifest: list, rng, source: Path) -> None:
    from onnxruntime.transformers import optimizer
    from onnxruntime.transformers.fusion_options import FusionOptions

    opts = FusionOptions("bert")
    opt = optimizer.optimize_model(str(source), model_type="bert", num_heads=4, hidden_size=32, optimization_options=opts, opt_level=0)
    path = OUT / "bert_fused" / "model.onnx"
    path.parent.mkdir(parents=True, exist_ok=True)
    opt.save_model_to_file(str(path))
    wanted = {"com.microsoft.Attention", "com.microsoft.SkipLayerNormalization", "com.microsoft.EmbedLayerNormalization"}
    missing = wanted - set(ops_of(path))
    assert not missing, f"the optimizer did not fuse {missing}"
    cases = [text_feeds(rng, 2, 7, pad_last=2), text_feeds(rng, 1, 12)]
    finish("bert_fused", path, cases, manifest)


def gpt2_model():
    torch.manual_seed(1)
    cfg = transformers.GPT2Config(vocab_size=VOCAB, n_embd=32, n_layer=2, n_head=4, n_positions=64, n_inner=48,
                                  resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, attn_implementation="sdpa")
    return transformers.GPT2LMHeadModel(cfg).eval()


def gpt2(manifest: list, rng) -> None:
    model = gpt2_model()

    path = OUT / "gpt2" / "model.onnx"
    ids = torch.from_numpy(rng.integers(1, VOCAB, size=(1, 6)).astype(np.int64))
    export(Logits(model), (ids,), path, ["input_ids"], ["logits"], {"input_ids": {0: "batch", 1: "sequence"}, "logits": {0: "batch", 1: "sequence"}})

    def check(feeds, outs):
        with torch.no_grad():
            ref = model(input_ids=torch.from_numpy(feeds["input_ids"]), use_cache=False).logits
        assert np.allclose(ref.numpy(), outs[0], atol=1e-4), "gpt2: onnxruntime disagrees with torch"

    cases = [{"input_ids": rng.integers(1, VOCAB, size=(b, s)).astype(np.int64)} for b, s in [(1, 6), (2, 11), (1, 1)]]
    finish("gpt2", path, cases, manifest, check)


def gpt2_past(manifest: list, rng) -> None:
    model = gpt2_model()
    layers, heads, head_dim = 2, 4, 8

    past_names, present_names, axes = cache_names(layers)
    past_len, seq = 3, 2
    ids = torch.from_numpy(rng.integers(1, VOCAB, size=(1, seq)).astype(np.int64))
    mask = torch.ones((1, past_len + seq), dtype=torch.int64)
    past = [torch.randn(1, heads, past_len, head_dim) for _ in past_names]
    path = OUT / "gpt2_past" / "model.onnx"
    export(WithPast(model, layers), (ids, mask, *past), path, ["input_ids", "attention_mask", *past_names], ["logits", *present_names], axes)

    def feeds(batch, past_len, seq):
        f = {"input_ids": rng.integers(1, VOCAB, size=(batch, seq)).astype(np.int64),
             "attention_mask": np.ones((batch, past_len + seq), dtype=np.int64)}
        for n in past_names:
            f[n] = rng.standard_normal((batch, heads, past_len, head_dim)).astype(np.float32)
        return f

    def check(f, outs):
        with torch.no_grad():
            ref = WithPast(model, layers)(*[torch.from_numpy(f[n]) for n in ["input_ids", "attention_mask", *past_names]])
        assert np.allclose(ref[0].numpy(), outs[0], atol=1e-4), "gpt2_past: onnxruntime disagrees with torch"

    # A prompt with an empty cache, then one-token steps on a cache.
    cases = [feeds(1, 0, 5), feeds(1, 5, 1), feeds(2, 3, 2)]
    finish("gpt2_past", path, cases, manifest, check)
    manifest[-1]["generate"] = greedy_reference(model, rng)


def greedy_reference(model, rng) -> dict:
    """torch's greedy continuation of a prompt whose every step's best logit leads the next by a
    clear margin (random weights give near ties; a tie could flip on float rounding)."""
    for _ in range(200):
        ids = rng.integers(1, VOCAB, size=(1, 4))
        with torch.no_grad():
            out = model.generate(torch.from_numpy(ids), max_new_tokens=10, do_sample=False, output_scores=True,
                                 return_dict_in_generate=True, pad_token_id=0)
        gaps = [float(torch.topk(sc[0], 2).values[0] - torch.topk(sc[0], 2).values[1]) for sc in out.scores]
        if min(gaps) > 2e-3:
            return {"prompt": ids[0].tolist(), "tokens": out.sequences[0].tolist(), "min_gap": min(gaps)}
    raise SystemExit("no prompt with clear greedy margins")


def vit(manifest: list, rng) -> None:
    torch.manual_seed(2)
    cfg = transformers.ViTConfig(image_size=16, patch_size=4, num_channels=3, hidden_size=32, num_hidden_layers=2,
                                 num_attention_heads=4, intermediate_size=37, num_labels=10, attn_implementation="eager")
    model = transformers.ViTForImageClassification(cfg).eval()

    class ImageLogits(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, pixel_values):
            return self.m(pixel_values=pixel_values).logits

    path = OUT / "vit" / "model.onnx"
    x = torch.from_numpy(rng.standard_normal((1, 3, 16, 16)).astype(np.float32))
    export(ImageLogits(model), (x,), path, ["pixel_values"], ["logits"], {"pixel_values": {0: "batch"}, "logits": {0: "batch"}})
    cases = [{"pixel_values": rng.standard_normal((b, 3, 16, 16)).astype(np.float32)} for b in (1, 3)]
    finish("vit", path, cases, manifest)


def llama(manifest: list, rng) -> None:
    torch.manual_seed(3)
    cfg = transformers.LlamaConfig(vocab_size=VOCAB, hidden_size=32, intermediate_size=48, num_hidden_layers=2, num_attention_heads=4,
                                   num_key_value_heads=2, max_position_embeddings=64, attn_implementation="sdpa")
    model = transformers.LlamaForCausalLM(cfg).eval()

    path = OUT / "llama" / "model.onnx"
    ids = torch.from_numpy(rng.integers(1, VOCAB, size=(1, 6)).astype(np.int64))
    export(Logits(model), (ids,), path, ["input_ids"], ["logits"], {"input_ids": {0: "batch", 1: "sequence"}, "logits": {0: "batch", 1: "sequence"}})

    def check(feeds, outs):
        with torch.no_grad():
            ref = model(input_ids=torch.from_numpy(feeds["input_ids"]), use_cache=False).logits
        assert np.allclose(ref.numpy(), outs[0], atol=1e-4), "llama: onnxruntime disagrees with torch"

    cases = [{"input_ids": rng.integers(1, VOCAB, size=(b, s)).astype(np.int64)} for b, s in [(1, 6), (2, 9)]]
    finish("llama", path, cases, manifest, check)


def contrib(manifest: list, rng) -> None:
    """Single com.microsoft nodes; each entry: name, op, attributes, [(input name, array)], output count."""
    from onnx import TensorProto, helper

    f32 = lambda *shape: rng.standard_normal(shape).astype(np.float32)  # noqa: E731
    i32 = lambda v: np.array(v, dtype=np.int32)  # noqa: E731
    angles = np.arange(16)[:, None] * (1.0 / 10000 ** (np.arange(0, 4) / 4))[None, :]
    cos8, sin8 = np.cos(angles).astype(np.float32), np.sin(angles).astype(np.float32)
    angles16 = np.arange(16)[:, None] * (1.0 / 10000 ** (np.arange(0, 8) / 8))[None, :]
    cos16, sin16 = np.cos(angles16).astype(np.float32), np.sin(angles16).astype(np.float32)
    # onnxruntime 1.20's CPU MultiHeadAttention ignores a key_padding_mask, and an attention_bias
    # broadcast over heads (probed: its output equals the unmasked one), so padding is given as an
    # additive attention_bias with every head.
    attn_bias = np.zeros((2, 4, 3, 5), dtype=np.float32)
    attn_bias[1, :, :, 3:] = -10000.0
    specs = [
        ("contrib_mha", "MultiHeadAttention", {"num_heads": 4},
         [("query", f32(2, 3, 16)), ("key", f32(2, 5, 16)), ("value", f32(2, 5, 16)), ("bias", f32(48)), ("", None), ("attention_bias", attn_bias)], 1),
        ("contrib_mha_past", "MultiHeadAttention", {"num_heads": 4, "unidirectional": 1},
         [("query", f32(1, 2, 16)), ("key", f32(1, 2, 16)), ("value", f32(1, 2, 16)), ("", None), ("", None), ("", None),
          ("past_key", f32(1, 4, 3, 4)), ("past_value", f32(1, 4, 3, 4))], 3),
        ("contrib_attention_past", "Attention", {"num_heads": 4, "unidirectional": 1},
         [("input", f32(1, 2, 16)), ("weights", f32(16, 48)), ("bias", f32(48)), ("mask_index", i32([[1, 1, 1, 1, 1]])), ("past", f32(2, 1, 4, 3, 4))], 2),
        ("contrib_gqa_prompt", "GroupQueryAttention", {"num_heads": 4, "kv_num_heads": 2, "do_rotary": 1},
         [("query", f32(1, 4, 64)), ("key", f32(1, 4, 32)), ("value", f32(1, 4, 32)), ("", None), ("", None),
          ("seqlens_k", i32([3])), ("total_sequence_length", i32(4)), ("cos_cache", cos16), ("sin_cache", sin16)], 3),
        ("contrib_gqa_decode", "GroupQueryAttention", {"num_heads": 4, "kv_num_heads": 2, "do_rotary": 1},
         [("query", f32(1, 1, 64)), ("key", f32(1, 1, 32)), ("value", f32(1, 1, 32)), ("past_key", f32(1, 2, 4, 16)), ("past_value", f32(1, 2, 4, 16)),
          ("seqlens_k", i32([4])), ("total_sequence_length", i32(5)), ("cos_cache", cos16), ("sin_cache", sin16)], 3),
        ("contrib_rotary", "RotaryEmbedding", {"num_heads": 2},
         [("input", f32(1, 3, 16)), ("position_ids", np.array([[2, 3, 4]], dtype=np.int64)), ("cos_cache", cos8), ("sin_cache", sin8)], 1),
        ("contrib_skip_simplified", "SkipSimplifiedLayerNormalization", {"epsilon": 1e-5},
         [("input", f32(2, 3, 8)), ("skip", f32(2, 3, 8)), ("gamma", f32(8))], 1),
        ("contrib_fast_gelu", "FastGelu", {}, [("X", f32(2, 5)), ("bias", f32(5))], 1),
        ("contrib_quick_gelu", "QuickGelu", {"alpha": 1.5}, [("X", f32(2, 5))], 1),
        ("contrib_gelu", "Gelu", {}, [("X", f32(2, 5))], 1),
    ]
    elem = {np.dtype(np.float32): TensorProto.FLOAT, np.dtype(np.int32): TensorProto.INT32, np.dtype(np.int64): TensorProto.INT64}
    for name, op, attrs, ins, n_out in specs:
        outs = [f"out_{i}" for i in range(n_out)]
        node = helper.make_node(op, [n for n, _ in ins], outs, domain="com.microsoft", **attrs)
        graph_inputs = [helper.make_tensor_value_info(n, elem[a.dtype], list(a.shape)) for n, a in ins if n]
        graph = helper.make_graph([node], name, graph_inputs, [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in outs])
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET), helper.make_opsetid("com.microsoft", 1)])
        path = OUT / name / "model.onnx"
        path.parent.mkdir(parents=True, exist_ok=True)
        onnx.save(model, str(path))
        finish(name, path, [{n: a for n, a in ins if n}], manifest)


def bench_models() -> None:
    """Larger models for the benchmark only (bench/models/, git-ignored): BERT-mini and GPT-2-mini
    sized (4 layers, d256, 4 heads, vocab 1000), GPT-2 also with past key/values."""
    out = REPO / "bench" / "models"
    torch.manual_seed(10)
    bert = transformers.BertModel(transformers.BertConfig(vocab_size=1000, hidden_size=256, num_hidden_layers=4, num_attention_heads=4,
                                                         intermediate_size=1024, max_position_embeddings=512, attn_implementation="eager")).eval()
    ids = torch.ones((1, 8), dtype=torch.int64)
    axes = {n: {0: "batch", 1: "sequence"} for n in ["input_ids", "attention_mask", "token_type_ids", "last_hidden_state"]}
    export(bert, (ids, ids, ids * 0), out / "bert_mini" / "model.onnx", ["input_ids", "attention_mask", "token_type_ids"], ["last_hidden_state", "pooler_output"], axes)
    gpt = transformers.GPT2LMHeadModel(transformers.GPT2Config(vocab_size=1000, n_embd=256, n_layer=4, n_head=4, n_positions=512, attn_implementation="sdpa")).eval()

    export(Logits(gpt), (ids,), out / "gpt2_mini" / "model.onnx", ["input_ids"], ["logits"], {"input_ids": {0: "batch", 1: "sequence"}, "logits": {0: "batch", 1: "sequence"}})
    layers, heads, head_dim = 4, 4, 64

    past_names, present_names, axes = cache_names(layers)
    past = [torch.randn(1, heads, 3, head_dim) for _ in past_names]
    export(WithPast(gpt, layers), (ids[:, :2], torch.ones((1, 5), dtype=torch.int64), *past), out / "gpt2_mini_past" / "model.onnx",
           ["input_ids", "attention_mask", *past_names], ["logits", *present_names], axes)
    print(f"[transformer_fixtures] wrote bench models to {out}")


def main() -> None:
    if "--bench" in sys.argv:
        bench_models()
        return
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    rng = np.random.default_rng(0)
    manifest: list = []
    source = bert(manifest, rng)
    bert_fused(manifest, rng, source)
    gpt2(manifest, rng)
    gpt2_past(manifest, rng)
    vit(manifest, rng)
    llama(manifest, rng)
    contrib(manifest, rng)
    (OUT / "manifest.json").write_text(json.dumps({"tools": EXPECTED, "opset": OPSET, "models": manifest}, indent=1) + "\n")
    (OUT / "README.md").write_text(
        "# Transformer ONNX fixtures\n\nMade by `scripts/transformer_fixtures.py` (torch, transformers, onnxruntime from PyPI; "
        "seeded random weights, tiny configs). References are onnxruntime's outputs. Do not edit by hand: rerun the script.\n")


if __name__ == "__main__":
    main()
