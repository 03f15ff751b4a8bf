// Quantizes W [k, n] (float32, row-major) into the layout of src/ops/quantized_matmul.rs: one
// thread per block (column col, block b) finds the block's scale and zero point, as
// QuantizedMatrix::quantize does on the host, and packs its codes into `words` words.
// Buffers (declared by the prelude): codes (u32, written), scales, zeros (f32, written: zeros only
// when asymmetric), w (f32).

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let t = gid.x + gid.y * nwg.x * 64u;
    if (t >= p.n * p.blocks) { return; }
    let col = t / p.blocks;
    let r0 = (t % p.blocks) * p.block;
    let r1 = min(r0 + p.block, p.k);
    let levels = f32((1u << p.bits) - 1u);
    var scale: f32;
    var zero: f32;
    if (p.symmetric != 0u) {
        var absmax = 0.0;
        for (var r = r0; r < r1; r++) {
            absmax = max(absmax, abs(w[r * p.n + col]));
        }
        scale = absmax / f32((1u << (p.bits - 1u)) - 1u);
        zero = f32(1u << (p.bits - 1u));
    } else {
        var lo = 0.0;
        var hi = 0.0;
        for (var r = r0; r < r1; r++) {
            lo = min(lo, w[r * p.n + col]);
            hi = max(hi, w[r * p.n + col]);
        }
        scale = (hi - lo) / levels;
        zero = select(0.0, clamp(round(-lo / scale), 0.0, levels), scale > 0.0);
        zeros[t] = zero;
    }
    scales[t] = scale;
    let per = 32u / p.bits;
    for (var i = 0u; i < p.words; i++) {
        var word = 0u;
        for (var e = 0u; e < per; e++) {
            let r = r0 + i * per + e;
            if (r < r1) {
                let q = select(zero, round(w[r * p.n + col] / scale) + zero, scale > 0.0);
                word |= u32(clamp(q, 0.0, levels)) << (p.bits * e);
            }
        }
        codes[t * p.words + i] = word;
    }
}
