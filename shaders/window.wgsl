// Where a sliding window (convolution or pooling) reads an NHWC image: helpers over the window
// geometry `p` (WindowParams in src/ops/im2col.rs), shared by im2col.wgsl, pool.wgsl,
// conv2d.wgsl and conv2d_vec4.wgsl, which src/ops/im2col.rs's window_source puts after it.

// The input row/column read by output (oy, ox) at tap (ky, kx); negative or past the edge in padding.
fn source_y(oy: u32, ky: u32) -> i32 { return i32(oy * p.sh + ky * p.dh) - i32(p.pt); }
fn source_x(ox: u32, kx: u32) -> i32 { return i32(ox * p.sw + kx * p.dw) - i32(p.pl); }
fn inside(iy: i32, ix: i32) -> bool { return iy >= 0 && ix >= 0 && iy < i32(p.h) && ix < i32(p.w); }

// The output row that reads input row y at tap ky, or -1 if none does (the inverse of source_y).
fn reader_y(y: u32, ky: u32) -> i32 {
    let t = i32(y + p.pt) - i32(ky * p.dh);
    if (t < 0 || t % i32(p.sh) != 0 || u32(t) / p.sh >= p.oh) { return -1; }
    return t / i32(p.sh);
}
fn reader_x(x: u32, kx: u32) -> i32 {
    let t = i32(x + p.pl) - i32(kx * p.dw);
    if (t < 0 || t % i32(p.sw) != 0 || u32(t) / p.sw >= p.ow) { return -1; }
    return t / i32(p.sw);
}

// Input element t = ((n * h + y) * w + x) * c + ch of the image, as (n, y, x, ch).
fn image_coords(t: u32) -> vec4<u32> {
    let r = t / p.c;
    return vec4<u32>(r / (p.w * p.h), (r / p.w) % p.h, r % p.w, t % p.c);
}

// Output element t = ((n * oh + oy) * ow + ox) * c + ch, as (n, oy, ox, ch).
fn output_coords(t: u32) -> vec4<u32> {
    let r = t / p.c;
    return vec4<u32>(r / (p.ow * p.oh), (r / p.ow) % p.oh, r % p.ow, t % p.c);
}

// Flat index of a thread in a grid_2d dispatch of 256-wide workgroups.
fn thread_index(gid: vec3<u32>, nwg: vec3<u32>) -> u32 { return gid.x + gid.y * nwg.x * 256u; }
