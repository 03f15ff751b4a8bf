// Scaled dot-product attention, flash-attention style (src/ops/attention.rs): the seq_q x seq_k
// score matrix is never written to memory. Scores are recomputed tile by tile wherever they are
// needed, softmax runs online (a running max and sum per query row), and the backward pass
// recomputes the probabilities from each row's log-sum-exp instead of storing them.
//   forward(lane, group): a workgroup per (batch x head, block of WG query rows), a thread per
//     row; k and v tiles of TK keys are loaded into workgroup memory and shared by the rows.
//     out_a = the attention output, out_b = each row's log-sum-exp (MASKED_ROW where no key is
//     attended: exp(s - lse) is then 0 for every score, so the backward needs no special case).
//   backward_q(lane, group): the same layout: dq = scale * sum_j ds_ij k_j, with
//     ds_ij = p_ij (dout_i . v_j - delta_i) and delta_i = dout_i . out_i, written to out_b for
//     backward_kv.
//   backward_kv(lane, group): a workgroup per (batch x kv head, block of WG keys), a thread per
//     key, looping over the query heads that share the kv head (grouped-query attention) and over
//     tiles of TK query rows: dk = scale * sum_i ds_ij q_i, dv = sum_i p_ij dout_i.
// A score at or below MASKED (a mask of -inf or float32's lowest) means "not attended"; causal
// masking is by index, aligned to the bottom right (query i sees keys j <= i + seq_k - seq_q, as
// a decoder step with a cache needs). No infinity is ever computed: WGSL does not promise them.
// The prelude defines the head sizes D and DV, TK, WG, HAS_MASK, the buffers q, k, v, mask, o,
// dout, lse, stats (each row's lse, then its delta), out_a, out_b (those a mode does not use as
// private dummies; no mode binds more than WebGPU's guaranteed 8) and run(lane, group), which
// calls one of the three.

const MASKED: f32 = -1.0e30;
const MASKED_ROW: f32 = 3.0e38;

var<workgroup> tile_a: array<f32, TK * D>;
var<workgroup> tile_b: array<f32, TK * DV>;
var<workgroup> tile_lse: array<f32, TK>;
var<workgroup> tile_delta: array<f32, TK>;

fn mask_at(b: u32, h: u32, i: u32, j: u32) -> f32 {
    if (HAS_MASK) {
        return mask[b * p.mb + h * p.mh + i * p.mi + j * p.mj];
    }
    return 0.0;
}

// One past the last key query row i attends to.
fn key_end(i: u32) -> u32 {
    if (p.causal == 0u) { return p.sk; }
    return u32(clamp(i32(i) + 1 + p.off, 0, i32(p.sk)));
}

// The first query row that attends to key j.
fn row_start(j: u32) -> u32 {
    if (p.causal == 0u) { return 0u; }
    return u32(clamp(i32(j) - p.off, 0, i32(p.sq)));
}

// Keys j0 .. j0 + TK of kv head `kvh` (an index over batch x kv heads; kcap rows each, sk of them
// attended) into tile_a (k) and tile_b (v).
fn load_kv_tile(lane: u32, kvh: u32, j0: u32) {
    for (var e = lane; e < TK * D; e = e + WG) {
        let j = j0 + e / D;
        var x = 0.0;
        if (j < p.sk) { x = k[(kvh * p.kcap + j) * D + e % D]; }
        tile_a[e] = x;
    }
    for (var e = lane; e < TK * DV; e = e + WG) {
        let j = j0 + e / DV;
        var x = 0.0;
        if (j < p.sk) { x = v[(kvh * p.kcap + j) * DV + e % DV]; }
        tile_b[e] = x;
    }
}

// The work of a forward or backward_q workgroup: batch x head `bh` (b, h, and the kv head it reads,
// an index over batch x kv heads) and the block of WG query rows from `first`. A function of the
// workgroup alone, so it stays uniform for the barriers.
struct RowBlock {
    bh: u32,
    b: u32,
    h: u32,
    kvh: u32,
    first: u32,
}

fn row_block(group: u32) -> RowBlock {
    let blocks = (p.sq + WG - 1u) / WG;
    let bh = group / blocks;
    let b = bh / p.h;
    let h = bh % p.h;
    return RowBlock(bh, b, h, b * p.hkv + h / (p.h / p.hkv), (group % blocks) * WG);
}

fn forward(lane: u32, group: u32) {
    let blk = row_block(group);
    if (blk.bh >= p.b * p.h) { return; }
    let i = blk.first + lane;
    let live = i < p.sq;
    let row = blk.bh * p.sq + i;
    var qr: array<f32, D>;
    var acc: array<f32, DV>;
    var m = 0.0;
    var l = 0.0;
    if (live) {
        for (var d = 0u; d < D; d = d + 1u) { qr[d] = q[row * D + d] * p.scale; }
    }
    let end = key_end(min(blk.first + WG, p.sq) - 1u);
    let mine = select(0u, key_end(i), live);
    for (var j0 = 0u; j0 < end; j0 = j0 + TK) {
        load_kv_tile(lane, blk.kvh, j0);
        workgroupBarrier();
        for (var jj = 0u; jj < TK && j0 + jj < mine; jj = jj + 1u) {
            var s = mask_at(blk.b, blk.h, i, j0 + jj);
            for (var d = 0u; d < D; d = d + 1u) { s = s + qr[d] * tile_a[jj * D + d]; }
            if (s <= MASKED) { continue; }
            if (l == 0.0) {
                m = s;
            } else if (s > m) {
                let c = exp(m - s);
                l = l * c;
                for (var d = 0u; d < DV; d = d + 1u) { acc[d] = acc[d] * c; }
                m = s;
            }
            let e = exp(s - m);
            l = l + e;
            for (var d = 0u; d < DV; d = d + 1u) { acc[d] = acc[d] + e * tile_b[jj * DV + d]; }
        }
        workgroupBarrier();
    }
    if (live) {
        let inv = select(0.0, 1.0 / l, l > 0.0);
        for (var d = 0u; d < DV; d = d + 1u) { out_a[row * DV + d] = acc[d] * inv; }
        out_b[row] = select(MASKED_ROW, m + log(l), l > 0.0);
    }
}

fn backward_q(lane: u32, group: u32) {
    let blk = row_block(group);
    if (blk.bh >= p.b * p.h) { return; }
    let i = blk.first + lane;
    let live = i < p.sq;
    let row = blk.bh * p.sq + i;
    var qr: array<f32, D>;
    var dor: array<f32, DV>;
    var dq: array<f32, D>;
    var delta_i = 0.0;
    var lse_i = MASKED_ROW;
    if (live) {
        for (var d = 0u; d < D; d = d + 1u) { qr[d] = q[row * D + d] * p.scale; }
        for (var d = 0u; d < DV; d = d + 1u) {
            dor[d] = dout[row * DV + d];
            delta_i = delta_i + dor[d] * o[row * DV + d];
        }
        // out_b holds each row's lse, then (written below) its delta: one buffer for both keeps
        // backward_kv within WebGPU's 8 storage buffers.
        lse_i = out_b[row];
    }
    let end = key_end(min(blk.first + WG, p.sq) - 1u);
    let mine = select(0u, key_end(i), live && lse_i < MASKED_ROW);
    for (var j0 = 0u; j0 < end; j0 = j0 + TK) {
        load_kv_tile(lane, blk.kvh, j0);
        workgroupBarrier();
        for (var jj = 0u; jj < TK && j0 + jj < mine; jj = jj + 1u) {
            var s = mask_at(blk.b, blk.h, i, j0 + jj);
            for (var d = 0u; d < D; d = d + 1u) { s = s + qr[d] * tile_a[jj * D + d]; }
            if (s <= MASKED) { continue; }
            let pr = exp(s - lse_i);
            var dp = 0.0;
            for (var d = 0u; d < DV; d = d + 1u) { dp = dp + dor[d] * tile_b[jj * DV + d]; }
            let ds = pr * (dp - delta_i);
            for (var d = 0u; d < D; d = d + 1u) { dq[d] = dq[d] + ds * tile_a[jj * D + d]; }
        }
        workgroupBarrier();
    }
    if (live) {
        for (var d = 0u; d < D; d = d + 1u) { out_a[row * D + d] = dq[d] * p.scale; }
        out_b[p.b * p.h * p.sq + row] = delta_i;
    }
}

fn backward_kv(lane: u32, group: u32) {
    let blocks = (p.sk + WG - 1u) / WG;
    let bkv = group / blocks;
    if (bkv >= p.b * p.hkv) { return; }
    let b = bkv / p.hkv;
    let heads = p.h / p.hkv;
    let first = (group % blocks) * WG;
    let j = first + lane;
    let live = j < p.sk;
    let key = bkv * p.kcap + j;
    var kr: array<f32, D>;
    var vr: array<f32, DV>;
    var dk: array<f32, D>;
    var dv: array<f32, DV>;
    if (live) {
        for (var d = 0u; d < D; d = d + 1u) { kr[d] = k[key * D + d]; }
        for (var d = 0u; d < DV; d = d + 1u) { vr[d] = v[key * DV + d]; }
    }
    let start = row_start(first);
    let mine = select(p.sq, row_start(j), live);
    for (var g = 0u; g < heads; g = g + 1u) {
        let h = (bkv % p.hkv) * heads + g;
        let bh = b * p.h + h;
        for (var i0 = start; i0 < p.sq; i0 = i0 + TK) {
            // The query rows i0 .. i0 + TK (scaled q, dout, their lse and delta) into workgroup memory.
            for (var e = lane; e < TK * D; e = e + WG) {
                let i = i0 + e / D;
                var x = 0.0;
                if (i < p.sq) { x = q[(bh * p.sq + i) * D + e % D] * p.scale; }
                tile_a[e] = x;
            }
            for (var e = lane; e < TK * DV; e = e + WG) {
                let i = i0 + e / DV;
                var x = 0.0;
                if (i < p.sq) { x = dout[(bh * p.sq + i) * DV + e % DV]; }
                tile_b[e] = x;
            }
            for (var e = lane; e < TK; e = e + WG) {
                let i = i0 + e;
                tile_lse[e] = MASKED_ROW;
                tile_delta[e] = 0.0;
                if (i < p.sq) {
                    tile_lse[e] = stats[bh * p.sq + i];
                    tile_delta[e] = stats[p.b * p.h * p.sq + bh * p.sq + i];
                }
            }
            workgroupBarrier();
            if (live) {
                for (var ii = 0u; ii < TK && i0 + ii < p.sq; ii = ii + 1u) {
                    if (i0 + ii < mine || tile_lse[ii] >= MASKED_ROW) { continue; }
                    var s = mask_at(b, h, i0 + ii, j);
                    for (var d = 0u; d < D; d = d + 1u) { s = s + tile_a[ii * D + d] * kr[d]; }
                    if (s <= MASKED) { continue; }
                    let pr = exp(s - tile_lse[ii]);
                    var dp = 0.0;
                    for (var d = 0u; d < DV; d = d + 1u) {
                        dv[d] = dv[d] + pr * tile_b[ii * DV + d];
                        dp = dp + tile_b[ii * DV + d] * vr[d];
                    }
                    let ds = pr * (dp - tile_delta[ii]);
                    for (var d = 0u; d < D; d = d + 1u) { dk[d] = dk[d] + ds * tile_a[ii * D + d]; }
                }
            }
            workgroupBarrier();
        }
    }
    if (live) {
        for (var d = 0u; d < D; d = d + 1u) { out_a[key * D + d] = dk[d]; }
        for (var d = 0u; d < DV; d = d + 1u) { out_b[key * DV + d] = dv[d]; }
    }
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    run(lid.x, wid.x + wid.y * nwg.x);
}
