// im2col / col2im for NHWC convolutions, over the window geometry (shaders/window.wgsl). The
// prelude's mode(t) picks which, into dst from src:
//   im2col: cols[(n, oh, ow), kh, kw, c] = x[n, oh*sh - pt + kh*dh, ow*sw - pl + kw*dw, c], or
//           pad_value outside the image. One thread per column element.
//   col2im: x[n, h, w, c] = sum of cols over the (oh, ow, kh, kw) that read (h, w): the adjoint
//           of im2col, written as a gather (each thread owns one pixel: no atomics).

fn im2col(t: u32) -> f32 {
    let c = t % p.c;
    var r = t / p.c;
    let kx = r % KW; r = r / KW;
    let ky = r % KH; r = r / KH;
    let ox = r % p.ow; r = r / p.ow;
    let oy = r % p.oh;
    let n = r / p.oh;
    let iy = source_y(oy, ky);
    let ix = source_x(ox, kx);
    if (!inside(iy, ix)) { return p.pad_value; }
    return src[((n * p.h + u32(iy)) * p.w + u32(ix)) * p.c + c];
}

fn col2im(t: u32) -> f32 {
    let at = image_coords(t);
    let n = at.x;
    let y = at.y;
    let x = at.z;
    let c = at.w;
    var acc = 0.0;
    for (var ky = 0u; ky < KH; ky = ky + 1u) {
        let oy = reader_y(y, ky);
        if (oy < 0) { continue; }
        for (var kx = 0u; kx < KW; kx = kx + 1u) {
            let ox = reader_x(x, kx);
            if (ox < 0) { continue; }
            acc = acc + src[((((n * p.oh + u32(oy)) * p.ow + u32(ox)) * KH + ky) * KW + kx) * p.c + c];
        }
    }
    return acc;
}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let t = thread_index(gid, nwg);
    if (t >= p.total) { return; }
    dst[t] = mode(t);
}
