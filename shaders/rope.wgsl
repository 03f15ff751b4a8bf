// Rotary position embeddings: x viewed as [rows, seq, d]; the first `rot` features of each
// position are rotated in pairs by the angles whose cosines and sines are row offset + s of the
// tables cos and sin ([table, rot / 2]); the other features pass through. Pairs are (i, i + rot/2)
// in the half-split layout (GPT-NeoX, LLaMA) and (2i, 2i + 1) interleaved (GPT-J):
//   out_a = a cos - b sin,  out_b = a sin + b cos.
// Parameters p (RopeParams) and buffers out, x, cos_table, sin_table (not cos and sin: those are
// WGSL builtins): declared by the prelude (src/ops/rope.rs).

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let t = gid.x + gid.y * nwg.x * 256u;
    if (t >= p.rows * p.seq * p.d) { return; }
    let i = t % p.d;
    if (i >= p.rot) {
        out[t] = x[t];
        return;
    }
    let half = p.rot / 2u;
    let s = (t / p.d) % p.seq;
    var pair: u32;
    var first: bool;
    if (p.interleaved != 0u) {
        pair = i / 2u;
        first = i % 2u == 0u;
    } else {
        pair = i % half;
        first = i < half;
    }
    let a_at = select(t - select(half, 1u, p.interleaved != 0u), t, first);
    let b_at = select(t, t + select(half, 1u, p.interleaved != 0u), first);
    let c = cos_table[(p.offset + s) * half + pair];
    let sn = sin_table[(p.offset + s) * half + pair];
    out[t] = select(x[a_at] * sn + x[b_at] * c, x[a_at] * c - x[b_at] * sn, first);
}
