// im2col / col2im for NHWC convolutions and pooling. Geometry in the params; <MODE> picks:
//   im2col: cols[(n, oh, ow), kh, kw, c] = x[n, oh*sh - pt + kh*dh, ow*sw - pl + kw*dw, c], or
//           pad_value outside the image. One thread per column element.
//   col2im: x[n, h, w, c] = sum of cols over the (oh, ow, kh, kw) that read (h, w): the adjoint
//           of im2col, written as a gather (each thread owns one pixel: no atomics).

struct Params {
    n: u32, h: u32, w: u32, c: u32,
    oh: u32, ow: u32, kh: u32, kw: u32,
    sh: u32, sw: u32, dh: u32, dw: u32,
    pt: u32, pl: u32, total: u32,
    pad_value: f32,
};

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;

fn im2col(t: u32) -> f32 {
    let c = t % p.c;
    var r = t / p.c;
    let kx = r % p.kw; r = r / p.kw;
    let ky = r % p.kh; r = r / p.kh;
    let ox = r % p.ow; r = r / p.ow;
    let oy = r % p.oh;
    let n = r / p.oh;
    let iy = i32(oy * p.sh + ky * p.dh) - i32(p.pt);
    let ix = i32(ox * p.sw + kx * p.dw) - i32(p.pl);
    if (iy < 0 || ix < 0 || iy >= i32(p.h) || ix >= i32(p.w)) { return p.pad_value; }
    return src[((n * p.h + u32(iy)) * p.w + u32(ix)) * p.c + c];
}

fn col2im(t: u32) -> f32 {
    let c = t % p.c;
    var r = t / p.c;
    let x = r % p.w; r = r / p.w;
    let y = r % p.h;
    let n = r / p.h;
    var acc = 0.0;
    for (var ky = 0u; ky < p.kh; ky = ky + 1u) {
        let ty = i32(y + p.pt) - i32(ky * p.dh);
        if (ty < 0 || ty % i32(p.sh) != 0) { continue; }
        let oy = u32(ty) / p.sh;
        if (oy >= p.oh) { continue; }
        for (var kx = 0u; kx < p.kw; kx = kx + 1u) {
            let tx = i32(x + p.pl) - i32(kx * p.dw);
            if (tx < 0 || tx % i32(p.sw) != 0) { continue; }
            let ox = u32(tx) / p.sw;
            if (ox >= p.ow) { continue; }
            acc = acc + src[((((n * p.oh + oy) * p.ow + ox) * p.kh + ky) * p.kw + kx) * p.c + c];
        }
    }
    return acc;
}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let t = gid.x + gid.y * nwg.x * 256u;
    if (t >= p.total) { return; }
    dst[t] = {{MODE}}(t);
}
