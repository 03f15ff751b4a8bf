// gather along an axis: x viewed as [outer, axis_len, inner], indices flat [count];
// out[o, j, k] = x[o, idx[j], k], or 0 for an index outside [0, axis_len) (as TF.js on GPU).

struct Params {
    outer: u32,
    axis_len: u32,
    inner: u32,
    count: u32,
};

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<u32>;
@group(0) @binding(2) var<storage, read> idx: array<i32>;
@group(0) @binding(3) var<storage, read_write> out: array<u32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let t = gid.x + gid.y * nwg.x * 256u;
    if (t >= p.outer * p.count * p.inner) { return; }
    let k = t % p.inner;
    let j = (t / p.inner) % p.count;
    let o = t / (p.inner * p.count);
    let a = idx[j];
    if (a < 0 || u32(a) >= p.axis_len) {
        out[t] = 0u;
    } else {
        out[t] = x[(o * p.axis_len + u32(a)) * p.inner + k];
    }
}
