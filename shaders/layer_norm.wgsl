// Layer normalisation and RMS normalisation over the last axis of x viewed as [rows, c], with
// their gradients, in three kernels (src/ops/norm.rs):
//   forward(lane, row): a workgroup per row: mean (layer norm only) and variance in two passes
//     over the row (no cancellation), then out = (x - mean) * rstd * gamma + beta, and the row's
//     (mean, rstd) into stats for the backward pass.
//   backward_x(lane, row): a workgroup per row: dx = rstd * (g - mean(g) - xhat * mean(g xhat)),
//     with g = dy * gamma and xhat = (x - mean) * rstd (RMS norm: no mean(g) term).
//   backward_params(t): a thread per (split, column): sums over the split's rows of dy * xhat
//     (d gamma) and dy (d beta); the caller adds the splits up.
// forward_rows and backward_x_rows are the first two with a thread per row, for short rows.
// The prelude defines CENTER (layer norm, not RMS norm), gamma_at(j) and beta_at(j) (1 and 0
// when absent), load_x(i) and load_dy(i) (from buffers, or fused expressions computed in place),
// the buffers out, out2, stats, and run(lane, group, thread), which calls one of the three.

var<workgroup> red: array<f32, 256>;

// The sum of every lane's v, returned to all lanes of the workgroup.
fn row_sum(lane: u32, v: f32) -> f32 {
    red[lane] = v;
    workgroupBarrier();
    for (var s = 128u; s > 0u; s = s >> 1u) {
        if (lane < s) {
            red[lane] = red[lane] + red[lane + s];
        }
        workgroupBarrier();
    }
    let total = red[0];
    workgroupBarrier();
    return total;
}

fn forward(lane: u32, row: u32) {
    if (row >= p.rows) { return; }
    let base = row * p.c;
    let n = f32(p.c);
    var mean = 0.0;
    if (CENTER) {
        var s = 0.0;
        for (var j = lane; j < p.c; j = j + 256u) { s = s + load_x(base + j); }
        mean = row_sum(lane, s) / n;
    }
    var q = 0.0;
    for (var j = lane; j < p.c; j = j + 256u) {
        let d = load_x(base + j) - mean;
        q = q + d * d;
    }
    let rstd = inverseSqrt(row_sum(lane, q) / n + p.eps);
    for (var j = lane; j < p.c; j = j + 256u) {
        out[base + j] = (load_x(base + j) - mean) * rstd * gamma_at(j) + beta_at(j);
    }
    if (lane == 0u) {
        stats[2u * row] = mean;
        stats[2u * row + 1u] = rstd;
    }
}

fn backward_x(lane: u32, row: u32) {
    if (row >= p.rows) { return; }
    let base = row * p.c;
    let n = f32(p.c);
    let mean = stats[2u * row];
    let rstd = stats[2u * row + 1u];
    var a = 0.0;
    var b = 0.0;
    for (var j = lane; j < p.c; j = j + 256u) {
        let g = load_dy(base + j) * gamma_at(j);
        a = a + g;
        b = b + g * (load_x(base + j) - mean) * rstd;
    }
    let mean_g = select(0.0, row_sum(lane, a) / n, CENTER);
    let mean_gx = row_sum(lane, b) / n;
    for (var j = lane; j < p.c; j = j + 256u) {
        let g = load_dy(base + j) * gamma_at(j);
        let xh = (load_x(base + j) - mean) * rstd;
        out[base + j] = rstd * (g - mean_g - xh * mean_gx);
    }
}

// The same two kernels with a thread per row and no barriers, for rows of up to 256 features
// (norm.rs picks): a workgroup per row would leave most of its lanes idle and spend its time in
// barriers, which emulated GPUs (SwiftShader) run slowly (512 rows of 32: 224 ms against 3).
fn forward_rows(row: u32) {
    if (row >= p.rows) { return; }
    let base = row * p.c;
    let n = f32(p.c);
    var mean = 0.0;
    if (CENTER) {
        var s = 0.0;
        for (var j = 0u; j < p.c; j = j + 1u) { s = s + load_x(base + j); }
        mean = s / n;
    }
    var q = 0.0;
    for (var j = 0u; j < p.c; j = j + 1u) {
        let d = load_x(base + j) - mean;
        q = q + d * d;
    }
    let rstd = inverseSqrt(q / n + p.eps);
    for (var j = 0u; j < p.c; j = j + 1u) {
        out[base + j] = (load_x(base + j) - mean) * rstd * gamma_at(j) + beta_at(j);
    }
    stats[2u * row] = mean;
    stats[2u * row + 1u] = rstd;
}

fn backward_x_rows(row: u32) {
    if (row >= p.rows) { return; }
    let base = row * p.c;
    let n = f32(p.c);
    let mean = stats[2u * row];
    let rstd = stats[2u * row + 1u];
    var a = 0.0;
    var b = 0.0;
    for (var j = 0u; j < p.c; j = j + 1u) {
        let g = load_dy(base + j) * gamma_at(j);
        a = a + g;
        b = b + g * (load_x(base + j) - mean) * rstd;
    }
    let mean_g = select(0.0, a / n, CENTER);
    let mean_gx = b / n;
    for (var j = 0u; j < p.c; j = j + 1u) {
        let g = load_dy(base + j) * gamma_at(j);
        let xh = (load_x(base + j) - mean) * rstd;
        out[base + j] = rstd * (g - mean_g - xh * mean_gx);
    }
}

fn backward_params(t: u32) {
    if (t >= p.splits * p.c) { return; }
    let j = t % p.c;
    let r0 = (t / p.c) * p.chunk;
    let r1 = min(p.rows, r0 + p.chunk);
    var dg = 0.0;
    var db = 0.0;
    for (var r = r0; r < r1; r = r + 1u) {
        let d = load_dy(r * p.c + j);
        dg = dg + d * (load_x(r * p.c + j) - stats[2u * r]) * stats[2u * r + 1u];
        db = db + d;
    }
    out[t] = dg;
    out2[t] = db;
}

@compute @workgroup_size(256)
fn main(
    @builtin(local_invocation_id) lid: vec3<u32>,
    @builtin(workgroup_id) wid: vec3<u32>,
    @builtin(global_invocation_id) gid: vec3<u32>,
    @builtin(num_workgroups) nwg: vec3<u32>,
) {
    run(lid.x, wid.x + wid.y * nwg.x, gid.x + gid.y * nwg.x * 256u);
}
