// Convolution of NHWC images with a [kh, kw, c, co] filter, read straight from the image (an
// implicit GEMM: no patch matrix is written), over the window geometry (shaders/window.wgsl). The
// prelude's mode(t) calls one of:
//   conv2d: out[pixel, co] = sum over (ky, kx, ci) of x[window pixel, ci] * f[ky, kx, ci, co].
//     Each thread computes 4 output pixels x 4 output channels in four vec4 registers, like
//     matmul_direct.wgsl, with the taps walked by nested loops (no division in the inner loop).
//   conv2d_filter_grad: partial[split, (ky, kx, ci), co] = sum over the split's chunk of output pixels of
//     x[window pixel at (ky, kx), ci] * dy[pixel, co]. One thread per (split, tap row, 4 channels);
//     the caller sums the splits. The reduction runs over every output pixel (often 10^4-10^5),
//     so splitting it is what gives the GPU enough threads.
// Buffers (declared by the prelude): x (the image), y (the filter for conv2d, dy for
// conv2d_filter_grad), out.

fn pixels() -> u32 { return p.n * p.oh * p.ow; }

// Output channels co0..co0+3, clamped to the last one (extra lanes are computed, never written).
fn channels(co0: u32) -> vec4<u32> {
    let last = p.co - 1u;
    return vec4<u32>(min(co0, last), min(co0 + 1u, last), min(co0 + 2u, last), min(co0 + 3u, last));
}

fn conv2d(t: u32) {
    let blocks = (p.co + 3u) / 4u;
    let co0 = (t % blocks) * 4u;
    let r0 = (t / blocks) * 4u;
    let npix = pixels();
    if (r0 >= npix) { return; }
    let cn = channels(co0);
    // Per row j: the image's start, and the window's top-left corner (may lie in the padding).
    var base: vec4<u32>;
    var y0: vec4<i32>;
    var x0: vec4<i32>;
    for (var j = 0u; j < 4u; j = j + 1u) {
        let r = min(r0 + j, npix - 1u);
        let ox = r % p.ow;
        let oy = (r / p.ow) % p.oh;
        base[j] = r / (p.ow * p.oh) * p.h * p.w * p.c;
        y0[j] = source_y(oy, 0u);
        x0[j] = source_x(ox, 0u);
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
            // Rows whose tap lies in the padding read element 0 and are masked to 0.
            let off = select(vec4<u32>(0u), base + vec4<u32>(iy * w + ix) * p.c, valid);
            let keep = select(vec4<f32>(0.0), vec4<f32>(1.0), valid);
            var frow = (ky * KW + kx) * p.c * p.co;
            for (var ci = 0u; ci < p.c; ci = ci + 1u) {
                let a = vec4<f32>(x[off.x + ci], x[off.y + ci], x[off.z + ci], x[off.w + ci]) * keep;
                let f = vec4<f32>(y[frow + cn.x], y[frow + cn.y], y[frow + cn.z], y[frow + cn.w]);
                acc0 = fma(vec4<f32>(a.x), f, acc0);
                acc1 = fma(vec4<f32>(a.y), f, acc1);
                acc2 = fma(vec4<f32>(a.z), f, acc2);
                acc3 = fma(vec4<f32>(a.w), f, acc3);
                frow = frow + p.co;
            }
        }
    }
    var rows = array<vec4<f32>, 4>(acc0, acc1, acc2, acc3);
    for (var j = 0u; j < 4u; j = j + 1u) {
        if (r0 + j < npix) {
            for (var q = 0u; q < 4u; q = q + 1u) {
                if (co0 + q < p.co) { out[(r0 + j) * p.co + co0 + q] = rows[j][q]; }
            }
        }
    }
}

fn conv2d_filter_grad(t: u32) {
    let blocks = (p.co + 3u) / 4u;
    let co0 = (t % blocks) * 4u;
    let taps = KH * KW * p.c;
    let row = (t / blocks) % taps;
    let split = t / blocks / taps;
    let ci = row % p.c;
    let kx = (row / p.c) % KW;
    let ky = row / p.c / KW;
    let cn = channels(co0);
    let npix = pixels();
    let start = split * p.chunk;
    let end = min(start + p.chunk, npix);
    // Walk the chunk's pixels with counters (no division per pixel).
    var n = start / (p.oh * p.ow);
    var oy = (start / p.ow) % p.oh;
    var ox = start % p.ow;
    var acc = vec4<f32>(0.0);
    for (var r = start; r < end; r = r + 1u) {
        let iy = source_y(oy, ky);
        let ix = source_x(ox, kx);
        if (inside(iy, ix)) {
            let a = x[((n * p.h + u32(iy)) * p.w + u32(ix)) * p.c + ci];
            let d = r * p.co;
            acc = fma(vec4<f32>(a), vec4<f32>(y[d + cn.x], y[d + cn.y], y[d + cn.z], y[d + cn.w]), acc);
        }
        ox = ox + 1u;
        if (ox == p.ow) {
            ox = 0u;
            oy = oy + 1u;
            if (oy == p.oh) { oy = 0u; n = n + 1u; }
        }
    }
    let o = (split * taps + row) * p.co + co0;
    for (var q = 0u; q < 4u; q = q + 1u) {
        if (co0 + q < p.co) { out[o + q] = acc[q]; }
    }
}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let t = thread_index(gid, nwg);
    if (t >= p.total) { return; }
    mode(t);
}
