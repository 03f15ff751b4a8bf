// Weight-only quantized matmul out[m, n] = x[m, k] W (src/ops/quantized_matmul.rs), reading x as
// vec4s: for k a multiple of the codes a word holds (8 at 4 bits, 4 at 8 bits; 4 for halves, two
// words a vec4), each word's codes unpack into one or two vec4s by vector shifts, and each row
// takes them in dot products. One
// thread per output column and up to four rows; rows past the first are skipped when m is 1 (a
// decoding step), so the weight is read and unpacked once per column.
// Buffers (declared by the prelude): out (f32), x (vec4<f32>), codes (u32), scales, zero_points (f32).

fn zero_of(at: u32) -> f32 {
    if (p.has_zero != 0u) {
        return zero_points[at];
    }
    if (p.bits == 16u) { return 0.0; }
    return f32(1u << (p.bits - 1u));
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let t = gid.x + gid.y * nwg.x * 64u;
    let tiles = (p.m + 3u) / 4u;
    if (t >= p.n * tiles) { return; }
    let col = t % p.n;
    let r0 = (t / p.n) * 4u;
    let rows = min(4u, p.m - r0);
    let k4 = p.k / 4u;
    // Rows past m re-read the last row; their sums are not written.
    let x0 = r0 * k4;
    let x1 = min(r0 + 1u, p.m - 1u) * k4;
    let x2 = min(r0 + 2u, p.m - 1u) * k4;
    let x3 = min(r0 + 3u, p.m - 1u) * k4;
    let per = 32u / p.bits;
    var acc = vec4<f32>(0.0);
    for (var b = 0u; b < p.blocks; b++) {
        let at = col * p.blocks + b;
        let scale = scales[at];
        let zero = vec4<f32>(zero_of(at));
        // Whole words only: k is a multiple of `per`, so the last block's padding words are skipped.
        let count = min(p.words, (p.k - b * p.block) / per);
        if (p.bits == 16u) {
            // Halves: two words make the vec4 of four k.
            for (var i = 0u; i + 1u < count; i += 2u) {
                let w0 = codes[at * p.words + i];
                let w1 = codes[at * p.words + i + 1u];
                let q = (vec4<f32>(f16_value(w0 & 0xffffu), f16_value(w0 >> 16u), f16_value(w1 & 0xffffu), f16_value(w1 >> 16u)) - zero) * scale;
                let kq = (b * p.block + i * 2u) / 4u;
                acc.x += dot(x[x0 + kq], q);
                if (rows > 1u) {
                    acc.y += dot(x[x1 + kq], q);
                    acc.z += dot(x[x2 + kq], q);
                    acc.w += dot(x[x3 + kq], q);
                }
            }
            continue;
        }
        for (var i = 0u; i < count; i++) {
            let word = codes[at * p.words + i];
            let kq = (b * p.block + i * per) / 4u;
            if (p.bits == 4u) {
                let q0 = (vec4<f32>((vec4<u32>(word) >> vec4<u32>(0u, 4u, 8u, 12u)) & vec4<u32>(15u)) - zero) * scale;
                let q1 = (vec4<f32>((vec4<u32>(word) >> vec4<u32>(16u, 20u, 24u, 28u)) & vec4<u32>(15u)) - zero) * scale;
                acc.x += dot(x[x0 + kq], q0) + dot(x[x0 + kq + 1u], q1);
                if (rows > 1u) {
                    acc.y += dot(x[x1 + kq], q0) + dot(x[x1 + kq + 1u], q1);
                    acc.z += dot(x[x2 + kq], q0) + dot(x[x2 + kq + 1u], q1);
                    acc.w += dot(x[x3 + kq], q0) + dot(x[x3 + kq + 1u], q1);
                }
            } else {
                let q = (vec4<f32>((vec4<u32>(word) >> vec4<u32>(0u, 8u, 16u, 24u)) & vec4<u32>(255u)) - zero) * scale;
                acc.x += dot(x[x0 + kq], q);
                if (rows > 1u) {
                    acc.y += dot(x[x1 + kq], q);
                    acc.z += dot(x[x2 + kq], q);
                    acc.w += dot(x[x3 + kq], q);
                }
            }
        }
    }
    for (var r = 0u; r < rows; r++) {
        out[(r0 + r) * p.n + col] = acc[r];
    }
}
