// Max and average pooling of NHWC images straight from the image (no patch matrix), and their
// gradients. Geometry: shaders/window.wgsl (prepended). {{STORE}} calls one of:
//   max_pool, avg_pool: one thread per output element. Padding never counts: max ignores it and
//     avg divides by the pixels inside the image (TF.js semantics).
//   max_pool_grad, avg_pool_grad: one thread per input pixel, gathering from the windows that
//     read it (no atomics). Max routes each window's gradient to its first maximum in scan order,
//     found again here exactly as the forward pass found it.
//   max_pool_grad_disjoint: when windows do not overlap (stride >= window, the usual 2x2/2), one
//     thread per window writes its gradient at its maximum into the zero-filled input gradient:
//     a quarter of the threads of the gather and none of its per-tap divisions.
// Bindings: x (the input image), dy (the output's gradient; the forward pass binds x there too,
// and does not read it), out (the pooled image, or the input's gradient).

@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> dy: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

// The max of window (n, oy, ox) in channel c, and where it is (flat y * w + x; -1 if the window
// lies wholly in the padding). NaN wins and stays, as in the reductions.
struct Best { v: f32, at: i32 };
fn window_max(n: u32, oy: u32, ox: u32, c: u32) -> Best {
    var best = Best(-f32_inf(), -1);
    for (var ky = 0u; ky < p.kh; ky = ky + 1u) {
        let iy = source_y(oy, ky);
        for (var kx = 0u; kx < p.kw; kx = kx + 1u) {
            let ix = source_x(ox, kx);
            if (!inside(iy, ix)) { continue; }
            let v = x[((n * p.h + u32(iy)) * p.w + u32(ix)) * p.c + c];
            if (best.at < 0 || v > best.v || (v != v && best.v == best.v)) {
                best = Best(v, iy * i32(p.w) + ix);
            }
        }
    }
    return best;
}

// Pixels of window (oy, ox) inside the image.
fn window_count(oy: u32, ox: u32) -> u32 {
    var count = 0u;
    for (var ky = 0u; ky < p.kh; ky = ky + 1u) {
        for (var kx = 0u; kx < p.kw; kx = kx + 1u) {
            if (inside(source_y(oy, ky), source_x(ox, kx))) { count = count + 1u; }
        }
    }
    return count;
}

// Output index t = ((n * oh + oy) * ow + ox) * c + ch.
fn max_pool(t: u32) -> f32 {
    let c = t % p.c;
    let r = t / p.c;
    return window_max(r / (p.oh * p.ow), (r / p.ow) % p.oh, r % p.ow, c).v;
}

fn avg_pool(t: u32) -> f32 {
    let c = t % p.c;
    let r = t / p.c;
    let n = r / (p.oh * p.ow);
    let oy = (r / p.ow) % p.oh;
    let ox = r % p.ow;
    var sum = 0.0;
    for (var ky = 0u; ky < p.kh; ky = ky + 1u) {
        let iy = source_y(oy, ky);
        for (var kx = 0u; kx < p.kw; kx = kx + 1u) {
            let ix = source_x(ox, kx);
            if (inside(iy, ix)) { sum = sum + x[((n * p.h + u32(iy)) * p.w + u32(ix)) * p.c + c]; }
        }
    }
    return sum / f32(max(window_count(oy, ox), 1u));
}

// Input index t = ((n * h + y) * w + x) * c + ch.
fn max_pool_grad(t: u32) -> f32 {
    let at = image_coords(t);
    let n = at.x;
    let py = at.y;
    let px = at.z;
    let c = at.w;
    let me = i32(py * p.w + px);
    var acc = 0.0;
    for (var ky = 0u; ky < p.kh; ky = ky + 1u) {
        let oy = reader_y(py, ky);
        if (oy < 0) { continue; }
        for (var kx = 0u; kx < p.kw; kx = kx + 1u) {
            let ox = reader_x(px, kx);
            if (ox < 0) { continue; }
            if (window_max(n, u32(oy), u32(ox), c).at == me) {
                acc = acc + dy[((n * p.oh + u32(oy)) * p.ow + u32(ox)) * p.c + c];
            }
        }
    }
    return acc;
}

fn max_pool_grad_disjoint(t: u32) {
    let c = t % p.c;
    let r = t / p.c;
    let n = r / (p.oh * p.ow);
    let at = window_max(n, (r / p.ow) % p.oh, r % p.ow, c).at;
    if (at >= 0) { out[(n * p.h * p.w + u32(at)) * p.c + c] = dy[t]; }
}

fn avg_pool_grad(t: u32) -> f32 {
    let at = image_coords(t);
    let n = at.x;
    let py = at.y;
    let px = at.z;
    let c = at.w;
    var acc = 0.0;
    for (var ky = 0u; ky < p.kh; ky = ky + 1u) {
        let oy = reader_y(py, ky);
        if (oy < 0) { continue; }
        for (var kx = 0u; kx < p.kw; kx = kx + 1u) {
            let ox = reader_x(px, kx);
            if (ox < 0) { continue; }
            let g = dy[((n * p.oh + u32(oy)) * p.ow + u32(ox)) * p.c + c];
            acc = acc + g / f32(max(window_count(u32(oy), u32(ox)), 1u));
        }
    }
    return acc;
}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let t = thread_index(gid, nwg);
    if (t >= p.total) { return; }
    {{STORE}};
}
