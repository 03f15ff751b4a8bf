// Helpers shared by every kernel (prepended by src/kernel.rs). The CPU backend mirrors each of
// them bit for bit in src/ops/random.rs and src/ops/unary.rs, so both backends agree.

// NaN and infinity through private variables: a constant bitcast is evaluated at compile time,
// and WGSL compilers (Tint) reject a constant that is not finite.
var<private> NAN_BITS: u32 = 0x7fc00000u;
var<private> INF_BITS: u32 = 0x7f800000u;
fn f32_nan() -> f32 { return bitcast<f32>(NAN_BITS); }
fn f32_inf() -> f32 { return bitcast<f32>(INF_BITS); }
// By bits: shader compilers may fold `a != a` away, assuming no NaNs.
fn is_nan(a: f32) -> bool { return (bitcast<u32>(a) & 0x7fffffffu) > 0x7f800000u; }
// max and min that propagate NaN (WGSL leaves max(NaN, x) open).
fn max_nan(a: f32, b: f32) -> f32 { return select(max(a, b), f32_nan(), is_nan(a) || is_nan(b)); }
fn min_nan(a: f32, b: f32) -> f32 { return select(min(a, b), f32_nan(), is_nan(a) || is_nan(b)); }

// PCG hash (O'Neill): a good 32-bit mix, cheap on GPUs.
fn pcg_hash(v: u32) -> u32 {
    let state = v * 747796405u + 2891336453u;
    let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
    return (word >> 22u) ^ word;
}

// Counter-based random stream: element i of stream s under seed. Stateless, so every element
// can be drawn in parallel and the CPU backend draws the very same numbers.
fn rand_u32(seed: u32, i: u32, s: u32) -> u32 {
    return pcg_hash(pcg_hash(seed ^ (s * 0x9e3779b9u)) ^ i);
}

// Uniform in [0, 1) with 24 random bits.
fn rand_unit(seed: u32, i: u32, s: u32) -> f32 {
    return f32(rand_u32(seed, i, s) >> 8u) * (1.0 / 16777216.0);
}

// Standard normal by Box-Muller; u1 is in (0, 1] so log never sees 0.
fn rand_normal(seed: u32, i: u32) -> f32 {
    let u1 = f32((rand_u32(seed, i, 0u) >> 8u) + 1u) * (1.0 / 16777216.0);
    let u2 = rand_unit(seed, i, 1u);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

// pow with the IEEE/TF.js behaviour WGSL's pow leaves undefined: negative bases with integral
// exponents, and x^0 == 1.
fn pow_ieee(a: f32, b: f32) -> f32 {
    if (b == 0.0) { return 1.0; }
    if (a < 0.0) {
        if (fract(b) != 0.0) { return f32_nan(); }
        let r = pow(-a, b);
        let odd = fract(b * 0.5) != 0.0;
        return select(r, -r, odd);
    }
    if (a == 0.0) { return select(0.0, f32_inf(), b < 0.0); }
    return pow(a, b);
}

// Integer division that floors (TF.js floorDiv on int32); x / 0 is 0 rather than undefined.
fn floor_div_i32(a: i32, b: i32) -> i32 {
    if (b == 0) { return 0; }
    let q = a / b;
    let r = a - q * b;
    return select(q, q - 1, r != 0 && ((r < 0) != (b < 0)));
}

// a^b on int32 (src/ops/binary/pow.rs `pow_i32`): square-and-multiply, wrapping; a negative
// exponent gives 0 except for bases of 1 and -1.
fn pow_i32(a: i32, b: i32) -> i32 {
    if (b < 0) { return select(select(0, 1, a == 1), select(-1, 1, (b & 1) == 0), a == -1); }
    var base = a;
    var e = u32(b);
    var r = 1;
    while (e != 0u) {
        if ((e & 1u) != 0u) { r = r * base; }
        base = base * base;
        e = e >> 1u;
    }
    return r;
}

// f32 -> i32 like Rust's `as`: truncate toward zero, saturate, NaN -> 0 (WGSL leaves NaN open).
fn f32_to_i32(a: f32) -> i32 {
    if (is_nan(a)) { return 0; }
    if (a >= 2147483647.0) { return 2147483647; }
    if (a <= -2147483648.0) { return -2147483647 - 1; }
    return i32(a);
}

// erf by Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7); WGSL has no erf. Mirrored in unary.rs.
fn erf_approx(x: f32) -> f32 {
    let s = sign(x);
    let a = abs(x);
    let t = 1.0 / (1.0 + 0.3275911 * a);
    let y = 1.0 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * exp(-a * a);
    return s * y;
}

// x rounded to the nearest IEEE binary16 value, as f32 (src/ops/unary/round_f16.rs): ties to even,
// magnitudes from 65520 up to infinity, below 2^-14 onto the subnormal grid of 2^-24. By bits,
// since WGSL leaves pack2x16float's overflow indeterminate.
fn round_to_f16(x: f32) -> f32 {
    let b = bitcast<u32>(x);
    let sign = b & 0x80000000u;
    let a = b & 0x7fffffffu;
    if (a >= 0x7f800000u) { return x; }
    if (a >= 0x477ff000u) { return bitcast<f32>(sign | 0x7f800000u); }
    if (a < 0x38800000u) {
        // 2^24 scaling is exact here, and round() takes ties to even.
        return bitcast<f32>(sign | bitcast<u32>(round(bitcast<f32>(a) * 16777216.0) / 16777216.0));
    }
    let r = (a + 0xfffu + ((a >> 13u) & 1u)) & 0xffffe000u;
    return bitcast<f32>(sign | r);
}

// float16 storage: two halves a u32 word, element 2j in the low 16 bits. Converted by hand
// rather than with pack2x16float (whose result is indeterminate for values out of half range)
// and unpack2x16float, so every adapter gives the same bits.

// The float32 value of half-precision bits `h` (exact; selects, not branches: kernels widen a
// half per weight). Subnormal halves are scaled from their integer mantissa, so adapters that
// flush float32 subnormals still get them right.
fn f16_value(h: u32) -> f32 {
    let e = h & 0x7c00u;
    let moved = (h & 0x7fffu) << 13u;
    var v = select(moved + 0x38000000u, bitcast<u32>(f32(h & 0x3ffu) / 16777216.0), e == 0u);
    v = select(v, moved | 0x7f800000u, e == 0x7c00u);
    return bitcast<f32>(v | ((h & 0x8000u) << 16u));
}

// The half-precision bits of `x`, a value already rounded to a half (`round_to_f16`).
fn f16_bits(x: f32) -> u32 {
    let b = bitcast<u32>(x);
    let sign = (b >> 16u) & 0x8000u;
    let a = b & 0x7fffffffu;
    if (a > 0x7f800000u) { return sign | 0x7e00u; }
    if (a >= 0x47800000u) { return sign | 0x7c00u; }
    if (a < 0x38800000u) { return sign | u32(bitcast<f32>(a) * 16777216.0); }
    return sign | (((a >> 23u) - 112u) << 10u) | ((a >> 13u) & 0x3ffu);
}
