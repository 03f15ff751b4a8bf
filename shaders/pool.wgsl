// Max and average pooling of NHWC images straight from the image (no patch matrix), and their
// gradients, over the window geometry (shaders/window.wgsl). The prelude's store(t) calls one of:
//   max_pool, avg_pool: one thread per output element. Padding never counts: max ignores it and
//     avg divides by the pixels inside the image (TF.js semantics).
//   pool_grad (max or avg): one thread per input pixel, gathering from the windows that
//     read it (no atomics). Max routes each window's gradient to its first maximum in scan order,
//     found again here exactly as the forward pass found it.
//   max_pool_grad_disjoint: when windows do not overlap (stride >= window, the usual 2x2/2), one
//     thread per window writes its gradient at its maximum into the zero-filled input gradient:
//     a quarter of the threads of the gather and none of its per-tap divisions.
//   max_pool_grad_tiles: when the windows tile the image exactly, the same, writing its zeros too
//     (no zero fill first).
// Inputs (declared by the prelude): load_x(i), the input image (a buffer, or a fused expression
// computed in place); dy, the output's gradient (bound but not read by the forward pass); out, the
// pooled image or the input's gradient.

// The max of window (n, oy, ox) in channel c, and where it is (flat y * w + x; -1 if the window
// lies wholly in the padding). NaN wins and stays, as in the reductions.
struct Best { v: f32, at: i32 };
fn window_max(n: u32, oy: u32, ox: u32, c: u32) -> Best {
    var best = Best(-f32_inf(), -1);
    for (var ky = 0u; ky < KH; ky = ky + 1u) {
        let iy = source_y(oy, ky);
        for (var kx = 0u; kx < KW; kx = kx + 1u) {
            let ix = source_x(ox, kx);
            if (!inside(iy, ix)) { continue; }
            let v = load_x(((n * p.h + u32(iy)) * p.w + u32(ix)) * p.c + c);
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
    for (var ky = 0u; ky < KH; ky = ky + 1u) {
        for (var kx = 0u; kx < KW; kx = kx + 1u) {
            if (inside(source_y(oy, ky), source_x(ox, kx))) { count = count + 1u; }
        }
    }
    return count;
}

// Output index t = ((n * oh + oy) * ow + ox) * c + ch.
fn max_pool(t: u32) -> f32 {
    let o = output_coords(t);
    return window_max(o.x, o.y, o.z, o.w).v;
}

fn avg_pool(t: u32) -> f32 {
    let o = output_coords(t);
    var sum = 0.0;
    for (var ky = 0u; ky < KH; ky = ky + 1u) {
        let iy = source_y(o.y, ky);
        for (var kx = 0u; kx < KW; kx = kx + 1u) {
            let ix = source_x(o.z, kx);
            if (inside(iy, ix)) { sum = sum + load_x(((o.x * p.h + u32(iy)) * p.w + u32(ix)) * p.c + o.w); }
        }
    }
    return sum / f32(max(window_count(o.y, o.z), 1u));
}

// Input index t = ((n * h + y) * w + x) * c + ch: the sum over the windows that read this pixel
// of their gradient's share, all of it to a window's maximum (max) or 1 / its pixel count (avg).
fn pool_grad(t: u32, is_max: bool) -> f32 {
    let at = image_coords(t);
    let n = at.x;
    let c = at.w;
    let me = i32(at.y * p.w + at.z);
    var acc = 0.0;
    for (var ky = 0u; ky < KH; ky = ky + 1u) {
        let oy = reader_y(at.y, ky);
        if (oy < 0) { continue; }
        for (var kx = 0u; kx < KW; kx = kx + 1u) {
            let ox = reader_x(at.z, kx);
            if (ox < 0) { continue; }
            let g = dy[((n * p.oh + u32(oy)) * p.ow + u32(ox)) * p.c + c];
            if (is_max) {
                if (window_max(n, u32(oy), u32(ox), c).at == me) { acc = acc + g; }
            } else {
                acc = acc + g / f32(max(window_count(u32(oy), u32(ox)), 1u));
            }
        }
    }
    return acc;
}

fn max_pool_grad_disjoint(t: u32) {
    let o = output_coords(t);
    let at = window_max(o.x, o.y, o.z, o.w).at;
    if (at >= 0) { out[(o.x * p.h * p.w + u32(at)) * p.c + o.w] = dy[t]; }
}

fn max_pool_grad_tiles(t: u32) {
    let o = output_coords(t);
    let at = window_max(o.x, o.y, o.z, o.w).at;
    for (var ky = 0u; ky < KH; ky = ky + 1u) {
        let iy = source_y(o.y, ky);
        for (var kx = 0u; kx < KW; kx = kx + 1u) {
            let ix = source_x(o.z, kx);
            out[((o.x * p.h + u32(iy)) * p.w + u32(ix)) * p.c + o.w] = select(0.0, dy[t], iy * i32(p.w) + ix == at);
        }
    }
}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let t = thread_index(gid, nwg);
    if (t >= p.total) { return; }
    store(t);
}
