//! The #[wasm_bindgen] facade: thin conversions between JS values and the engine, no logic.
//! Every fallible call returns `Result<_, JsError>`, which JS sees as a thrown `Error` whose
//! message names the op and the shapes.
use std::cell::RefCell;

use wasm_bindgen::prelude::*;

use crate::ops::{self, Reduce};
use crate::{DType, Device, Error, Tensor};

thread_local! {
    static CURRENT: RefCell<Option<Device>> = const { RefCell::new(None) };
    /// The WebGPU device once opened: switching backends back and forth reuses it (and its
    /// tensors stay valid).
    static GPU: RefCell<Option<Device>> = const { RefCell::new(None) };
}

async fn gpu_device() -> crate::Result<Device> {
    if let Some(dev) = GPU.with(|g| g.borrow().clone()) {
        return Ok(dev);
    }
    let dev = Device::gpu().await?;
    GPU.with(|g| *g.borrow_mut() = Some(dev.clone()));
    Ok(dev)
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
    DType::parse(name).ok_or_else(|| JsError::new(&format!("unknown dtype '{name}' (use float32, int32 or bool)")))
}

/// Starts a backend: "webgpu", "cpu", or (no argument) WebGPU when an adapter exists, else CPU.
/// Returns the backend's name.
#[wasm_bindgen]
pub async fn init(backend: Option<String>) -> Result<String, JsError> {
    let dev = match backend.as_deref() {
        Some("cpu") => Device::Cpu,
        Some("webgpu") => gpu_device().await.map_err(js)?,
        None => gpu_device().await.unwrap_or(Device::Cpu),
        Some(other) => return Err(JsError::new(&format!("unknown backend '{other}' (use 'webgpu' or 'cpu')"))),
    };
    let name = dev.backend_name().to_string();
    CURRENT.with(|c| *c.borrow_mut() = Some(dev));
    Ok(name)
}

/// What runs the kernels: "CPU" or the WebGPU adapter's name.
#[wasm_bindgen(js_name = deviceDescription)]
pub fn device_description() -> Result<String, JsError> {
    Ok(device()?.description())
}

/// Live tensors and, on WebGPU, the buffer pool's figures.
#[wasm_bindgen(js_name = memoryInfo)]
pub fn memory_info() -> Result<js_sys::Object, JsError> {
    let o = js_sys::Object::new();
    let set = |k: &str, v: f64| js_sys::Reflect::set(&o, &k.into(), &v.into()).map(|_| ());
    set("numTensors", crate::tensor::live_tensors() as f64).map_err(|_| JsError::new("memoryInfo"))?;
    if let Device::Gpu(ctx) = device()? {
        let s = ctx.pool_stats();
        for (k, v) in [
            ("poolLiveBytes", s.live_bytes as f64),
            ("poolFreeBytes", s.free_bytes as f64),
            ("poolHighWaterBytes", s.high_water_bytes as f64),
            ("buffersCreated", s.created_buffers as f64),
            ("submits", ctx.submits() as f64),
        ] {
            set(k, v).map_err(|_| JsError::new("memoryInfo"))?;
        }
    }
    Ok(o)
}

/// Every op name the engine implements.
#[wasm_bindgen(js_name = opNames)]
pub fn op_names() -> Vec<String> {
    ops::op_names().into_iter().map(String::from).collect()
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
    #[wasm_bindgen(js_name = fromF32)]
    pub fn from_f32(data: &[f32], shape: &[u32]) -> Result<JsTensor, JsError> {
        wrap(Tensor::from_f32(&device()?, data, &dims(shape)))
    }

    #[wasm_bindgen(js_name = fromI32)]
    pub fn from_i32(data: &[i32], shape: &[u32], dtype_name: Option<String>) -> Result<JsTensor, JsError> {
        let dt = dtype(dtype_name.as_deref().unwrap_or("int32"))?;
        let words: Vec<u32> = data.iter().map(|&v| if dt == DType::Bool { (v != 0) as u32 } else { v as u32 }).collect();
        wrap(Tensor::from_words(&device()?, words, &dims(shape), dt))
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

    #[wasm_bindgen(getter)]
    pub fn shape(&self) -> Vec<u32> {
        self.inner.shape().iter().map(|&d| d as u32).collect()
    }

    #[wasm_bindgen(getter)]
    pub fn dtype(&self) -> String {
        self.inner.dtype().name().to_string()
    }

    /// Resolves to a Float32Array (float32) or an Int32Array (int32, bool).
    pub fn data(&self) -> js_sys::Promise {
        let t = self.inner.clone();
        wasm_bindgen_futures::future_to_promise(async move {
            let words = t.to_words().await.map_err(|e| JsValue::from(js(e)))?;
            Ok(typed_array(&t, &words))
        })
    }

    /// Synchronous read: works on the CPU backend; on WebGPU it throws, naming `await t.data()`.
    #[wasm_bindgen(js_name = dataSync)]
    pub fn data_sync(&self) -> Result<JsValue, JsError> {
        let words = self.inner.to_words_sync().map_err(js)?;
        Ok(typed_array(&self.inner, &words))
    }

    pub fn unary(&self, op: &str, alpha: Option<f32>, beta: Option<f32>) -> Result<JsTensor, JsError> {
        wrap(ops::unary(op, &self.inner, alpha.unwrap_or(0.0), beta.unwrap_or(0.0)))
    }

    pub fn binary(&self, op: &str, other: &JsTensor) -> Result<JsTensor, JsError> {
        wrap(ops::binary(op, &self.inner, &other.inner))
    }

    pub fn compare(&self, op: &str, other: &JsTensor) -> Result<JsTensor, JsError> {
        wrap(ops::compare(op, &self.inner, &other.inner))
    }

    #[wasm_bindgen(js_name = logicalNot)]
    pub fn logical_not(&self) -> Result<JsTensor, JsError> {
        wrap(ops::logical_not(&self.inner))
    }

    /// `op`: sum, mean, prod, max, min; `axes` empty means all axes.
    pub fn reduce(&self, op: &str, axes: Option<Vec<i32>>, keep_dims: bool) -> Result<JsTensor, JsError> {
        let kind = match op {
            "sum" => Reduce::Sum,
            "mean" => Reduce::Mean,
            "prod" => Reduce::Prod,
            "max" => Reduce::Max,
            "min" => Reduce::Min,
            other => return Err(JsError::new(&format!("unknown reduction '{other}'"))),
        };
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

fn typed_array(t: &Tensor, words: &[u32]) -> JsValue {
    match t.dtype() {
        DType::F32 => js_sys::Float32Array::from(bytemuck::cast_slice::<u32, f32>(words)).into(),
        DType::I32 | DType::Bool => js_sys::Int32Array::from(bytemuck::cast_slice::<u32, i32>(words)).into(),
    }
}
