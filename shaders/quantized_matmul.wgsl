// Weight-only quantized matmul (src/ops/quantized_matmul.rs). W [k, n] is held transposed as
// codes [n, blocks, words]: `bits`-bit codes, lowest bits first, `block` codes a block; a code c
// of block (col, b) stands for (c - zero) * scale. Codes are dequantized in registers. 16-bit
// codes are half-precision values (`decode`), zero 0 unless given.
// MODE (defined by the prelude): 0 out[m, n] = x[m, k] W; 1 out[m, k] = x[m, n] W^T; 2 out[n, k] = W^T;
// 3 out[m, k] = the columns of W named by x[m] (int32 ids, read by bits; out of range: zeros).
// Modes 0 and 1 give each thread one output column and up to four rows, so every weight value
// read and dequantized serves four rows.

fn zero_of(at: u32) -> f32 {
    if (p.has_zero != 0u) {
        return zero_points[at];
    }
    if (p.bits == 16u) { return 0.0; }
    return f32(1u << (p.bits - 1u));
}

// A code's value before its zero and scale: the integer, or the half it holds.
fn decode(code: u32) -> f32 {
    if (p.bits == 16u) { return f16_value(code); }
    return f32(code);
}

// The value of W at (kk, col).
fn weight(kk: u32, col: u32) -> f32 {
    let b = kk / p.block;
    let at = col * p.blocks + b;
    let e = kk % p.block;
    let per = 32u / p.bits;
    let word = codes[at * p.words + e / per];
    let code = (word >> (p.bits * (e % per))) & ((1u << p.bits) - 1u);
    return (decode(code) - zero_of(at)) * scales[at];
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let t = gid.x + gid.y * nwg.x * 64u;
    if (MODE == 2u) {
        // One thread a word of codes: its 8 or 4 values of one column, one division for all.
        let words = p.blocks * p.words;
        if (t >= p.n * words) { return; }
        let col = t / words;
        let b = (t % words) / p.words;
        let per = 32u / p.bits;
        let k0 = b * p.block + (t % p.words) * per;
        let at = col * p.blocks + b;
        let zero = zero_of(at);
        let scale = scales[at];
        let word = codes[t];
        for (var e = 0u; e < per && k0 + e < p.k; e++) {
            let code = (word >> (p.bits * e)) & ((1u << p.bits) - 1u);
            out[col * p.k + k0 + e] = (decode(code) - zero) * scale;
        }
        return;
    }
    if (MODE == 3u) {
        if (t >= p.m * p.k) { return; }
        let id = bitcast<i32>(x[t / p.k]);
        if (id < 0 || u32(id) >= p.n) {
            out[t] = 0.0;
            return;
        }
        out[t] = weight(t % p.k, u32(id));
        return;
    }
    // Columns of the output: n for x W, k for x W^T; the reduction runs over the other.
    let cols = select(p.k, p.n, MODE == 0u);
    let inner = select(p.n, p.k, MODE == 0u);
    let tiles = (p.m + 3u) / 4u;
    if (t >= cols * tiles) { return; }
    let col = t % cols;
    let r0 = (t / cols) * 4u;
    // Rows past m re-read the last row; their sums are not written.
    let x0 = min(r0, p.m - 1u) * inner;
    let x1 = min(r0 + 1u, p.m - 1u) * inner;
    let x2 = min(r0 + 2u, p.m - 1u) * inner;
    let x3 = min(r0 + 3u, p.m - 1u) * inner;
    var acc = vec4<f32>(0.0);
    if (MODE == 0u) {
        let per = 32u / p.bits;
        let mask = (1u << p.bits) - 1u;
        for (var b = 0u; b < p.blocks; b++) {
            let at = col * p.blocks + b;
            let scale = scales[at];
            let zero = zero_of(at);
            let k0 = b * p.block;
            let len = min(p.block, p.k - k0);
            for (var w = 0u; w * per < len; w++) {
                let word = codes[at * p.words + w];
                for (var e = 0u; e < per; e++) {
                    let kk = k0 + w * per + e;
                    if (kk >= p.k) { break; }
                    let v = (decode((word >> (p.bits * e)) & mask) - zero) * scale;
                    acc += vec4<f32>(x[x0 + kk], x[x1 + kk], x[x2 + kk], x[x3 + kk]) * v;
                }
            }
        }
    } else {
        for (var j = 0u; j < p.n; j++) {
            let v = weight(col, j);
            acc += vec4<f32>(x[x0 + j], x[x1 + j], x[x2 + j], x[x3 + j]) * v;
        }
    }
    for (var r = 0u; r < 4u; r++) {
        if (r0 + r < p.m) {
            out[(r0 + r) * cols + col] = acc[r];
        }
    }
}
