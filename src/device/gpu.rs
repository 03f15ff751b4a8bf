//! The WebGPU/wgpu device: adapter, device, queue and limits, plus the buffer pool, the shared
//! command batch and the kernel cache that every GPU op goes through.
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use crate::encoder::Batch;
use crate::kernel::{Kernel, KernelCache};
use crate::pool::{BufferPool, PoolStats};
use crate::{bail, Error, Result};

/// Usage of every tensor buffer: bound as storage, and copied in and out.
pub const TENSOR_USAGE: wgpu::BufferUsages = wgpu::BufferUsages::STORAGE
    .union(wgpu::BufferUsages::COPY_SRC)
    .union(wgpu::BufferUsages::COPY_DST);
const READBACK_USAGE: wgpu::BufferUsages = wgpu::BufferUsages::MAP_READ.union(wgpu::BufferUsages::COPY_DST);

/// Largest workgroup count in one dimension that every adapter accepts.
pub const MAX_WORKGROUPS_PER_DIM: u32 = 65535;

/// Storage buffers one kernel may bind: WebGPU's default limit, which every adapter offers.
pub const MAX_STORAGE_BUFFERS: u32 = 8;

pub struct GpuContext {
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    pub info: wgpu::AdapterInfo,
    pub limits: wgpu::Limits,
    /// The adapter's name, from wgpu or (on the web, where wgpu may have none) `GPUAdapterInfo`.
    name: String,
    /// A GPU emulated on the CPU (decided once: kernel choices ask per dispatch).
    cpu_emulated: bool,
    pool: RefCell<BufferPool>,
    batch: RefCell<Batch>,
    kernels: RefCell<KernelCache>,
    /// Set by the device-lost callback; every later call fails with a clear error.
    lost: Arc<AtomicBool>,
    /// The first error WebGPU reported (a kernel that failed validation, an allocation refused)
    /// and no readback has reported yet: the values behind such a readback may be wrong.
    error: Arc<Mutex<Option<String>>>,
    /// While profiling (native only): GPU time per kernel name, see `start_profile`.
    profile: RefCell<Option<crate::profile::Profile>>,
    /// Where kernels note input they could not compute (a kernel cannot raise an error), as
    /// `CHECK_WORDS` words: what (0: nothing), a value, its bound. The next readback reads it
    /// and fails naming what happened, instead of handing back values that cannot be trusted.
    checks: wgpu::Buffer,
    /// Whether a kernel that may write `checks` ran since the last readback looked.
    checks_armed: Cell<bool>,
}

/// The words of `GpuContext::checks`.
const CHECK_WORDS: u64 = 4;
/// What a kernel noted in `checks[0]`.
pub const CHECK_GATHER_INDEX: u32 = 1;

/// A device buffer owned by one tensor storage; dropping it returns it to the pool.
pub struct GpuBuffer {
    buffer: Option<wgpu::Buffer>,
    /// Bytes of tensor data (the buffer itself may be larger: its size class).
    pub bytes: u64,
    ctx: Rc<GpuContext>,
}

impl GpuBuffer {
    pub fn raw(&self) -> &wgpu::Buffer {
        self.buffer.as_ref().expect("buffer is only taken in drop")
    }

    pub fn context(&self) -> &Rc<GpuContext> {
        &self.ctx
    }
}

impl Drop for GpuBuffer {
    fn drop(&mut self) {
        if let Some(b) = self.buffer.take() {
            self.ctx.pool.borrow_mut().release(b);
        }
    }
}

impl GpuContext {
    /// Finds an adapter and opens a device. Fails (never panics) when there is none, e.g. in
    /// Node or in a browser without WebGPU.
    pub async fn new() -> Result<Rc<GpuContext>> {
        const OP: &str = "gpu init";
        // wgpu's WebGPU backend assumes `navigator.gpu`; in Node or an old browser it would
        // trap. Check first so the caller can fall back to the CPU.
        #[cfg(target_arch = "wasm32")]
        if !has_navigator_gpu() {
            bail!(OP, "WebGPU is not available here (no navigator.gpu)");
        }
        let mut desc = wgpu::InstanceDescriptor::new_without_display_handle();
        desc.backends = if cfg!(target_arch = "wasm32") {
            wgpu::Backends::BROWSER_WEBGPU
        } else {
            wgpu::Backends::from_env().unwrap_or(wgpu::Backends::PRIMARY)
        };
        let instance = wgpu::Instance::new(desc);
        let adapter = instance
            .request_adapter(&wgpu::RequestAdapterOptions {
                power_preference: wgpu::PowerPreference::HighPerformance,
                force_fallback_adapter: false,
                compatible_surface: None,
                apply_limit_buckets: false,
            })
            .await
            .map_err(|e| Error::new(OP, format!("no WebGPU adapter available ({e})")))?;
        let info = adapter.get_info();
        // Ask for what the adapter offers: large models need its buffer-size limits, not the
        // conservative defaults. Features stay empty until a kernel path needs one. The storage
        // buffers per kernel stay at WebGPU's guaranteed 8 even where an adapter offers more
        // (lavapipe: many; SwiftShader: 10), so that a kernel that binds too many fails in every
        // test, not only on the user's GPU.
        let mut limits = adapter.limits();
        limits.max_storage_buffers_per_shader_stage = limits.max_storage_buffers_per_shader_stage.min(MAX_STORAGE_BUFFERS);
        let (device, queue) = adapter
            .request_device(&wgpu::DeviceDescriptor {
                label: Some("webtensor"),
                required_features: wgpu::Features::empty(),
                required_limits: limits.clone(),
                experimental_features: wgpu::ExperimentalFeatures::disabled(),
                memory_hints: wgpu::MemoryHints::Performance,
                trace: wgpu::Trace::Off,
            })
            .await
            .map_err(|e| Error::new(OP, format!("adapter '{}' refused a device: {e}", info.name)))?;
        // wgpu's default handler panics on a validation error; a panic in wasm poisons the module.
        // Errors are kept instead, and the next readback fails with them (our validation aims to
        // make them unreachable, but a result computed past one must not pass for a value).
        let error = Arc::new(Mutex::new(None::<String>));
        let error_slot = error.clone();
        device.on_uncaptured_error(Arc::new(move |e| {
            crate::log(&format!("webtensor: uncaptured WebGPU error: {e}"));
            if let Ok(mut slot) = error_slot.lock() {
                slot.get_or_insert_with(|| e.to_string().chars().take(500).collect());
            }
        }));
        let lost = Arc::new(AtomicBool::new(false));
        let lost_flag = lost.clone();
        device.set_device_lost_callback(move |reason, message| {
            lost_flag.store(true, Ordering::Relaxed);
            crate::log(&format!("webtensor: GPU device lost ({reason:?}): {message}"));
        });
        let limits = device.limits();
        let batch = Batch::new(&device);
        #[allow(unused_mut)]
        let mut name = info.name.clone();
        #[cfg(target_arch = "wasm32")]
        if name.is_empty() {
            name = web_adapter_info(&device).unwrap_or_default();
        }
        let lower = name.to_lowercase();
        let cpu_emulated = info.device_type == wgpu::DeviceType::Cpu || ["swiftshader", "llvmpipe", "lavapipe"].iter().any(|n| lower.contains(n));
        let checks = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("checks"),
            size: CHECK_WORDS * 4,
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        Ok(Rc::new(GpuContext {
            device,
            queue,
            info,
            limits,
            name,
            cpu_emulated,
            pool: RefCell::new(BufferPool::new()),
            batch: RefCell::new(batch),
            kernels: RefCell::new(KernelCache::default()),
            lost,
            error,
            profile: RefCell::new(None),
            checks,
            checks_armed: Cell::new(false),
        }))
    }

    /// True for GPUs emulated on the CPU (SwiftShader in browsers, lavapipe/llvmpipe natively, a
    /// fallback adapter), by device type or name: kernels that avoid workgroup barriers win there
    /// (see shaders/matmul_direct.wgsl), and `tf.ready()` prefers the CPU backend over them.
    pub fn is_cpu_emulated(&self) -> bool {
        self.cpu_emulated
    }

    /// A one-line description of the adapter, e.g. "SwiftShader Device (Subzero) (BrowserWebGpu)".
    /// Browsers often leave the name empty: then the vendor and architecture of `GPUAdapterInfo`.
    pub fn adapter_name(&self) -> String {
        let name = if self.name.is_empty() { "unnamed adapter" } else { &self.name };
        format!("{} ({:?})", name, self.info.backend)
    }

    pub(crate) fn check_alive(&self, op: &str) -> Result<()> {
        if self.is_lost() {
            bail!(op, "the GPU device was lost; `await tf.ready()` brings up a new device (or the CPU backend), and tensors must be made again there");
        }
        Ok(())
    }

    /// Fails with the error WebGPU reported since the last check, if any (and forgets it).
    fn take_error(&self, op: &str) -> Result<()> {
        let reported = self.error.lock().ok().and_then(|mut slot| slot.take());
        match reported {
            Some(message) => bail!(op, "the GPU reported an error in the work behind this result, so it cannot be trusted: {message}"),
            None => Ok(()),
        }
    }

    /// True once the device is gone (lost by the browser/driver, or destroyed).
    pub fn is_lost(&self) -> bool {
        self.lost.load(Ordering::Relaxed)
    }

    /// Destroys the device, as a driver reset or `GPUDevice.destroy()` would: every later call
    /// fails with a clear error instead of hanging. Used to test recovery from device loss.
    pub fn destroy(&self) {
        // Mark first: the browser reports the loss asynchronously, and work recorded in between
        // would go to a dead device.
        self.lost.store(true, Ordering::Relaxed);
        self.batch.borrow_mut().discard();
        self.pool.borrow_mut().trim();
        self.device.destroy();
    }

    /// Largest tensor in bytes that a kernel can bind.
    pub fn max_tensor_bytes(&self) -> u64 {
        (self.limits.max_storage_buffer_binding_size as u64).min(self.limits.max_buffer_size)
    }

    /// An error naming `op` when a tensor of `bytes` cannot fit one buffer on this device.
    pub(crate) fn check_size(&self, op: &str, bytes: u64) -> Result<()> {
        let max = self.max_tensor_bytes();
        if bytes > max {
            bail!(op, "a tensor of {bytes} bytes exceeds this GPU's buffer limit of {max} bytes");
        }
        Ok(())
    }

    /// A buffer for `bytes` of tensor data from the pool. Refuses sizes over the device limits with
    /// an error naming `op`, before asking the device (which would fail asynchronously).
    pub fn alloc(self: &Rc<Self>, op: &str, bytes: u64) -> Result<GpuBuffer> {
        self.check_alive(op)?;
        self.check_size(op, bytes)?;
        let buffer = self.pool.borrow_mut().acquire(&self.device, bytes, TENSOR_USAGE);
        Ok(GpuBuffer { buffer: Some(buffer), bytes, ctx: self.clone() })
    }

    /// A new buffer holding `data`.
    pub fn upload(self: &Rc<Self>, op: &str, data: &[u8]) -> Result<GpuBuffer> {
        let buf = self.alloc(op, data.len() as u64)?;
        // queue.write_buffer runs before any command still waiting in the batch; the pooled buffer
        // may be one those commands read, so submit them first to keep program order.
        self.flush();
        if !data.is_empty() {
            self.queue.write_buffer(buf.raw(), 0, data);
        }
        Ok(buf)
    }

    /// Writes `data`, a JS byte array, into `dst` at byte `offset` with `queue.writeBuffer`: the
    /// bytes go from the JS heap to the device and never through the wasm heap (how weights larger
    /// than wasm32's memory get onto the GPU). Offset and length must be multiples of 4.
    #[cfg(target_arch = "wasm32")]
    pub fn write_from_js(&self, op: &str, dst: &wgpu::Buffer, offset: u64, data: &js_sys::Uint8Array) -> Result<()> {
        self.check_alive(op)?;
        // As in `upload`: commands still waiting in the batch may read this buffer.
        self.flush();
        let (Some(queue), Some(buffer)) = (self.queue.as_webgpu(), dst.as_webgpu()) else {
            bail!(op, "writing from JS needs the browser's WebGPU");
        };
        queue
            .write_buffer_with_f64_and_u8_array(buffer, offset as f64, data)
            .map_err(|e| Error::new(op, format!("writeBuffer failed: {}", e.as_string().unwrap_or_else(|| format!("{e:?}")))))
    }

    pub fn kernel(&self, key: &str, source: impl FnOnce() -> String) -> Rc<Kernel> {
        self.kernels.borrow_mut().get_or_build(&self.device, key, source)
    }

    /// Starts a warm-up trace: until `compile_collected`, ops run for their shapes only (their
    /// dispatches are skipped, so results are meaningless) and note the kernels they need.
    pub fn start_collecting_kernels(&self) {
        self.kernels.borrow_mut().start_collecting();
    }

    /// Ends the trace and compiles every kernel it noted. On WebGPU they are first compiled with
    /// `createComputePipelineAsync`, all at once: the browser compiles them off the main thread
    /// (Dawn on worker threads, in parallel) while the page keeps running; the synchronous creation
    /// that follows then finds them in the browser's pipeline cache. Returns how many were noted.
    pub async fn compile_collected(&self) -> Result<usize> {
        let pending = self.kernels.borrow_mut().take_collected();
        self.check_alive("warmup")?;
        // Holds the browser's pipelines until wgpu's own creation below has found them cached.
        #[cfg(target_arch = "wasm32")]
        let _precompiled = match self.device.as_webgpu() {
            Some(raw) => Some(precompile_in_browser(raw, &pending).await?),
            None => None,
        };
        let noted = pending.len();
        let mut cache = self.kernels.borrow_mut();
        for (key, code) in pending {
            cache.compile(&self.device, &key, code);
        }
        Ok(noted)
    }

    /// Records a dispatch of `kernel` into the shared batch.
    pub fn dispatch(&self, kernel: &Kernel, params: &[u8], buffers: &[&wgpu::Buffer], workgroups: [u32; 3]) {
        // While tracing for a warm-up, kernels have no pipeline yet and nothing runs.
        let Some((pipeline, layout)) = &kernel.compiled else { return };
        if workgroups.contains(&0) {
            return;
        }
        let timer = self.profile_timer();
        self.batch.borrow_mut().dispatch(
            &self.device,
            &self.queue,
            pipeline,
            layout,
            params,
            buffers,
            workgroups,
        );
        self.profile_record(&format!("{} {:?}", kernel.name, workgroups), timer);
    }

    /// Starts a profile: from now on every dispatch, copy and clear is submitted on its own and
    /// waited for, and its wall time is added to its kernel's total. This serialises the GPU, so
    /// totals are for finding where time goes, not for benchmarks. Native only: a browser cannot
    /// block on its queue (there, `take_profile` returns an empty profile).
    pub fn start_profile(&self) {
        self.flush();
        self.wait_idle();
        *self.profile.borrow_mut() = Some(crate::profile::Profile::default());
    }

    /// Ends the profile and returns it.
    pub fn take_profile(&self) -> crate::profile::Profile {
        self.profile.borrow_mut().take().unwrap_or_default()
    }

    fn profile_timer(&self) -> Option<crate::profile::Timer> {
        if self.profile.borrow().is_none() || cfg!(target_arch = "wasm32") {
            return None;
        }
        self.flush();
        self.wait_idle();
        Some(crate::profile::Timer::start())
    }

    fn profile_record(&self, name: &str, timer: Option<crate::profile::Timer>) {
        let Some(timer) = timer else { return };
        self.flush();
        self.wait_idle();
        if let Some(p) = self.profile.borrow_mut().as_mut() {
            p.add(name, timer.elapsed_ms());
        }
    }

    fn wait_idle(&self) {
        #[cfg(not(target_arch = "wasm32"))]
        let _ = self.device.poll(wgpu::PollType::wait_indefinitely());
    }

    /// Records a copy of the first `bytes` of `src` into `dst`.
    pub fn copy(&self, src: &wgpu::Buffer, dst: &wgpu::Buffer, bytes: u64) {
        // A warm-up trace computes nothing, and must not overwrite a variable with its garbage.
        if bytes > 0 && !self.kernels.borrow().is_collecting() {
            let timer = self.profile_timer();
            self.batch.borrow_mut().copy(&self.device, src, dst, bytes);
            self.profile_record("(copy)", timer);
        }
    }

    /// Records a zero fill of the first `bytes` of `dst`.
    pub fn clear(&self, dst: &wgpu::Buffer, bytes: u64) {
        if bytes > 0 && !self.kernels.borrow().is_collecting() {
            let timer = self.profile_timer();
            self.batch.borrow_mut().clear(&self.device, dst, bytes);
            self.profile_record("(clear)", timer);
        }
    }

    /// Submits all recorded work.
    pub fn flush(&self) {
        self.batch.borrow_mut().flush(&self.queue);
    }

    pub fn submits(&self) -> u64 {
        self.batch.borrow().submits
    }

    /// Compute dispatches recorded on this device so far.
    pub fn dispatches(&self) -> u64 {
        self.batch.borrow().dispatched
    }

    /// Reads `bytes` from the start of `src` back to the host. The only path from device to host.
    pub async fn read(self: &Rc<Self>, op: &str, src: &wgpu::Buffer, bytes: u64) -> Result<Vec<u8>> {
        self.check_alive(op)?;
        if self.kernels.borrow().is_collecting() {
            bail!(op, "cannot read values inside a warm-up trace (nothing is computed there)");
        }
        if bytes == 0 {
            return Ok(Vec::new());
        }
        let staging = self.pool.borrow_mut().acquire(&self.device, bytes, READBACK_USAGE);
        self.copy(src, &staging, bytes);
        let checks = self.copy_checks();
        self.flush();
        let result = self.map_for_reading(op, &staging, bytes).await.and_then(|()| {
            let view = staging
                .get_mapped_range(0..bytes)
                .map_err(|e| Error::new(op, format!("reading back from the GPU failed: {e}")))?;
            Ok(view.to_vec())
        });
        if result.is_ok() {
            staging.unmap();
        }
        self.pool.borrow_mut().release(staging);
        self.take_error(op)?;
        self.verify_checks(op, checks).await?;
        result
    }

    /// Reads `bytes` from the start of `src` into a new JS ArrayBuffer: the staging buffer is
    /// mapped through the browser's own GPUBuffer and its range copied once, in JS, so the values
    /// never pass through the wasm heap.
    #[cfg(target_arch = "wasm32")]
    pub async fn read_to_js(self: &Rc<Self>, op: &str, src: &wgpu::Buffer, bytes: u64) -> Result<js_sys::ArrayBuffer> {
        use wasm_bindgen::JsValue;
        self.check_alive(op)?;
        if self.kernels.borrow().is_collecting() {
            bail!(op, "cannot read values inside a warm-up trace (nothing is computed there)");
        }
        if bytes == 0 {
            return Ok(js_sys::ArrayBuffer::new(0));
        }
        let staging = self.pool.borrow_mut().acquire(&self.device, bytes, READBACK_USAGE);
        self.copy(src, &staging, bytes);
        let checks = self.copy_checks();
        self.flush();
        let fail = |what: &str, e: JsValue| Error::new(op, format!("reading back from the GPU failed ({what}): {}", e.as_string().unwrap_or_else(|| format!("{e:?}"))));
        let result = async {
            let Some(raw) = staging.as_webgpu() else { bail!(op, "reading back needs the browser's WebGPU") };
            let mapping = raw.map_async_with_f64_and_f64(1, 0.0, bytes as f64); // GPUMapMode.READ
            let _nudging = firefox_poll::nudge_while_waiting(&self.device, &self.queue);
            wasm_bindgen_futures::JsFuture::from(js_sys::Promise::from(JsValue::from(mapping))).await.map_err(|e| fail("mapAsync", e))?;
            let range = raw.get_mapped_range_with_f64_and_f64(0.0, bytes as f64).map_err(|e| fail("getMappedRange", e))?;
            let copy = range.slice(0);
            raw.unmap();
            Ok(copy)
        }
        .await;
        self.pool.borrow_mut().release(staging);
        self.take_error(op)?;
        self.verify_checks(op, checks).await?;
        result
    }

    /// The checks buffer, for a kernel that may note input it cannot compute; the next readback
    /// then reads it.
    pub fn checks(&self) -> &wgpu::Buffer {
        self.checks_armed.set(true);
        &self.checks
    }

    /// When a kernel may have written the checks since the last readback: a staging copy of them,
    /// recorded after that work (before the flush of a readback).
    fn copy_checks(&self) -> Option<wgpu::Buffer> {
        if !self.checks_armed.replace(false) {
            return None;
        }
        let staging = self.pool.borrow_mut().acquire(&self.device, CHECK_WORDS * 4, READBACK_USAGE);
        self.copy(&self.checks, &staging, CHECK_WORDS * 4);
        Some(staging)
    }

    /// Maps the first `bytes` of `staging` (its copy flushed) for reading, and waits for it.
    async fn map_for_reading(&self, op: &str, staging: &wgpu::Buffer, bytes: u64) -> Result<()> {
        let (tx, rx) = futures_channel::oneshot::channel();
        staging.map_async(wgpu::MapMode::Read, 0..bytes, move |r| {
            let _ = tx.send(r);
        });
        #[cfg(target_arch = "wasm32")]
        let _nudging = firefox_poll::nudge_while_waiting(&self.device, &self.queue);
        #[cfg(not(target_arch = "wasm32"))]
        if let Err(e) = self.device.poll(wgpu::PollType::wait_indefinitely()) {
            bail!(op, "waiting for the GPU failed: {e}");
        }
        match rx.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(Error::new(op, format!("reading back from the GPU failed: {e}"))),
            Err(_) => Err(Error::new(op, "reading back from the GPU failed: the device went away")),
        }
    }

    /// Reads the staged checks (their work is done: the readback they rode with has completed)
    /// and fails naming what a kernel noted, clearing it.
    async fn verify_checks(self: &Rc<Self>, op: &str, staging: Option<wgpu::Buffer>) -> Result<()> {
        let Some(staging) = staging else { return Ok(()) };
        let bytes = CHECK_WORDS * 4;
        let mut words = [0u32; CHECK_WORDS as usize];
        if self.map_for_reading(op, &staging, bytes).await.is_ok() {
            if let Ok(view) = staging.get_mapped_range(0..bytes) {
                words.copy_from_slice(bytemuck::cast_slice(&view[..]));
            }
            staging.unmap();
        }
        self.pool.borrow_mut().release(staging);
        if words[0] == 0 {
            return Ok(());
        }
        self.queue.write_buffer(&self.checks, 0, &[0u8; CHECK_WORDS as usize * 4]);
        match words[0] {
            CHECK_GATHER_INDEX => bail!(
                op,
                "an earlier gather on the GPU met index {}, outside an axis of {} (it gave zeros there, so nothing computed from them can be trusted)",
                words[1] as i32,
                words[2]
            ),
            other => bail!(op, "a GPU kernel noted a failed check ({other}) in the work behind this result"),
        }
    }

    pub fn pool_stats(&self) -> PoolStats {
        self.pool.borrow().stats()
    }

    /// Starts a new peak of live pooled bytes (see `PoolStats::peak_live_bytes`).
    pub fn reset_pool_peak(&self) {
        self.pool.borrow_mut().reset_peak();
    }

    /// Gives the pool's free buffers back to the device.
    pub fn trim_pool(&self) {
        self.pool.borrow_mut().trim();
    }

    pub fn kernel_count(&self) -> usize {
        self.kernels.borrow().len()
    }
}

/// "vendor architecture description" from the browser's `GPUDevice.adapterInfo`, the fields that
/// are there (read by name: older browsers lack the attribute).
#[cfg(target_arch = "wasm32")]
fn web_adapter_info(device: &wgpu::Device) -> Option<String> {
    let raw = device.as_webgpu()?;
    let info = js_sys::Reflect::get(raw.as_ref(), &"adapterInfo".into()).ok().filter(|v| v.is_object())?;
    let parts: Vec<String> = ["vendor", "architecture", "description"]
        .iter()
        .filter_map(|k| js_sys::Reflect::get(&info, &(*k).into()).ok()?.as_string().filter(|s| !s.is_empty()))
        .collect();
    (!parts.is_empty()).then(|| parts.join(" "))
}

/// Firefox completes WebGPU work (and so resolves `mapAsync`) from a 100 ms timer, Mozilla bug
/// 1870699, which made every readback there take ~100 ms however small the work. A submit polls
/// too, so while a read waits, an empty command buffer is submitted every few milliseconds (the
/// workaround jax-js and donner use). Other browsers resolve maps promptly and are left alone.
#[cfg(target_arch = "wasm32")]
mod firefox_poll {
    use std::cell::Cell;
    use std::rc::Rc;

    /// Gives up on a map that never resolves (a lost device) after this long.
    const DEADLINE_MS: f64 = 1000.0;

    fn is_firefox() -> bool {
        thread_local!(static FIREFOX: bool = {
            let global = js_sys::global();
            js_sys::Reflect::get(&global, &"navigator".into())
                .and_then(|n| js_sys::Reflect::get(&n, &"userAgent".into()))
                .ok()
                .and_then(|ua| ua.as_string())
                .is_some_and(|ua| ua.contains("Firefox/"))
        });
        FIREFOX.with(|f| *f)
    }

    /// A promise resolved by `setTimeout(resolve, 1)` (in windows and workers alike).
    async fn next_timer() {
        let promise = js_sys::Promise::new(&mut |resolve, _| {
            let global = js_sys::global();
            if let Ok(set_timeout) = js_sys::Reflect::get(&global, &"setTimeout".into()) {
                let set_timeout: js_sys::Function = set_timeout.into();
                let _ = set_timeout.call2(&global, &resolve, &1.into());
            }
        });
        let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
    }

    /// Stops the nudging when dropped (when the read has its answer).
    pub struct Nudging(Rc<Cell<bool>>);

    impl Drop for Nudging {
        fn drop(&mut self) {
            self.0.set(true);
        }
    }

    pub fn nudge_while_waiting(device: &wgpu::Device, queue: &wgpu::Queue) -> Option<Nudging> {
        if !is_firefox() {
            return None;
        }
        let done = Rc::new(Cell::new(false));
        let (flag, device, queue) = (done.clone(), device.clone(), queue.clone());
        wasm_bindgen_futures::spawn_local(async move {
            let start = js_sys::Date::now();
            while !flag.get() && js_sys::Date::now() - start < DEADLINE_MS {
                next_timer().await;
                if !flag.get() {
                    queue.submit(Some(device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("poll nudge") }).finish()));
                }
            }
        });
        Some(Nudging(done))
    }
}

#[cfg(target_arch = "wasm32")]
fn has_navigator_gpu() -> bool {
    let global = js_sys::global();
    let Ok(navigator) = js_sys::Reflect::get(&global, &"navigator".into()) else { return false };
    if navigator.is_undefined() || navigator.is_null() {
        return false;
    }
    js_sys::Reflect::get(&navigator, &"gpu".into()).is_ok_and(|gpu| !gpu.is_undefined() && !gpu.is_null())
}

/// Splits `groups` workgroups over x and y so neither exceeds the per-dimension limit. Kernels
/// recover the flat index as `wg.x + wg.y * num_workgroups.x`.
pub fn grid_2d(groups: u64) -> Result<[u32; 3]> {
    let max = MAX_WORKGROUPS_PER_DIM as u64;
    if groups <= max {
        return Ok([groups as u32, 1, 1]);
    }
    let y = groups.div_ceil(max);
    if y > max {
        bail!("dispatch", "{groups} workgroups exceed the device grid");
    }
    Ok([max as u32, y as u32, 1])
}

/// `createComputePipelineAsync` for every kernel, awaited together. The pipelines are kept until
/// wgpu has created its own (same WGSL, same automatic layout): the browser's cache hands those out
/// without compiling again.
#[cfg(target_arch = "wasm32")]
async fn precompile_in_browser(device: &wgpu::webgpu::GpuDevice, kernels: &[(String, String)]) -> Result<wasm_bindgen::JsValue> {
    use wasm_bindgen::{JsCast, JsValue};
    const OP: &str = "warmup";
    let fail = |what: &str, e: JsValue| Error::new(OP, format!("{what}: {}", e.as_string().unwrap_or_else(|| format!("{e:?}"))));
    let dev: &JsValue = device.as_ref();
    let method = |name: &str| -> Result<js_sys::Function> {
        js_sys::Reflect::get(dev, &name.into())
            .map_err(|e| fail(name, e))?
            .dyn_into::<js_sys::Function>()
            .map_err(|e| fail(name, e))
    };
    let create_module = method("createShaderModule")?;
    let create_bgl = method("createBindGroupLayout")?;
    let create_layout = method("createPipelineLayout")?;
    let create_pipeline = method("createComputePipelineAsync")?;
    let set = |o: &js_sys::Object, k: &str, v: &JsValue| js_sys::Reflect::set(o, &k.into(), v).map(|_| ()).map_err(|e| fail(k, e));
    let promises = js_sys::Array::new();
    for (key, code) in kernels {
        // The same explicit layout wgpu makes (kernel::bindings), so the browser's cache matches.
        let entries = js_sys::Array::new();
        for (binding, kind) in crate::kernel::bindings(code) {
            let buffer = js_sys::Object::new();
            set(&buffer, "type", &kind.webgpu_name().into())?;
            let entry = js_sys::Object::new();
            set(&entry, "binding", &binding.into())?;
            set(&entry, "visibility", &4u32.into())?; // GPUShaderStage.COMPUTE
            set(&entry, "buffer", &buffer)?;
            entries.push(&entry);
        }
        let bgl_desc = js_sys::Object::new();
        set(&bgl_desc, "entries", &entries)?;
        let bgl = create_bgl.call1(dev, &bgl_desc).map_err(|e| fail("createBindGroupLayout", e))?;
        let layout_desc = js_sys::Object::new();
        set(&layout_desc, "bindGroupLayouts", &js_sys::Array::of1(&bgl))?;
        let layout = create_layout.call1(dev, &layout_desc).map_err(|e| fail("createPipelineLayout", e))?;
        let module_desc = js_sys::Object::new();
        set(&module_desc, "code", &code.as_str().into())?;
        set(&module_desc, "label", &key.as_str().into())?;
        let module = create_module.call1(dev, &module_desc).map_err(|e| fail("createShaderModule", e))?;
        let stage = js_sys::Object::new();
        set(&stage, "module", &module)?;
        set(&stage, "entryPoint", &"main".into())?;
        let desc = js_sys::Object::new();
        set(&desc, "layout", &layout)?;
        set(&desc, "compute", &stage)?;
        set(&desc, "label", &key.as_str().into())?;
        promises.push(&create_pipeline.call1(dev, &desc).map_err(|e| fail("createComputePipelineAsync", e))?);
    }
    wasm_bindgen_futures::JsFuture::from(js_sys::Promise::all(&promises))
        .await
        .map_err(|e| fail("compiling kernels", e))
}
