// A fused expression whose result is float16: out[w] packs elements 2w and 2w+1, so that no two
// invocations write the same word. `load_x` gives each value already rounded to a half.
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let w = gid.x + gid.y * nwg.x * 256u;
    let i = 2u * w;
    if (i >= p.n) { return; }
    var high = 0u;
    if (i + 1u < p.n) { high = f16_bits(load_x(i + 1u)); }
    out[w] = f16_bits(load_x(i)) | (high << 16u);
}
