//! The #[wasm_bindgen] facade: thin conversions between JS values and the engine, no logic.
//! Every fallible call returns `Result<_, JsError>`, which JS sees as a thrown `Error` whose
//! message names the op and the shapes.
use std::cell::RefCell;

use wasm_bindgen::prelude::*;
use wasm_bindgen::convert::TryFromJsValue;
use wasm_bindgen::JsCast;

use crate::ops::{self, BinaryOp, CompareOp, Loss, LossTerms, Padding, Reduce, Reduction, UnaryOp};
use crate::optim::{Kind, Optimizer};
use crate::{autograd, DType, Device, Error, Tensor};

thread_local! {
    static CURRENT: RefCell<Option<Device>> = const { RefCell::new(None) };
    /// The WebGPU device once opened: switching backends back and forth reuses it (and its
    /// tensors stay valid).
    static GPU: RefCell<Option<Device>> = const { RefCell::new(None) };
}

async fn gpu_device() -> crate::Result<Device> {
    // A lost device is replaced: its tensors keep failing clearly, new ones go to the new device.
    if let Some(dev) = GPU.with(|g| g.borrow().clone()).filter(|d| !is_lost(d)) {
        return Ok(dev);
    }
    let dev = Device::gpu().await?;
    GPU.with(|g| *g.borrow_mut() = Some(dev.clone()));
    Ok(dev)
}

fn is_lost(dev: &Device) -> bool {
    matches!(dev, Device::Gpu(ctx) if ctx.is_lost())
}

fn js(e: Error) -> JsError {
    JsError::new(&e.to_string())
}

fn device() -> Result<Device, JsError> {
    CURRENT.with(|c| c.borrow().clone()).ok_or_else(|| JsError::new("webtensor: call `await init()` first"))
}

fn dims(shape: &[u32]) -> Vec<usize> {
    shape.iter().map(|&d| d as usize).collect()
}

fn dtype(name: &str) -> Result<DType, JsError> {
    DType::parse(name).ok_or_else(|| JsError::new(&format!("unknown dtype '{name}' (use float32, float16, int32 or bool)")))
}

/// Starts a backend: "webgpu", "cpu", or (no argument) WebGPU when an adapter exists, else CPU.
/// Returns the backend's name.
#[wasm_bindgen]
pub async fn init(backend: Option<String>) -> Result<String, JsError> {
    let dev = match backend.as_deref() {
        Some("cpu") => Device::Cpu,
        Some("webgpu") => gpu_device().await.map_err(js)?,
        // Automatic: a GPU emulated on the CPU (SwiftShader, lavapipe, llvmpipe, a fallback
        // adapter) runs this engine's kernels several times slower than the CPU backend on the
        // same cores (the digits demo trains 12x faster on the CPU than on SwiftShader), so
        // only a real GPU is chosen.
        None => match gpu_device().await {
            Ok(Device::Gpu(ctx)) if !ctx.is_cpu_emulated() => Device::Gpu(ctx),
            _ => Device::Cpu,
        },
        Some(other) => return Err(JsError::new(&format!("unknown backend '{other}' (use 'webgpu' or 'cpu')"))),
    };
    let name = dev.backend_name().to_string();
    CURRENT.with(|c| *c.borrow_mut() = Some(dev));
    Ok(name)
}

/// Runs a worker of the CPU backend's thread pool (threaded build only; src/js/thread_worker.ts
/// calls it in each Web Worker or Node worker thread): it helps with kernels' tasks and never
/// returns.
/// In the single-threaded builds there is no pool to help (a worker would wait on a memory that
/// cannot be shared, which traps): an Error instead.
#[wasm_bindgen(js_name = threadWorkerLoop)]
pub fn thread_worker_loop() -> Result<(), JsError> {
    threaded_build_only("threadWorkerLoop")?;
    crate::threads::worker_loop()
}

/// Counts the calling worker in the pool, before it enters `threadWorkerLoop`.
#[wasm_bindgen(js_name = threadWorkerJoin)]
pub fn thread_worker_join() -> Result<(), JsError> {
    threaded_build_only("threadWorkerJoin")?;
    crate::threads::join_pool();
    Ok(())
}

fn threaded_build_only(name: &str) -> Result<(), JsError> {
    if cfg!(target_feature = "atomics") {
        Ok(())
    } else {
        Err(JsError::new(&format!("{name}: this build of the engine has no worker threads (the threaded one is webtensor_threads_bg.wasm)")))
    }
}

/// What a worker instantiates to share this instance's memory: [module, memory].
#[wasm_bindgen(js_name = threadStartData)]
pub fn thread_start_data() -> js_sys::Array {
    js_sys::Array::of2(&wasm_bindgen::module(), &wasm_bindgen::memory())
}

/// Whether the CPU backend keeps weights packed for its products (src/ops/packed_weights.rs).
#[wasm_bindgen(js_name = setWeightPacking)]
pub fn set_weight_packing(on: bool) {
    crate::ops::packed_weights::set_enabled(on)
}

/// Threads the CPU backend's kernels run on: the workers that have started, and this one.
#[wasm_bindgen(js_name = cpuThreads)]
pub fn cpu_threads() -> usize {
    crate::threads::threads()
}

/// True when the current backend's GPU device has been lost (then `init` brings up a new one).
#[wasm_bindgen(js_name = deviceLost)]
pub fn device_lost() -> bool {
    CURRENT.with(|c| c.borrow().as_ref().is_some_and(is_lost))
}

/// Destroys the current WebGPU device, as a driver reset would (for testing recovery).
#[wasm_bindgen(js_name = destroyDevice)]
pub fn destroy_device() -> Result<(), JsError> {
    match device()? {
        Device::Gpu(ctx) => {
            ctx.destroy();
            Ok(())
        }
        Device::Cpu => Err(JsError::new("destroyDevice: the current backend is the CPU; there is no GPU device to destroy")),
    }
}

/// The largest tensor, in bytes, the current backend can hold in one buffer.
#[wasm_bindgen(js_name = maxTensorBytes)]
pub fn max_tensor_bytes() -> Result<f64, JsError> {
    Ok(match device()? {
        Device::Gpu(ctx) => ctx.max_tensor_bytes() as f64,
        Device::Cpu => (crate::shape::MAX_ELEMENTS as f64) * 4.0,
    })
}

/// Bytes of wasm linear memory (the wasm heap; it only grows).
#[wasm_bindgen(js_name = wasmMemoryBytes)]
pub fn wasm_memory_bytes() -> f64 {
    wasm_bindgen::memory().unchecked_into::<js_sys::WebAssembly::Memory>().buffer().unchecked_into::<js_sys::ArrayBuffer>().byte_length() as f64
}

/// Starts a warm-up trace on WebGPU: ops note the kernels they need and compute nothing, until
/// `compileTraced`. (No-op on the CPU backend, which compiles nothing.)
#[wasm_bindgen(js_name = startKernelTrace)]
pub fn start_kernel_trace() -> Result<(), JsError> {
    if let Device::Gpu(ctx) = device()? {
        ctx.start_collecting_kernels();
    }
    Ok(())
}

/// Runs every pending elementwise expression now (in a warm-up trace: notes their kernels).
#[wasm_bindgen(js_name = realizePending)]
pub fn realize_pending() -> Result<(), JsError> {
    crate::fusion::realize_all().map_err(js)
}

/// Ends the trace and compiles the kernels it noted with `createComputePipelineAsync` (off the
/// main thread). Resolves to how many it compiled.
#[wasm_bindgen(js_name = compileTraced)]
pub async fn compile_traced() -> Result<u32, JsError> {
    match device()? {
        Device::Gpu(ctx) => Ok(ctx.compile_collected().await.map_err(js)? as u32),
        Device::Cpu => Ok(0),
    }
}

/// Kernels compiled so far on the current device (0 on the CPU).
#[wasm_bindgen(js_name = compiledKernels)]
pub fn compiled_kernels() -> Result<u32, JsError> {
    Ok(match device()? {
        Device::Gpu(ctx) => ctx.kernel_count() as u32,
        Device::Cpu => 0,
    })
}

/// What runs the kernels: the CPU and which of the three wasm builds runs it (with its threads),
/// or the WebGPU adapter's name.
#[wasm_bindgen(js_name = deviceDescription)]
pub fn device_description() -> Result<String, JsError> {
    Ok(match device()? {
        Device::Cpu if cfg!(target_feature = "atomics") => format!("CPU (wasm SIMD128, {} threads)", crate::threads::threads()),
        Device::Cpu if cfg!(feature = "relaxed-simd") => "CPU (wasm SIMD128 with relaxed-SIMD fused multiply-add)".to_string(),
        Device::Cpu => "CPU (wasm SIMD128)".to_string(),
        gpu => gpu.description(),
    })
}

/// Live tensors, the bytes the backend holds for them now and at most since `resetPeakBytes`
/// (CPU: tensor storage; WebGPU: pooled buffers handed out), on the CPU the bytes of weights'
/// packed copies (src/ops/packed_weights.rs), and on WebGPU the pool's figures.
#[wasm_bindgen(js_name = memoryInfo)]
pub fn memory_info() -> Result<js_sys::Object, JsError> {
    let device = device()?;
    let (live, peak) = device.tensor_bytes();
    let mut figures = vec![("numTensors", crate::tensor::live_tensors() as f64), ("liveBytes", live as f64), ("peakBytes", peak as f64)];
    if let Device::Cpu = &device {
        figures.push(("packedWeightBytes", crate::ops::packed_weights::packed_bytes() as f64));
    }
    if let Device::Gpu(ctx) = &device {
        let s = ctx.pool_stats();
        figures.extend([
            ("poolLiveBytes", s.live_bytes as f64),
            ("poolFreeBytes", s.free_bytes as f64),
            ("poolHighWaterBytes", s.high_water_bytes as f64),
            ("buffersCreated", s.created_buffers as f64),
            ("submits", ctx.submits() as f64),
            ("dispatches", ctx.dispatches() as f64),
        ]);
    }
    let o = js_sys::Object::new();
    for (k, v) in figures {
        js_sys::Reflect::set(&o, &k.into(), &v.into()).map_err(|_| JsError::new("memoryInfo"))?;
    }
    Ok(o)
}

/// Starts a new peak of the bytes `memoryInfo` reports as `peakBytes`, at the bytes live now.
#[wasm_bindgen(js_name = resetPeakBytes)]
pub fn reset_peak_bytes() -> Result<(), JsError> {
    device()?.reset_peak_bytes();
    Ok(())
}

/// Every op name the engine implements.
#[wasm_bindgen(js_name = opNames)]
pub fn op_names() -> Vec<String> {
    ops::op_names().into_iter().map(String::from).collect()
}

/// The op table: [{name, backends, dtypes, gradient}] straight from the registry.
#[wasm_bindgen(js_name = opTable)]
pub fn op_table() -> js_sys::Array {
    let rows = js_sys::Array::new();
    for op in ops::op_table() {
        let o = js_sys::Object::new();
        let strings = |v: &mut dyn Iterator<Item = &str>| v.map(JsValue::from).collect::<js_sys::Array>();
        let _ = js_sys::Reflect::set(&o, &"name".into(), &op.name.into());
        let _ = js_sys::Reflect::set(&o, &"backends".into(), &strings(&mut ops::BACKENDS.iter().copied()));
        let _ = js_sys::Reflect::set(&o, &"dtypes".into(), &strings(&mut op.dtypes.iter().map(|d| d.name())));
        let _ = js_sys::Reflect::set(&o, &"gradient".into(), &op.gradient.into());
        rows.push(&o);
    }
    rows
}

#[wasm_bindgen(js_name = Tensor)]
pub struct JsTensor {
    inner: Tensor,
}

fn wrap(r: crate::Result<Tensor>) -> Result<JsTensor, JsError> {
    r.map(|inner| JsTensor { inner }).map_err(js)
}

#[wasm_bindgen(js_class = Tensor)]
impl JsTensor {
    /// A tensor of `shape` holding `data`: a Float32Array for float32, an Int32Array for int32
    /// and bool (0 or 1). On WebGPU the bytes go from the typed array straight to the device
    /// buffer (queue.writeBuffer): no copy through the wasm heap; the CPU backend copies them
    /// once, into its storage. float16 takes a Float32Array (rounded to the nearest halves) or
    /// a Uint16Array of half-precision bits (a float16 weight file's bytes, as they are).
    #[wasm_bindgen(js_name = fromArray)]
    pub fn from_array(data: &js_sys::Object, shape: &[u32], dtype_name: &str) -> Result<JsTensor, JsError> {
        const OP: &str = "tensor";
        let dt = dtype(dtype_name)?;
        if dt == DType::F16 {
            return JsTensor::from_halves(data, dims(shape));
        }
        let (buffer, offset, len) = if dt == DType::F32 {
            let a = data.dyn_ref::<js_sys::Float32Array>().ok_or_else(|| JsError::new("tensor: float32 data must be a Float32Array"))?;
            (a.buffer(), a.byte_offset(), a.length())
        } else {
            let a = data.dyn_ref::<js_sys::Int32Array>().ok_or_else(|| JsError::new("tensor: int32 and bool data must be an Int32Array"))?;
            (a.buffer(), a.byte_offset(), a.length())
        };
        let shape = dims(shape);
        crate::shape::check_rank(OP, &shape).map_err(js)?;
        let n = crate::shape::checked_numel(OP, &shape).map_err(js)?;
        if n != len as usize {
            return Err(JsError::new(&format!("tensor: {len} values cannot fill a tensor of shape {shape:?} ({n} elements)")));
        }
        let bytes = js_sys::Uint8Array::new_with_byte_offset_and_length(&buffer, offset, len * 4);
        let storage = match device()? {
            Device::Cpu => {
                let mut words = crate::tensor::alloc_words(OP, n).map_err(js)?;
                bytes.copy_to(bytemuck::cast_slice_mut(&mut words));
                crate::tensor::Storage::cpu(words)
            }
            Device::Gpu(ctx) => {
                let buf = ctx.alloc(OP, (n * 4) as u64).map_err(js)?;
                ctx.write_from_js(OP, buf.raw(), 0, &bytes).map_err(js)?;
                crate::tensor::Storage::gpu(buf)
            }
        };
        Ok(JsTensor { inner: Tensor::from_storage(&device()?, std::rc::Rc::new(storage), shape, dt) })
    }

    fn from_halves(data: &js_sys::Object, shape: Vec<usize>) -> Result<JsTensor, JsError> {
        const OP: &str = "tensor";
        crate::shape::check_rank(OP, &shape).map_err(js)?;
        let n = crate::shape::checked_numel(OP, &shape).map_err(js)?;
        let words = if let Some(a) = data.dyn_ref::<js_sys::Uint16Array>() {
            if a.length() as usize != n {
                return Err(JsError::new(&format!("tensor: {} halves cannot fill a tensor of shape {shape:?} ({n} elements)", a.length())));
            }
            let mut words = crate::tensor::alloc_words(OP, n.div_ceil(2)).map_err(js)?;
            a.copy_to(&mut bytemuck::cast_slice_mut::<u32, u16>(&mut words)[..n]);
            words
        } else if let Some(a) = data.dyn_ref::<js_sys::Float32Array>() {
            if a.length() as usize != n {
                return Err(JsError::new(&format!("tensor: {} values cannot fill a tensor of shape {shape:?} ({n} elements)", a.length())));
            }
            crate::dtype::pack_halves(&a.to_vec())
        } else {
            return Err(JsError::new("tensor: float16 data must be a Float32Array or a Uint16Array of half-precision bits"));
        };
        wrap(Tensor::from_words(&device()?, words, &shape, DType::F16))
    }

    pub fn fill(shape: &[u32], value: f64, dtype_name: &str) -> Result<JsTensor, JsError> {
        wrap(ops::fill(&device()?, &dims(shape), value, dtype(dtype_name)?))
    }

    #[wasm_bindgen(js_name = randomUniform)]
    pub fn random_uniform(shape: &[u32], min: f32, max: f32, seed: Option<u32>) -> Result<JsTensor, JsError> {
        wrap(ops::random_uniform(&device()?, &dims(shape), min, max, seed))
    }

    #[wasm_bindgen(js_name = randomNormal)]
    pub fn random_normal(shape: &[u32], mean: f32, std: f32, seed: Option<u32>) -> Result<JsTensor, JsError> {
        wrap(ops::random_normal(&device()?, &dims(shape), mean, std, seed))
    }

    /// [dtype code (0 float32, 1 int32, 2 bool, 3 float16), then the dimensions]: one crossing
    /// of the boundary for what the JS tensor keeps.
    #[wasm_bindgen(getter)]
    pub fn meta(&self) -> Vec<u32> {
        let code = match self.inner.dtype() {
            DType::F32 => 0,
            DType::I32 => 1,
            DType::Bool => 2,
            DType::F16 => 3,
        };
        std::iter::once(code).chain(self.inner.shape().iter().map(|&d| d as u32)).collect()
    }

    /// Resolves to a Float32Array (float32, and float16 widened, as TF.js reads halves) or an
    /// Int32Array (int32, bool). On WebGPU the values are copied once, from the mapped staging
    /// buffer into the array, never through the wasm heap (halves are widened through it).
    pub fn data(&self) -> js_sys::Promise {
        let t = self.inner.clone();
        wasm_bindgen_futures::future_to_promise(async move {
            let err = |e| JsValue::from(js(e));
            let n = t.numel();
            match t.data().map_err(err)? {
                crate::tensor::Data::Gpu(buf) => {
                    let ctx = buf.context().clone();
                    let raw = buf.raw().clone();
                    let bytes = ctx.read_to_js("data", &raw, t.size_bytes() as u64).await.map_err(err)?;
                    Ok(match t.dtype() {
                        DType::F32 => js_sys::Float32Array::new(&bytes).into(),
                        DType::I32 | DType::Bool => js_sys::Int32Array::new(&bytes).into(),
                        DType::F16 => typed_array(&t, &js_sys::Uint32Array::new(&bytes).to_vec()),
                    })
                }
                crate::tensor::Data::Cpu(words) => Ok(typed_array(&t, &words.borrow()[..t.dtype().words(n)])),
            }
        })
    }

    /// Synchronous read: works on the CPU backend; on WebGPU it throws, naming `await t.data()`.
    #[wasm_bindgen(js_name = dataSync)]
    pub fn data_sync(&self) -> Result<JsValue, JsError> {
        if let Device::Gpu(_) = self.inner.device() {
            self.inner.to_words_sync().map_err(js)?;
        }
        let n = self.inner.numel();
        match self.inner.data().map_err(js)? {
            crate::tensor::Data::Cpu(words) => Ok(typed_array(&self.inner, &words.borrow()[..self.inner.dtype().words(n)])),
            crate::tensor::Data::Gpu(_) => unreachable!("to_words_sync refused the GPU"),
        }
    }

    pub fn unary(&self, op: UnaryOp, alpha: Option<f32>, beta: Option<f32>) -> Result<JsTensor, JsError> {
        wrap(ops::unary(op, &self.inner, alpha.unwrap_or(0.0), beta.unwrap_or(0.0)))
    }

    pub fn binary(&self, op: BinaryOp, other: &JsTensor) -> Result<JsTensor, JsError> {
        wrap(ops::binary(op, &self.inner, &other.inner))
    }

    pub fn compare(&self, op: CompareOp, other: &JsTensor) -> Result<JsTensor, JsError> {
        wrap(ops::compare(op, &self.inner, &other.inner))
    }

    #[wasm_bindgen(js_name = logicalNot)]
    pub fn logical_not(&self) -> Result<JsTensor, JsError> {
        wrap(ops::logical_not(&self.inner))
    }

    /// A reduction over `axes` (all axes when absent).
    pub fn reduce(&self, kind: Reduce, axes: Option<Vec<i32>>, keep_dims: bool) -> Result<JsTensor, JsError> {
        let axes: Option<Vec<i64>> = axes.map(|a| a.into_iter().map(i64::from).collect());
        wrap(ops::reduce(kind, &self.inner, axes.as_deref(), keep_dims))
    }

    #[wasm_bindgen(js_name = argMax)]
    pub fn arg_max(&self, axis: i32) -> Result<JsTensor, JsError> {
        wrap(ops::argmax(&self.inner, axis as i64))
    }

    #[wasm_bindgen(js_name = argMin)]
    pub fn arg_min(&self, axis: i32) -> Result<JsTensor, JsError> {
        wrap(ops::argmin(&self.inner, axis as i64))
    }

    #[wasm_bindgen(js_name = matMul)]
    pub fn mat_mul(&self, other: &JsTensor, transpose_a: bool, transpose_b: bool) -> Result<JsTensor, JsError> {
        wrap(ops::matmul(&self.inner, &other.inner, transpose_a, transpose_b))
    }

    /// The benchmark's baseline: the same product through the naive kernel.
    #[wasm_bindgen(js_name = matMulNaive)]
    pub fn mat_mul_naive(&self, other: &JsTensor) -> Result<JsTensor, JsError> {
        wrap(ops::matmul_with(&self.inner, &other.inner, false, false, ops::MatmulKernel::Naive))
    }

    pub fn reshape(&self, shape: Vec<i32>) -> Result<JsTensor, JsError> {
        let s: Vec<i64> = shape.into_iter().map(i64::from).collect();
        wrap(ops::reshape(&self.inner, &s))
    }

    pub fn transpose(&self, perm: Option<Vec<u32>>) -> Result<JsTensor, JsError> {
        let perm: Option<Vec<usize>> = perm.map(|p| dims(&p));
        wrap(ops::transpose(&self.inner, perm.as_deref()))
    }

    pub fn slice(&self, begin: &[u32], size: Vec<i32>) -> Result<JsTensor, JsError> {
        let size: Vec<i64> = size.into_iter().map(i64::from).collect();
        wrap(ops::slice(&self.inner, &dims(begin), &size))
    }

    #[wasm_bindgen(js_name = broadcastTo)]
    pub fn broadcast_to(&self, shape: &[u32]) -> Result<JsTensor, JsError> {
        wrap(ops::broadcast_to(&self.inner, &dims(shape)))
    }

    pub fn cast(&self, dtype_name: &str) -> Result<JsTensor, JsError> {
        wrap(ops::cast(&self.inner, dtype(dtype_name)?))
    }

    /// `where(this, a, b)`: this is the condition.
    #[wasm_bindgen(js_name = where)]
    pub fn where_(&self, a: &JsTensor, b: &JsTensor) -> Result<JsTensor, JsError> {
        wrap(ops::where_(&self.inner, &a.inner, &b.inner))
    }

    pub fn concat(tensors: Vec<JsTensor>, axis: i32) -> Result<JsTensor, JsError> {
        let refs: Vec<&Tensor> = tensors.iter().map(|t| &t.inner).collect();
        wrap(ops::concat(&refs, axis as i64))
    }

    pub fn einsum(equation: &str, operands: Vec<JsTensor>) -> Result<JsTensor, JsError> {
        let refs: Vec<&Tensor> = operands.iter().map(|t| &t.inner).collect();
        wrap(ops::einsum(equation, &refs))
    }

    pub fn stack(tensors: Vec<JsTensor>, axis: i32) -> Result<JsTensor, JsError> {
        let refs: Vec<&Tensor> = tensors.iter().map(|t| &t.inner).collect();
        wrap(ops::stack(&refs, axis as i64))
    }

    /// A second handle on the same tensor (JS objects own their handle; dispose each).
    #[wasm_bindgen(js_name = clone)]
    pub fn clone_handle(&self) -> JsTensor {
        JsTensor { inner: self.inner.clone() }
    }
}

fn pair(op: &str, v: &[u32]) -> Result<(usize, usize), JsError> {
    match v {
        [a] => Ok((*a as usize, *a as usize)),
        [a, b] => Ok((*a as usize, *b as usize)),
        _ => Err(JsError::new(&format!("{op}: expected 1 or 2 numbers, got {}", v.len()))),
    }
}

/// "same", "valid", or "explicit" with `amounts` = [top, bottom, left, right].
fn padding(op: &str, p: &str, amounts: &[u32]) -> Result<Padding, JsError> {
    match (p, amounts) {
        ("explicit", &[t, b, l, r]) => Ok(Padding::Explicit(t as usize, b as usize, l as usize, r as usize)),
        ("explicit", _) => Err(js(Error::new(op, format!("explicit padding takes 4 amounts (top, bottom, left, right), got {}", amounts.len())))),
        _ => Padding::parse(op, p).map_err(js),
    }
}

#[wasm_bindgen(js_class = Tensor)]
impl JsTensor {
    #[wasm_bindgen(getter, js_name = requiresGrad)]
    pub fn requires_grad(&self) -> bool {
        self.inner.requires_grad()
    }

    /// Overwrites bytes of this tensor from a JS byte array, at byte `offset` (both multiples of 4).
    /// On WebGPU the bytes go straight to the device buffer (queue.writeBuffer), never through the
    /// wasm heap: this is how streamed weights load.
    #[wasm_bindgen(js_name = writeBytes)]
    pub fn write_bytes(&self, offset: f64, data: &js_sys::Uint8Array) -> Result<(), JsError> {
        const OP: &str = "writeBytes";
        let len = data.length() as usize;
        let size = self.inner.size_bytes();
        if !(offset >= 0.0 && offset.fract() == 0.0) || offset as usize % 4 != 0 || len % 4 != 0 || offset as usize + len > size {
            return Err(JsError::new(&format!(
                "{OP}: {len} bytes at offset {offset} do not fit a tensor of {size} bytes in whole 4-byte words"
            )));
        }
        let offset = offset as usize;
        self.inner.prepare_overwrite().map_err(js)?;
        match self.inner.data().map_err(js)? {
            crate::tensor::Data::Cpu(words) => {
                let mut words = words.borrow_mut();
                let bytes: &mut [u8] = bytemuck::cast_slice_mut(&mut words[..]);
                data.copy_to(&mut bytes[offset..offset + len]);
                Ok(())
            }
            crate::tensor::Data::Gpu(buffer) => {
                buffer.context().write_from_js(OP, buffer.raw(), offset as u64, data).map_err(js)
            }
        }
    }

    /// Marks this tensor's storage as a model weight (variables are): products on the CPU
    /// backend that read it again and again keep it packed until it is written.
    #[wasm_bindgen(js_name = markWeight)]
    pub fn mark_weight(&self) {
        self.inner.mark_weight()
    }

    /// Marks this tensor as a parameter: `backward()` accumulates its gradient in `grad`.
    #[wasm_bindgen(js_name = setRequiresGrad)]
    pub fn set_requires_grad(&self, on: bool) -> Result<(), JsError> {
        self.inner.set_requires_grad(on).map_err(js)
    }

    #[wasm_bindgen(getter)]
    pub fn grad(&self) -> Option<JsTensor> {
        self.inner.grad().map(|inner| JsTensor { inner })
    }

    #[wasm_bindgen(js_name = zeroGrad)]
    pub fn zero_grad(&self) {
        self.inner.zero_grad()
    }

    /// Overwrites this tensor's values with `src`'s in place (same shape and dtype).
    pub fn assign(&self, src: &JsTensor) -> Result<(), JsError> {
        self.inner.assign(&src.inner).map_err(js)
    }

    /// Bytes of data this tensor holds.
    #[wasm_bindgen(getter, js_name = sizeBytes)]
    pub fn size_bytes(&self) -> f64 {
        self.inner.size_bytes() as f64
    }

    pub fn detach(&self) -> JsTensor {
        JsTensor { inner: self.inner.detach() }
    }

    /// `strides` and `dilations`: one number or [h, w]; `padding`: "same" or "valid".
    pub fn conv2d(&self, filter: &JsTensor, strides: &[u32], pad: &str, pads: &[u32], dilations: &[u32]) -> Result<JsTensor, JsError> {
        wrap(ops::conv2d(&self.inner, &filter.inner, pair("conv2d", strides)?, padding("conv2d", pad, pads)?, pair("conv2d", dilations)?))
    }

    #[wasm_bindgen(js_name = depthwiseConv2d)]
    pub fn depthwise_conv2d(&self, filter: &JsTensor, strides: &[u32], pad: &str, pads: &[u32], dilations: &[u32]) -> Result<JsTensor, JsError> {
        let op = "depthwiseConv2d";
        wrap(ops::depthwise_conv2d(&self.inner, &filter.inner, pair(op, strides)?, padding(op, pad, pads)?, pair(op, dilations)?))
    }

    #[wasm_bindgen(js_name = conv2dTranspose)]
    pub fn conv2d_transpose(&self, filter: &JsTensor, output_shape: &[u32], strides: &[u32], pad: &str, pads: &[u32]) -> Result<JsTensor, JsError> {
        let op = "conv2dTranspose";
        wrap(ops::conv2d_transpose(&self.inner, &filter.inner, &dims(output_shape), pair(op, strides)?, padding(op, pad, pads)?))
    }

    pub fn cumsum(&self, axis: i32, exclusive: bool, reverse: bool) -> Result<JsTensor, JsError> {
        wrap(ops::cumsum(&self.inner, axis as i64, exclusive, reverse))
    }

    pub fn cumprod(&self, axis: i32, exclusive: bool, reverse: bool) -> Result<JsTensor, JsError> {
        wrap(ops::cumprod(&self.inner, axis as i64, exclusive, reverse))
    }

    #[wasm_bindgen(js_name = maxPool)]
    pub fn max_pool(&self, size: &[u32], strides: &[u32], pad: &str, pads: &[u32]) -> Result<JsTensor, JsError> {
        wrap(ops::max_pool(&self.inner, pair("maxPool", size)?, pair("maxPool", strides)?, padding("maxPool", pad, pads)?))
    }

    #[wasm_bindgen(js_name = avgPool)]
    pub fn avg_pool(&self, size: &[u32], strides: &[u32], pad: &str, pads: &[u32]) -> Result<JsTensor, JsError> {
        wrap(ops::avg_pool(&self.inner, pair("avgPool", size)?, pair("avgPool", strides)?, padding("avgPool", pad, pads)?))
    }

    pub fn softmax(&self, axis: i32) -> Result<JsTensor, JsError> {
        wrap(ops::softmax(&self.inner, axis as i64))
    }

    #[wasm_bindgen(js_name = logSoftmax)]
    pub fn log_softmax(&self, axis: i32) -> Result<JsTensor, JsError> {
        wrap(ops::log_softmax(&self.inner, axis as i64))
    }

    #[wasm_bindgen(js_name = logSumExp)]
    pub fn log_sum_exp(&self, axis: i32, keep_dims: bool) -> Result<JsTensor, JsError> {
        wrap(ops::log_sum_exp(&self.inner, axis as i64, keep_dims))
    }

    pub fn gather(&self, indices: &JsTensor, axis: i32) -> Result<JsTensor, JsError> {
        wrap(ops::gather(&self.inner, &indices.inner, axis as i64))
    }

    #[wasm_bindgen(js_name = oneHot)]
    pub fn one_hot(&self, depth: u32) -> Result<JsTensor, JsError> {
        wrap(ops::one_hot(&self.inner, depth as usize))
    }

    /// `paddings`: [before0, after0, before1, after1, ...].
    pub fn pad(&self, paddings: &[u32], value: f64) -> Result<JsTensor, JsError> {
        if paddings.len() % 2 != 0 {
            return Err(JsError::new("pad: paddings need a [before, after] pair per dimension"));
        }
        let pairs: Vec<(usize, usize)> = paddings.chunks(2).map(|c| (c[0] as usize, c[1] as usize)).collect();
        wrap(ops::pad(&self.inner, &pairs, value))
    }

    pub fn dropout(&self, rate: f32, seed: Option<u32>) -> Result<JsTensor, JsError> {
        wrap(ops::dropout(&self.inner, rate, seed))
    }

    pub fn loss(loss: Loss, labels: &JsTensor, predictions: &JsTensor) -> Result<JsTensor, JsError> {
        wrap(loss.apply(&labels.inner, &predictions.inner))
    }

    /// Each sample's loss (Keras's weighting unit; its batch mean is `loss`).
    #[wasm_bindgen(js_name = lossPerSample)]
    pub fn loss_per_sample(loss: Loss, labels: &JsTensor, predictions: &JsTensor) -> Result<JsTensor, JsError> {
        wrap(loss.per_sample(&labels.inner, &predictions.inner))
    }

    /// Each element's loss by TF.js's `tf.losses` formula; `param`: logLoss's epsilon, huber's
    /// delta, cosineDistance's axis.
    #[wasm_bindgen(js_name = lossTerms)]
    pub fn loss_terms(kind: LossTerms, labels: &JsTensor, predictions: &JsTensor, param: f32) -> Result<JsTensor, JsError> {
        wrap(kind.apply(&labels.inner, &predictions.inner, param))
    }

    /// These losses weighted and reduced as TF.js's `computeWeightedLoss`.
    #[wasm_bindgen(js_name = weightedLoss)]
    pub fn weighted_loss(&self, weights: &JsTensor, reduction: Reduction) -> Result<JsTensor, JsError> {
        wrap(ops::compute_weighted_loss(&self.inner, Some(&weights.inner), reduction))
    }

    /// These losses reduced as TF.js's `computeWeightedLoss` without weights.
    #[wasm_bindgen(js_name = reducedLoss)]
    pub fn reduced_loss(&self, reduction: Reduction) -> Result<JsTensor, JsError> {
        wrap(ops::compute_weighted_loss(&self.inner, None, reduction))
    }

    /// (x - mean) / sqrt(variance + eps) * scale + offset (TF.js `batchNorm`).
    #[wasm_bindgen(js_name = batchNorm)]
    pub fn batch_norm(&self, mean: &JsTensor, variance: &JsTensor, offset: Option<JsTensor>, scale: Option<JsTensor>, eps: f32) -> Result<JsTensor, JsError> {
        wrap(ops::batch_norm(&self.inner, &mean.inner, &variance.inner, scale.as_ref().map(|t| &t.inner), offset.as_ref().map(|t| &t.inner), eps))
    }

    /// [mean, variance] over `axes` (all when absent).
    pub fn moments(&self, axes: Option<Vec<i32>>, keep_dims: bool) -> Result<Vec<JsTensor>, JsError> {
        let axes: Vec<i64> = match axes {
            Some(a) => a.into_iter().map(i64::from).collect(),
            None => (0..self.inner.rank() as i64).collect(),
        };
        let (m, v) = ops::moments(&self.inner, &axes, keep_dims).map_err(js)?;
        Ok(vec![JsTensor { inner: m }, JsTensor { inner: v }])
    }

    /// Layer normalisation over the last axis (one kernel; two for its gradient).
    #[wasm_bindgen(js_name = layerNorm)]
    pub fn layer_norm(&self, gamma: Option<JsTensor>, beta: Option<JsTensor>, eps: f32) -> Result<JsTensor, JsError> {
        wrap(ops::layer_norm(&self.inner, gamma.as_ref().map(|t| &t.inner), beta.as_ref().map(|t| &t.inner), eps))
    }

    /// RMS normalisation over the last axis.
    #[wasm_bindgen(js_name = rmsNorm)]
    pub fn rms_norm(&self, gamma: Option<JsTensor>, eps: f32) -> Result<JsTensor, JsError> {
        wrap(ops::rms_norm(&self.inner, gamma.as_ref().map(|t| &t.inner), eps))
    }

    /// Scaled dot-product attention with this tensor as the queries (one kernel; two for its
    /// gradient): softmax(q k^T * scale + mask) v.
    /// `kv_len`: attend to the first kv_len keys of k and v only (a preallocated cache).
    pub fn attention(&self, k: &JsTensor, v: &JsTensor, mask: Option<JsTensor>, causal: bool, scale: Option<f32>, kv_len: Option<u32>) -> Result<JsTensor, JsError> {
        let kv_len = kv_len.map(|n| n as usize);
        wrap(ops::attention_prefix(&self.inner, &k.inner, &v.inner, kv_len, mask.as_ref().map(|t| &t.inner), causal, scale))
    }

    /// Rotary position embeddings with tables cos, sin [table, rot / 2] from row `offset`.
    pub fn rope(&self, cos: &JsTensor, sin: &JsTensor, offset: u32, interleaved: bool) -> Result<JsTensor, JsError> {
        wrap(ops::rope(&self.inner, &cos.inner, &sin.inner, offset as usize, interleaved))
    }

    /// This tensor [..., k] times a quantized weight W [k, n] (its codes, scales and zero points
    /// as `quantizeWeight` made them): dequantized in registers, never as a whole f32 copy.
    #[wasm_bindgen(js_name = quantizedMatMul)]
    #[allow(clippy::too_many_arguments)]
    pub fn quantized_mat_mul(&self, codes: &JsTensor, scales: &JsTensor, zero_points: Option<JsTensor>, bits: u32, block: u32, k: u32, n: u32) -> Result<JsTensor, JsError> {
        let w = ops::QuantizedMatrix::new(codes.inner.clone(), scales.inner.clone(), zero_points.map(|z| z.inner), bits as usize, block as usize, k as usize, n as usize).map_err(js)?;
        wrap(ops::quantized_matmul(&self.inner, &w))
    }

    /// Quantizes this float32 [k, n] tensor in blocks of `block` along k: [codes, scales] or,
    /// asymmetric, [codes, scales, zero points].
    #[wasm_bindgen(js_name = quantizeWeight)]
    pub fn quantize_weight(&self, bits: u32, block: u32, symmetric: bool) -> Result<Vec<JsTensor>, JsError> {
        let w = ops::QuantizedMatrix::from_tensor(&self.inner, bits as usize, block as usize, symmetric).map_err(js)?;
        Ok([Some(w.codes), Some(w.scales), w.zero_points].into_iter().flatten().map(|inner| JsTensor { inner }).collect())
    }

    /// The float32 W [k, n] of quantized codes (this tensor), scales and zero points.
    #[wasm_bindgen(js_name = dequantizeWeight)]
    pub fn dequantize_weight(&self, scales: &JsTensor, zero_points: Option<JsTensor>, bits: u32, block: u32, k: u32, n: u32) -> Result<JsTensor, JsError> {
        let w = ops::QuantizedMatrix::new(self.inner.clone(), scales.inner.clone(), zero_points.map(|z| z.inner), bits as usize, block as usize, k as usize, n as usize).map_err(js)?;
        wrap(w.dequantize())
    }

    /// Writes `src` into this tensor at `begin`, in place (a key/value cache's append).
    #[wasm_bindgen(js_name = assignSlice)]
    pub fn assign_slice(&self, src: &JsTensor, begin: Vec<u32>) -> Result<(), JsError> {
        let begin: Vec<usize> = begin.into_iter().map(|b| b as usize).collect();
        self.inner.assign_slice(&src.inner, &begin).map_err(js)
    }
}

/// IEEE half-precision values (little-endian bytes) as float32, exactly: TF.js's float16 weight
/// quantization.
#[wasm_bindgen(js_name = float16ToFloat32)]
pub fn float16_to_float32(bytes: &[u8]) -> Result<Vec<f32>, JsError> {
    if bytes.len() % 2 != 0 {
        return Err(JsError::new(&format!("float16 data of {} bytes is not whole halves", bytes.len())));
    }
    Ok(bytes.chunks_exact(2).map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32()).collect())
}

/// The half-precision bits of the halves nearest to `values` (ties to even, overflow to infinity).
#[wasm_bindgen(js_name = float32ToFloat16)]
pub fn float32_to_float16(values: &[f32]) -> Vec<u16> {
    values.iter().map(|&v| crate::dtype::f16_bits(v)).collect()
}

/// Accumulates d loss / d p into `p.grad` for every parameter the (scalar) loss depends on.
#[wasm_bindgen]
pub fn backward(loss: &JsTensor) -> Result<(), JsError> {
    autograd::backward(&loss.inner).map_err(js)
}

/// d loss / d target for each target (null where the loss does not depend on it); `seed` is
/// d loss / d loss (ones when absent). With `createGraph` the backward pass is recorded, so the
/// gradients can be differentiated again (tf.grad inside a function tf.grad differentiates).
#[wasm_bindgen]
pub fn grads(loss: &JsTensor, targets: Vec<JsTensor>, seed: Option<JsTensor>, create_graph: bool) -> Result<Vec<JsValue>, JsError> {
    let targets: Vec<Tensor> = targets.into_iter().map(|t| t.inner).collect();
    let grads = autograd::grads_of(&loss.inner, &targets, seed.as_ref().map(|s| &s.inner), create_graph).map_err(js)?;
    Ok(grads.into_iter().map(|g| g.map_or(JsValue::NULL, |inner| JsValue::from(JsTensor { inner }))).collect())
}

/// A tensor to differentiate with respect to: `x`'s data, tracking gradients, and still
/// connected to `x` where `x` tracks them itself (a gradient inside a gradient).
#[wasm_bindgen(js_name = gradTarget)]
pub fn grad_target(x: &JsTensor) -> Result<JsTensor, JsError> {
    Ok(JsTensor { inner: autograd::target(&x.inner).map_err(js)? })
}

/// Calls `f` with gradient recording off (inference, manual updates); returns what it returns.
#[wasm_bindgen(js_name = noGrad)]
pub fn no_grad(f: &js_sys::Function) -> Result<JsValue, JsValue> {
    autograd::no_grad(|| f.call0(&JsValue::NULL))
}

/// tf.customGrad's node: `value` (computed with recording off) becomes differentiable in `inputs`
/// through `gradient`, a JS function of (dy, saved) returning one gradient (or null) per input.
/// The JS function runs during the backward pass, with recording off (on in a recorded backward
/// pass, so a gradient of a gradient differentiates what it computes); what it returns is
/// checked (count here, shapes by the backward pass) so a wrong gradient is an error, not a trap.
#[wasm_bindgen(js_name = customGrad)]
pub fn custom_grad(value: &JsTensor, inputs: Vec<JsTensor>, saved: Vec<JsTensor>, gradient: js_sys::Function) -> JsTensor {
    const OP: &str = "customGrad";
    let inputs: Vec<Tensor> = inputs.into_iter().map(|t| t.inner).collect();
    let saved: Vec<Tensor> = saved.into_iter().map(|t| t.inner).collect();
    let count = inputs.len();
    let refs: Vec<&Tensor> = inputs.iter().collect();
    let inner = autograd::record(OP, value.inner.detach(), &refs, move |g| {
        let dy = JsValue::from(JsTensor { inner: g.grad.clone() });
        let kept = saved.iter().map(|t| JsValue::from(JsTensor { inner: t.clone() })).collect::<js_sys::Array>();
        let returned = gradient
            .call2(&JsValue::NULL, &dy, &kept)
            .map_err(|e| Error::new(OP, format!("the gradient function threw: {}", e.as_string().or_else(|| e.dyn_ref::<js_sys::Error>().map(|e| String::from(e.message()))).unwrap_or_else(|| "a non-Error value".into()))))?;
        let grads: js_sys::Array = returned.dyn_into().map_err(|_| Error::new(OP, "the gradient function must return its gradients as an array"))?;
        if grads.length() as usize != count {
            return Err(Error::new(OP, format!("the gradient function returned {} gradients for {count} inputs", grads.length())));
        }
        grads
            .iter()
            .map(|v| {
                if v.is_null() || v.is_undefined() {
                    return Ok(None);
                }
                JsTensor::try_from_js_value(v).map(|t| Some(t.inner)).map_err(|_| Error::new(OP, "a gradient is not a tensor"))
            })
            .collect()
    });
    JsTensor { inner }
}

/// An optimizer over registered parameters; `step()` applies one fused update to each.
#[wasm_bindgen(js_name = Optimizer)]
pub struct JsOptimizer {
    inner: Optimizer,
    params: Vec<Tensor>,
}

fn opt_f32(config: &JsValue, key: &str, default: f32) -> f32 {
    js_sys::Reflect::get(config, &key.into()).ok().and_then(|v| v.as_f64()).map_or(default, |v| v as f32)
}

#[wasm_bindgen(js_class = Optimizer)]
impl JsOptimizer {
    /// `kind`: sgd, momentum, adam, adamw, rmsprop, adagrad; `config` holds the TF.js options
    /// (momentum, useNesterov, beta1, beta2, epsilon, weightDecay, decay (rho),
    /// initialAccumulatorValue), with TF.js defaults.
    #[wasm_bindgen(constructor)]
    pub fn new(kind: &str, learning_rate: f32, config: JsValue) -> Result<JsOptimizer, JsError> {
        let c = &config;
        let eps = opt_f32(c, "epsilon", 1e-7);
        let kind = match kind {
            "sgd" => Kind::Sgd,
            "momentum" => Kind::Momentum {
                momentum: opt_f32(c, "momentum", 0.9),
                nesterov: js_sys::Reflect::get(c, &"useNesterov".into()).ok().and_then(|v| v.as_bool()).unwrap_or(false),
            },
            "adam" => Kind::Adam { beta1: opt_f32(c, "beta1", 0.9), beta2: opt_f32(c, "beta2", 0.999), eps },
            "adamw" => Kind::AdamW {
                beta1: opt_f32(c, "beta1", 0.9),
                beta2: opt_f32(c, "beta2", 0.999),
                eps,
                weight_decay: opt_f32(c, "weightDecay", 0.01),
            },
            "rmsprop" => Kind::RmsProp {
                rho: opt_f32(c, "decay", 0.9),
                momentum: opt_f32(c, "momentum", 0.0),
                eps,
                centered: js_sys::Reflect::get(c, &"centered".into()).ok().and_then(|v| v.as_bool()).unwrap_or(false),
            },
            "adagrad" => Kind::Adagrad { initial_accumulator: opt_f32(c, "initialAccumulatorValue", 0.1), eps },
            "adamax" => Kind::Adamax { beta1: opt_f32(c, "beta1", 0.9), beta2: opt_f32(c, "beta2", 0.999), eps, decay: opt_f32(c, "decay", 0.0) },
            "adadelta" => Kind::Adadelta { rho: opt_f32(c, "rho", 0.95), eps },
            other => return Err(JsError::new(&format!("unknown optimizer '{other}'"))),
        };
        if !(learning_rate.is_finite() && learning_rate > 0.0) {
            return Err(JsError::new(&format!("learning rate {learning_rate} must be a positive number")));
        }
        Ok(JsOptimizer { inner: Optimizer::new(kind, learning_rate), params: Vec::new() })
    }

    /// Registers a parameter (and marks it as requiring gradients).
    #[wasm_bindgen(js_name = addParam)]
    pub fn add_param(&mut self, p: &JsTensor) -> Result<(), JsError> {
        p.inner.set_requires_grad(true).map_err(js)?;
        self.params.push(p.inner.clone());
        Ok(())
    }

    /// One update of every registered parameter from its gradient; clears the gradients.
    pub fn step(&mut self) -> Result<(), JsError> {
        self.inner.step(&self.params).map_err(js)
    }

    #[wasm_bindgen(getter, js_name = learningRate)]
    pub fn learning_rate(&self) -> f32 {
        self.inner.learning_rate
    }

    #[wasm_bindgen(setter, js_name = learningRate)]
    pub fn set_learning_rate(&mut self, lr: f32) {
        self.inner.learning_rate = lr;
    }
}

/// One copy of host words into a new typed array.
/// The values of `t` from its storage words, as the typed array `data()` gives.
fn typed_array(t: &Tensor, words: &[u32]) -> JsValue {
    match t.dtype() {
        DType::F32 => js_sys::Float32Array::from(bytemuck::cast_slice::<u32, f32>(words)).into(),
        DType::F16 => js_sys::Float32Array::from(&crate::dtype::unpack_halves(words, t.numel())[..]).into(),
        DType::I32 | DType::Bool => js_sys::Int32Array::from(bytemuck::cast_slice::<u32, i32>(words)).into(),
    }
}

/// An imported ONNX model (inference), on the backend current when it was loaded.
#[wasm_bindgen(js_name = OnnxModel)]
pub struct JsOnnxModel {
    inner: crate::onnx::OnnxModel,
}

#[wasm_bindgen(js_class = OnnxModel)]
impl JsOnnxModel {
    /// Parses the model file and checks every op before uploading the weights. float16 MatMul
    /// and Gemm weights stay half precision unless `float32_half_weights` (then they load as
    /// trainable float32 tensors).
    #[wasm_bindgen(js_name = fromBytes)]
    pub fn from_bytes(bytes: &[u8], float32_half_weights: Option<bool>) -> Result<JsOnnxModel, JsError> {
        let options = crate::onnx::LoadOptions { keep_half_weights: !float32_half_weights.unwrap_or(false) };
        Ok(JsOnnxModel {
            inner: crate::onnx::OnnxModel::from_bytes_with(&device()?, bytes, &options).map_err(js)?,
        })
    }

    #[wasm_bindgen(getter, js_name = inputNames)]
    pub fn input_names(&self) -> Vec<String> {
        self.inner.inputs.clone()
    }

    /// Input `i`'s declared shape, with -1 for a symbolic (free) size.
    #[wasm_bindgen(js_name = inputShape)]
    pub fn input_shape(&self, i: usize) -> Vec<i32> {
        self.inner.input_shapes.get(i).map(|s| s.iter().map(|d| d.map_or(-1, |n| n.min(i32::MAX as usize) as i32)).collect()).unwrap_or_default()
    }

    #[wasm_bindgen(getter, js_name = outputNames)]
    pub fn output_names(&self) -> Vec<String> {
        self.inner.outputs.clone()
    }

    #[wasm_bindgen(getter)]
    pub fn opset(&self) -> f64 {
        self.inner.opset() as f64
    }

    /// Bytes the 4- and 8-bit weights hold on the device, packed.
    #[wasm_bindgen(getter, js_name = packedWeightBytes)]
    pub fn packed_weight_bytes(&self) -> f64 {
        self.inner.packed_weight_bytes() as f64
    }

    /// Runs the graph; inputs in the order of `inputNames`. With `training`, gradients are
    /// recorded (for fine-tuning the weights from `trainableWeights`).
    pub fn run(&self, inputs: Vec<JsTensor>, training: bool) -> Result<Vec<JsTensor>, JsError> {
        self.run_known(inputs, Vec::new(), training)
    }

    /// As `run`, with the values of small integer inputs known on the host (`known[i]` an
    /// Int32Array or undefined): shapes that depend on them (positions, lengths) are then computed
    /// without a readback. JS's `executeAsync` reads them first.
    #[wasm_bindgen(js_name = runKnown)]
    pub fn run_known(&self, inputs: Vec<JsTensor>, known: Vec<JsValue>, training: bool) -> Result<Vec<JsTensor>, JsError> {
        let mut values = Vec::with_capacity(inputs.len());
        for (i, t) in inputs.iter().enumerate() {
            let host = known.get(i).and_then(|k| k.dyn_ref::<js_sys::Int32Array>()).map(|a| a.to_vec());
            // Values that are not the tensor's own would mislead every shape computed from them.
            if let Some(h) = &host {
                if h.len() != t.inner.numel() {
                    return Err(JsError::new(&format!("onnx: input {i} has {} elements but {} known values were given", t.inner.numel(), h.len())));
                }
            }
            let host = host.map(|h| crate::onnx::HostData::Int(h.into_iter().map(i64::from).collect()));
            values.push(crate::onnx::Value { tensor: t.inner.clone(), host });
        }
        let outs = if training { self.inner.run_values_recording(&values) } else { self.inner.run_values(&values) };
        Ok(outs.map_err(js)?.into_iter().map(|inner| JsTensor { inner }).collect())
    }

    /// The float initializers as tensors sharing the model's storage (names in `weightNames`).
    #[wasm_bindgen(js_name = trainableWeights)]
    pub fn trainable_weights(&mut self) -> Vec<JsTensor> {
        self.inner.trainable_weights().into_iter().map(|(_, inner)| JsTensor { inner }).collect()
    }

    /// Initializers kept in external files, still to be filled: [{name, location, offset, length}].
    #[wasm_bindgen(js_name = externalData)]
    pub fn external_data(&self) -> js_sys::Array {
        let out = js_sys::Array::new();
        for r in &self.inner.external {
            let o = js_sys::Object::new();
            let _ = js_sys::Reflect::set(&o, &"name".into(), &r.name.as_str().into());
            let _ = js_sys::Reflect::set(&o, &"location".into(), &r.location.as_str().into());
            let _ = js_sys::Reflect::set(&o, &"offset".into(), &(r.offset as f64).into());
            let _ = js_sys::Reflect::set(&o, &"length".into(), &(r.length as f64).into());
            out.push(&o);
        }
        out
    }

    /// The tensor of an initializer, sharing the model's storage (to fill from external data).
    pub fn initializer(&self, name: &str) -> Result<JsTensor, JsError> {
        self.inner.initializer(name).map(|inner| JsTensor { inner }).ok_or_else(|| JsError::new(&format!("onnx: no initializer '{name}'")))
    }

    #[wasm_bindgen(js_name = weightNames)]
    pub fn weight_names(&mut self) -> Vec<String> {
        self.inner.trainable_weights().into_iter().map(|(name, _)| name).collect()
    }
}

/// Decodes a serialized ONNX TensorProto (e.g. test data .pb files) into a tensor.
#[wasm_bindgen(js_name = tensorFromOnnx)]
pub fn tensor_from_onnx(bytes: &[u8]) -> Result<JsTensor, JsError> {
    let d = crate::onnx::decode_tensor_bytes(bytes).map_err(js)?;
    Ok(JsTensor {
        inner: crate::onnx::upload(&device()?, &d).map_err(js)?.tensor,
    })
}
