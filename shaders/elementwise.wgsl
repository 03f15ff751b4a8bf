// Elementwise kernel template for ops with 0 to 3 inputs, with numpy broadcasting.
// Filled by src/ops/elementwise.rs: <BINDINGS> declares the inputs, <LOADS> reads element i
// of each (contiguous, scalar or broadcast-strided), <EXPR> computes the output from
// a, b, c (the inputs), i (the flat output index) and the params p.

struct Params {
    n: u32,
    rank: u32,
    alpha: f32,
    beta: f32,
    seed: u32,
    bits: u32,
    _pad0: u32,
    _pad1: u32,
    tiles: vec4<u32>,   // element count of each input read as i % count (repeated over rows)
    out_shape: array<vec4<u32>, 2>,
    // strides of input k along dimension d: strides[2k + d/4][d%4]; 0 along broadcast dimensions
    strides: array<vec4<u32>, 6>,
};

@group(0) @binding(0) var<uniform> p: Params;
{{BINDINGS}}

// Offset into input k of output element i.
fn in_offset(k: u32, i: u32) -> u32 {
    var rem = i;
    var off = 0u;
    var d = p.rank;
    loop {
        if (d == 0u) { break; }
        d = d - 1u;
        let dim = p.out_shape[d / 4u][d % 4u];
        off = off + (rem % dim) * p.strides[2u * k + d / 4u][d % 4u];
        rem = rem / dim;
    }
    return off;
}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = gid.x + gid.y * nwg.x * 256u;
    if (i >= p.n) { return; }
{{LOADS}}
    out[i] = {{EXPR}};
}
