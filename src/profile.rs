//! Where GPU time goes, per kernel: filled by `GpuContext::start_profile` (native only) and printed
//! by `cargo run --release --example profile_step`.
use std::fmt;

#[derive(Default, Debug, Clone)]
pub struct Profile {
    /// (kernel name, total ms, dispatches), in order of first use.
    pub kernels: Vec<(String, f64, u32)>,
}

impl Profile {
    pub fn add(&mut self, name: &str, ms: f64) {
        match self.kernels.iter_mut().find(|k| k.0 == name) {
            Some(k) => {
                k.1 += ms;
                k.2 += 1;
            }
            None => self.kernels.push((name.to_string(), ms, 1)),
        }
    }

    pub fn total_ms(&self) -> f64 {
        self.kernels.iter().map(|k| k.1).sum()
    }
}

/// Kernels by total time, largest first, with their share of the whole.
impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rows = self.kernels.clone();
        rows.sort_by(|a, b| b.1.total_cmp(&a.1));
        let total = self.total_ms().max(1e-9);
        for (name, ms, n) in rows {
            writeln!(f, "{ms:9.2} ms {:5.1}% {n:5}x  {name}", 100.0 * ms / total)?;
        }
        let dispatches: u32 = self.kernels.iter().map(|k| k.2).sum();
        write!(f, "{total:9.2} ms total, {dispatches} dispatches")
    }
}

/// Wall time of one profiled dispatch (std's clock does not exist in the browser build).
pub struct Timer(#[cfg(not(target_arch = "wasm32"))] std::time::Instant);

impl Timer {
    pub fn start() -> Timer {
        Timer(
            #[cfg(not(target_arch = "wasm32"))]
            std::time::Instant::now(),
        )
    }

    pub fn elapsed_ms(&self) -> f64 {
        #[cfg(not(target_arch = "wasm32"))]
        return self.0.elapsed().as_secs_f64() * 1e3;
        #[cfg(target_arch = "wasm32")]
        0.0
    }
}
