//! Buffer pool: freed device buffers go onto free lists keyed by (size class, usage) and are
//! handed out again, so a training loop allocates nothing on the device after its first step.
//!
//! Size classes are four steps per power of two (at most 25% slack), which keeps the number of
//! distinct lists small while wasting little memory.
use std::collections::HashMap;

/// Rounds a byte size up to its size class. Sizes are at least 16 bytes (a zero-size buffer
/// cannot be bound) and always multiples of 4.
pub fn size_class(bytes: u64) -> u64 {
    let bytes = bytes.max(16);
    if bytes <= 256 {
        return (bytes + 15) & !15;
    }
    let top = 63 - (bytes - 1).leading_zeros() as u64; // 2^top < bytes <= 2^(top+1)
    let step = 1u64 << (top - 2); // four classes between 2^top and 2^(top+1)
    bytes.div_ceil(step) * step
}

#[derive(Default, Debug, Clone, Copy, PartialEq)]
pub struct PoolStats {
    /// Buffers handed out and not yet returned.
    pub live_buffers: usize,
    pub live_bytes: u64,
    /// Buffers waiting on the free lists.
    pub free_buffers: usize,
    pub free_bytes: u64,
    /// The most bytes ever held (live + free) at once.
    pub high_water_bytes: u64,
    /// The most bytes live at once since the last `reset_peak` (what a computation needed).
    pub peak_live_bytes: u64,
    /// Buffers created on the device since start (a pool hit creates none).
    pub created_buffers: u64,
}

pub struct BufferPool {
    free: HashMap<(u64, u32), Vec<wgpu::Buffer>>,
    stats: PoolStats,
}

impl BufferPool {
    pub fn new() -> Self {
        BufferPool { free: HashMap::new(), stats: PoolStats::default() }
    }

    /// Takes a buffer of at least `bytes` (its size class) with exactly `usage`, reusing a free one
    /// when there is one.
    pub fn acquire(&mut self, device: &wgpu::Device, bytes: u64, usage: wgpu::BufferUsages) -> wgpu::Buffer {
        let class = size_class(bytes);
        let buffer = match self.free.get_mut(&(class, usage.bits())).and_then(|list| list.pop()) {
            Some(b) => {
                self.stats.free_buffers -= 1;
                self.stats.free_bytes -= class;
                b
            }
            None => {
                self.stats.created_buffers += 1;
                device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some("webtensor"),
                    size: class,
                    usage,
                    mapped_at_creation: false,
                })
            }
        };
        self.stats.live_buffers += 1;
        self.stats.live_bytes += class;
        let held = self.stats.live_bytes + self.stats.free_bytes;
        self.stats.high_water_bytes = self.stats.high_water_bytes.max(held);
        self.stats.peak_live_bytes = self.stats.peak_live_bytes.max(self.stats.live_bytes);
        buffer
    }

    pub fn release(&mut self, buffer: wgpu::Buffer) {
        let class = buffer.size();
        self.stats.live_buffers -= 1;
        self.stats.live_bytes -= class;
        self.stats.free_buffers += 1;
        self.stats.free_bytes += class;
        self.free.entry((class, buffer.usage().bits())).or_default().push(buffer);
    }

    /// Destroys every free buffer (their memory goes back to the device).
    pub fn trim(&mut self) {
        for (_, list) in self.free.drain() {
            for b in list {
                b.destroy();
            }
        }
        self.stats.free_buffers = 0;
        self.stats.free_bytes = 0;
    }

    /// Starts a new live-bytes peak at the bytes live now.
    pub fn reset_peak(&mut self) {
        self.stats.peak_live_bytes = self.stats.live_bytes;
    }

    pub fn stats(&self) -> PoolStats {
        self.stats
    }
}

#[cfg(test)]
mod tests {
    use super::size_class;

    #[test]
    fn size_classes_cover_and_stay_close() {
        assert_eq!(size_class(0), 16);
        assert_eq!(size_class(4), 16);
        assert_eq!(size_class(20), 32);
        assert_eq!(size_class(256), 256);
        assert_eq!(size_class(257), 320);
        assert_eq!(size_class(4096), 4096);
        assert_eq!(size_class(4097), 5120);
        for n in (1..200_000u64).step_by(97) {
            let c = size_class(n * 4);
            assert!(c >= n * 4 && c % 4 == 0);
            assert!(c as f64 <= (n * 4).max(16) as f64 * 1.25 + 16.0, "{n}: {c}");
        }
    }
}
