// Reduction of x viewed as [outer, r, inner] over the middle axis, in chunks of at most `chunk`
// along r, into out[outer, g, inner] with g = ceil(r / chunk) partial results per output (a long
// axis is reduced in two or more passes: no thread loops for long, and more threads share it).
// The prelude (src/ops/reduce.rs) defines T, OUT_T, ROWS, initial(), lift(x, k) (element x at k
// as an Acc), combine(a, b) (ties keep
// the lower index, so argmax/argmin return the first extremum like TF.js), finish(acc), and
// load_x(i): element i of x, read from a buffer or computed by a fused elementwise expression.
// Two layouts share this file, chosen by ROWS:
//   ROWS = true  (long axes, few outputs): one workgroup per output, 256 threads stride over r,
//                tree merge.
//   ROWS = false: one thread per output, a loop over r (reads coalesce along inner).
// Either way output t of [outer, groups, inner] is (o, g, j) = (t / inner / groups,
// t / inner % groups, t % inner).

// v: the value so far (the maximum, for log-sum-exp), i: its index (arg reductions), s: the sum
// of exp(x - v) (log-sum-exp only).
struct Acc {
    v: T,
    i: u32,
    s: f32,
};

var<workgroup> partial: array<Acc, 256>;

@compute @workgroup_size(256)
fn main(
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
) {
    if (ROWS) {
        let row = wid.x + wid.y * nwg.x;
        if (row >= p.outer * p.groups * p.inner) { return; }
        let j = row % p.inner;
        let og = row / p.inner;
        let o = og / p.groups;
        let g = og % p.groups;
        let k_end = min(p.r, (g + 1u) * p.chunk);
        var acc = initial();
        for (var k = g * p.chunk + lid.x; k < k_end; k = k + 256u) {
            acc = combine(acc, lift(load_x((o * p.r + k) * p.inner + j), k));
        }
        partial[lid.x] = acc;
        workgroupBarrier();
        for (var s = 128u; s > 0u; s = s >> 1u) {
            if (lid.x < s) {
                partial[lid.x] = combine(partial[lid.x], partial[lid.x + s]);
            }
            workgroupBarrier();
        }
        if (lid.x == 0u) {
            out[row] = finish(partial[0]);
        }
    } else {
        let t = gid.x + gid.y * nwg.x * 256u;
        if (t >= p.outer * p.groups * p.inner) { return; }
        let j = t % p.inner;
        let og = t / p.inner;
        let o = og / p.groups;
        let g = og % p.groups;
        let k_end = min(p.r, (g + 1u) * p.chunk);
        var acc = initial();
        for (var k = g * p.chunk; k < k_end; k = k + 1u) {
            acc = combine(acc, lift(load_x((o * p.r + k) * p.inner + j), k));
        }
        out[t] = finish(acc);
    }
}
