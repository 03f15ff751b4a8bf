// Reduction of x viewed as [outer, r, inner] over the middle axis, in chunks of at most `chunk`
// along r, into out[outer, g, inner] with g = ceil(r / chunk) partial results per output (a long
// axis is reduced in two or more passes: no thread loops for long, and more threads share it).
// <T>: element type; <INIT>: the identity; <COMBINE>: body of combine(a, b) -> Acc
// (ties keep the lower index, so argmax/argmin return the first extremum like TF.js);
// <FINISH>: the output value from `acc`.
// Two layouts share this file, chosen by <ROWS>:
//   ROWS = true  (inner == 1): one workgroup per output, 256 threads stride over r, tree merge.
//   ROWS = false (inner > 1): one thread per output, a loop over r (reads coalesce along inner).

struct Params {
    outer: u32,
    r: u32,
    inner: u32,
    scale: f32,
    chunk: u32,
    groups: u32,
    _pad0: u32,
    _pad1: u32,
};

struct Acc {
    v: {{T}},
    i: u32,
};

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<{{T}}>;
@group(0) @binding(2) var<storage, read_write> out: array<{{OUT_T}}>;

fn combine(a: Acc, b: Acc) -> Acc {
    {{COMBINE}}
}

fn finish(acc: Acc) -> {{OUT_T}} {
    return {{FINISH}};
}

const ROWS: bool = {{ROWS}};
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
        if (row >= p.outer * p.groups) { return; }
        let o = row / p.groups;
        let k_end = min(p.r, (row % p.groups + 1u) * p.chunk);
        var acc = Acc({{INIT}}, 0u);
        for (var k = (row % p.groups) * p.chunk + lid.x; k < k_end; k = k + 256u) {
            acc = combine(acc, Acc(x[o * p.r + k], k));
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
        var acc = Acc({{INIT}}, 0u);
        for (var k = g * p.chunk; k < k_end; k = k + 1u) {
            acc = combine(acc, Acc(x[(o * p.r + k) * p.inner + j], k));
        }
        out[t] = finish(acc);
    }
}
