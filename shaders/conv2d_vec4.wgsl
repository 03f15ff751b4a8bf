// conv2d (NHWC image x, filter f [kh, kw, c, co]) and its gradients, reading channels as vec4s:
// for images whose channels and filters whose outputs come in fours. Geometry:
// shaders/window.wgsl. The prelude's mode(t) calls one of:
//   forward: out[pixel, co] = sum over taps and ci of x[window pixel, ci] * f[tap, ci, co]. Each
//     thread computes 4 pixels x 4 output channels: per 4 input channels, 4 vec4s of x and 4 of f
//     feed 64 multiply-adds (conv2d.wgsl's scalar kernel: 8 loads per 16).
//   filter_grad: partial[split, (ky, kx, ci), co] = sum over the split's output pixels of
//     x[pixel read at (ky, kx), ci] * dy[pixel, co]. One thread per (split, tap, 4 input
//     channels, 8 output channels): per pixel one vec4 of x and two of dy feed 32 multiply-adds
//     (the scalar kernel in conv2d.wgsl does 4 per 5 loads). The caller sums the splits.
//   input_grad: dx[pixel, ci] = sum over the taps (ky, kx) whose output (oy, ox) reads the pixel,
//     and over co, of dy[(oy, ox), co] * f[ky, kx, ci, co]: the transposed convolution, as a gather
//     (each thread owns 4 pixels x 4 channels; no atomics, no patch matrix, no col2im).
// Buffers (declared by the prelude, of vec4<f32> but out): x (forward, filter_grad: the image;
// input_grad: dy), y (forward, input_grad: the filter; filter_grad: dy), out.

fn forward(t: u32) {
    let c4 = p.c / 4u;
    let co4 = p.co / 4u;
    let cq = t % co4;
    let r0 = (t / co4) * 4u;
    let npix = p.n * p.oh * p.ow;
    if (r0 >= npix) { return; }
    // Per pixel j: the image's start (in vec4s) and the window's corner (may be in the padding).
    var base: vec4<u32>;
    var y0: vec4<i32>;
    var x0: vec4<i32>;
    for (var j = 0u; j < 4u; j = j + 1u) {
        let r = min(r0 + j, npix - 1u);
        base[j] = r / (p.ow * p.oh) * p.h * p.w * c4;
        y0[j] = source_y((r / p.ow) % p.oh, 0u);
        x0[j] = source_x(r % p.ow, 0u);
    }
    var acc0 = vec4<f32>(0.0);
    var acc1 = vec4<f32>(0.0);
    var acc2 = vec4<f32>(0.0);
    var acc3 = vec4<f32>(0.0);
    let h = vec4<i32>(i32(p.h));
    let w = vec4<i32>(i32(p.w));
    for (var ky = 0u; ky < KH; ky = ky + 1u) {
        let iy = y0 + vec4<i32>(i32(ky * p.dh));
        for (var kx = 0u; kx < KW; kx = kx + 1u) {
            let ix = x0 + vec4<i32>(i32(kx * p.dw));
            let valid = (iy >= vec4<i32>(0)) & (iy < h) & (ix >= vec4<i32>(0)) & (ix < w);
            let off = select(vec4<u32>(0u), base + vec4<u32>(iy * w + ix) * c4, valid);
            let keep = select(vec4<f32>(0.0), vec4<f32>(1.0), valid);
            // f[ky, kx, ci, 4cq .. 4cq + 3] is vec4 (tap * c + ci) * co4 + cq.
            var f_at = (ky * KW + kx) * p.c * co4 + cq;
            for (var q = 0u; q < c4; q = q + 1u) {
                let f0 = y[f_at];
                let f1 = y[f_at + co4];
                let f2 = y[f_at + 2u * co4];
                let f3 = y[f_at + 3u * co4];
                let v0 = x[off.x + q] * keep.x;
                let v1 = x[off.y + q] * keep.y;
                let v2 = x[off.z + q] * keep.z;
                let v3 = x[off.w + q] * keep.w;
                acc0 = fma(vec4<f32>(v0.x), f0, fma(vec4<f32>(v0.y), f1, fma(vec4<f32>(v0.z), f2, fma(vec4<f32>(v0.w), f3, acc0))));
                acc1 = fma(vec4<f32>(v1.x), f0, fma(vec4<f32>(v1.y), f1, fma(vec4<f32>(v1.z), f2, fma(vec4<f32>(v1.w), f3, acc1))));
                acc2 = fma(vec4<f32>(v2.x), f0, fma(vec4<f32>(v2.y), f1, fma(vec4<f32>(v2.z), f2, fma(vec4<f32>(v2.w), f3, acc2))));
                acc3 = fma(vec4<f32>(v3.x), f0, fma(vec4<f32>(v3.y), f1, fma(vec4<f32>(v3.z), f2, fma(vec4<f32>(v3.w), f3, acc3))));
                f_at = f_at + 4u * co4;
            }
        }
    }
    var rows = array<vec4<f32>, 4>(acc0, acc1, acc2, acc3);
    for (var j = 0u; j < 4u; j = j + 1u) {
        if (r0 + j < npix) {
            let o = (r0 + j) * p.co + cq * 4u;
            out[o] = rows[j].x; out[o + 1u] = rows[j].y; out[o + 2u] = rows[j].z; out[o + 3u] = rows[j].w;
        }
    }
}

fn filter_grad(t: u32) {
    let c4 = p.c / 4u;
    let co4 = p.co / 4u;
    let blocks = (p.co + 7u) / 8u;
    let taps = KH * KW;
    let co0 = (t % blocks) * 8u;
    let q = (t / blocks) % c4;
    let tap = (t / blocks / c4) % taps;
    let split = t / blocks / c4 / taps;
    let kx = tap % KW;
    let ky = tap / KW;
    // The two dy vec4s of this thread's 8 output channels (the second clamped when co % 8 == 4).
    let d0 = co0 / 4u;
    let d1 = min(co0 / 4u + 1u, co4 - 1u);
    let npix = p.n * p.oh * p.ow;
    let start = split * p.chunk;
    let end = min(start + p.chunk, npix);
    var n = start / (p.oh * p.ow);
    var oy = (start / p.ow) % p.oh;
    var ox = start % p.ow;
    var a00 = vec4<f32>(0.0); var a01 = vec4<f32>(0.0);
    var a10 = vec4<f32>(0.0); var a11 = vec4<f32>(0.0);
    var a20 = vec4<f32>(0.0); var a21 = vec4<f32>(0.0);
    var a30 = vec4<f32>(0.0); var a31 = vec4<f32>(0.0);
    for (var r = start; r < end; r = r + 1u) {
        let iy = source_y(oy, ky);
        let ix = source_x(ox, kx);
        if (inside(iy, ix)) {
            let xv = x[((n * p.h + u32(iy)) * p.w + u32(ix)) * c4 + q];
            let g0 = y[r * co4 + d0];
            let g1 = y[r * co4 + d1];
            a00 = fma(vec4<f32>(xv.x), g0, a00); a01 = fma(vec4<f32>(xv.x), g1, a01);
            a10 = fma(vec4<f32>(xv.y), g0, a10); a11 = fma(vec4<f32>(xv.y), g1, a11);
            a20 = fma(vec4<f32>(xv.z), g0, a20); a21 = fma(vec4<f32>(xv.z), g1, a21);
            a30 = fma(vec4<f32>(xv.w), g0, a30); a31 = fma(vec4<f32>(xv.w), g1, a31);
        }
        ox = ox + 1u;
        if (ox == p.ow) {
            ox = 0u;
            oy = oy + 1u;
            if (oy == p.oh) { oy = 0u; n = n + 1u; }
        }
    }
    var acc = array<vec4<f32>, 8>(a00, a01, a10, a11, a20, a21, a30, a31);
    let row0 = split * taps * p.c + tap * p.c + q * 4u;
    for (var i = 0u; i < 4u; i = i + 1u) {
        for (var j = 0u; j < 8u; j = j + 1u) {
            if (co0 + j < p.co) { out[(row0 + i) * p.co + co0 + j] = acc[2u * i + j / 4u][j % 4u]; }
        }
    }
}

// The output row reading input row iy at tap ky, or -1 (source_y's inverse, in i32).
fn reader(i: i32, pad: u32, k: u32, dil: u32, stride: u32, limit: u32) -> i32 {
    let t = i + i32(pad) - i32(k * dil);
    if (t < 0 || t % i32(stride) != 0 || t / i32(stride) >= i32(limit)) { return -1; }
    return t / i32(stride);
}

fn input_grad(t: u32) {
    let c4 = p.c / 4u;
    let co4 = p.co / 4u;
    let q = t % c4;
    let r0 = (t / c4) * 4u;
    let npix = p.n * p.h * p.w;
    if (r0 >= npix) { return; }
    var py: vec4<i32>;
    var px: vec4<i32>;
    var img: vec4<u32>;
    for (var j = 0u; j < 4u; j = j + 1u) {
        let pix = min(r0 + j, npix - 1u);
        px[j] = i32(pix % p.w);
        py[j] = i32((pix / p.w) % p.h);
        img[j] = pix / (p.w * p.h) * p.oh * p.ow;
    }
    var acc0 = vec4<f32>(0.0);
    var acc1 = vec4<f32>(0.0);
    var acc2 = vec4<f32>(0.0);
    var acc3 = vec4<f32>(0.0);
    for (var ky = 0u; ky < KH; ky = ky + 1u) {
        for (var kx = 0u; kx < KW; kx = kx + 1u) {
            // Where each pixel's dy row starts for this tap (in vec4s), and whether one reads it.
            var base: vec4<u32>;
            var keep: vec4<f32>;
            for (var j = 0u; j < 4u; j = j + 1u) {
                let oy = reader(py[j], p.pt, ky, p.dh, p.sh, p.oh);
                let ox = reader(px[j], p.pl, kx, p.dw, p.sw, p.ow);
                let ok = oy >= 0 && ox >= 0;
                base[j] = select(0u, (img[j] + u32(oy) * p.ow + u32(ox)) * co4, ok);
                keep[j] = select(0.0, 1.0, ok);
            }
            // f[ky, kx, 4q + i, :] as vec4s along co.
            let w_base = ((ky * KW + kx) * p.c + q * 4u) * co4;
            for (var cq = 0u; cq < co4; cq = cq + 1u) {
                let w0 = y[w_base + cq];
                let w1 = y[w_base + co4 + cq];
                let w2 = y[w_base + 2u * co4 + cq];
                let w3 = y[w_base + 3u * co4 + cq];
                let g0 = x[base.x + cq] * keep.x;
                let g1 = x[base.y + cq] * keep.y;
                let g2 = x[base.z + cq] * keep.z;
                let g3 = x[base.w + cq] * keep.w;
                acc0 = acc0 + vec4<f32>(dot(g0, w0), dot(g0, w1), dot(g0, w2), dot(g0, w3));
                acc1 = acc1 + vec4<f32>(dot(g1, w0), dot(g1, w1), dot(g1, w2), dot(g1, w3));
                acc2 = acc2 + vec4<f32>(dot(g2, w0), dot(g2, w1), dot(g2, w2), dot(g2, w3));
                acc3 = acc3 + vec4<f32>(dot(g3, w0), dot(g3, w1), dot(g3, w2), dot(g3, w3));
            }
        }
    }
    var rows = array<vec4<f32>, 4>(acc0, acc1, acc2, acc3);
    for (var j = 0u; j < 4u; j = j + 1u) {
        if (r0 + j < npix) {
            let o = (r0 + j) * p.c + q * 4u;
            out[o] = rows[j].x; out[o + 1u] = rows[j].y; out[o + 2u] = rows[j].z; out[o + 3u] = rows[j].w;
        }
    }
}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let t = thread_index(gid, nwg);
    if (t >= p.total) { return; }
    mode(t);
}
