//! The tensor: an immutable shape and dtype over shared storage on one device. Cloning a `Tensor`
//! is cheap (reference counted); `reshape` shares storage; dropping the last reference returns
//! its GPU buffer to the pool. Storage is either realized (the values exist) or pending (an
//! elementwise expression that runs when the values are first needed: src/fusion/lazy.rs).
use std::cell::{Cell, OnceCell, Ref, RefCell};
use std::rc::Rc;

use crate::autograd::Node;
use crate::device::gpu::GpuBuffer;
use crate::device::Device;
use crate::fusion::{Expr, Pending};
use crate::shape::{check_rank, checked_numel};
use crate::{bail, DType, Error, Result};

/// Realized tensor data: 32-bit words on the host, or a device buffer.
pub enum Data {
    Cpu(RefCell<Vec<u32>>),
    Gpu(GpuBuffer),
}

/// A tensor's storage, shared by its reshapes and detached handles.
pub struct Storage {
    data: OnceCell<Data>,
    /// Set while the values are not computed yet.
    pending: RefCell<Option<Pending>>,
    /// Host bytes this storage counts in `host_bytes` (its words once realized on the CPU).
    counted_bytes: Cell<usize>,
    /// Packed copies of a weight for the CPU GEMM (src/ops/packed_weights.rs).
    pub(crate) packs: crate::ops::packed_weights::PackCache,
}

thread_local! {
    /// Bytes of realized CPU tensor storage: (live now, the most live since the last reset).
    static HOST_BYTES: Cell<(usize, usize)> = const { Cell::new((0, 0)) };
}

/// Bytes held by CPU tensors now, and the most held at once since `reset_host_peak` (the CPU
/// backend's counterpart of the GPU pool's live bytes and peak).
pub(crate) fn host_bytes() -> (usize, usize) {
    HOST_BYTES.with(|c| c.get())
}

/// Starts a new peak at the bytes held now.
pub(crate) fn reset_host_peak() {
    HOST_BYTES.with(|c| c.set((c.get().0, c.get().0)));
}

impl Drop for Storage {
    fn drop(&mut self) {
        let n = self.counted_bytes.get();
        HOST_BYTES.with(|c| c.set((c.get().0 - n, c.get().1)));
    }
}

impl Storage {
    pub fn cpu(words: Vec<u32>) -> Storage {
        Storage::realized(Data::Cpu(RefCell::new(words)))
    }

    pub fn gpu(buffer: GpuBuffer) -> Storage {
        Storage::realized(Data::Gpu(buffer))
    }

    fn realized(data: Data) -> Storage {
        let s = Storage { data: OnceCell::new(), pending: RefCell::new(None), counted_bytes: Cell::new(0), packs: Default::default() };
        s.count(&data);
        let _ = s.data.set(data);
        s
    }

    pub(crate) fn pending(p: Pending) -> Storage {
        Storage { data: OnceCell::new(), pending: RefCell::new(Some(p)), counted_bytes: Cell::new(0), packs: Default::default() }
    }

    /// Adds realized host words to the CPU byte count (device buffers are the pool's to count).
    fn count(&self, data: &Data) {
        if let Data::Cpu(words) = data {
            let n = words.borrow().len() * 4;
            self.counted_bytes.set(n);
            HOST_BYTES.with(|c| {
                let live = c.get().0 + n;
                c.set((live, c.get().1.max(live)));
            });
        }
    }

    /// The values, computed now if they are pending. A failure (out of memory, a lost device)
    /// leaves the storage pending, so the tensor stays usable.
    pub fn data(&self) -> Result<&Data> {
        if let Some(d) = self.data.get() {
            return Ok(d);
        }
        let pending = self.pending.borrow_mut().take().expect("storage is realized or pending");
        match crate::fusion::realize(&pending) {
            Ok(d) => {
                self.count(&d);
                Ok(self.data.get_or_init(|| d))
            }
            Err(e) => {
                *self.pending.borrow_mut() = Some(pending);
                Err(e)
            }
        }
    }

    /// The values if they exist already.
    pub fn data_if_realized(&self) -> Option<&Data> {
        self.data.get()
    }

    /// The expression of a pending storage.
    pub fn pending_expr(&self) -> Option<Rc<Expr>> {
        self.pending.borrow().as_ref().map(|p| p.expr.clone())
    }

    /// Replaces a pending storage's expression by an equivalent one (see
    /// `fusion::preserve_for_readers`).
    pub(crate) fn rewrite_pending(&self, f: impl FnOnce(&Rc<Expr>) -> Rc<Expr>) {
        if let Some(p) = self.pending.borrow_mut().as_mut() {
            p.expr = f(&p.expr);
        }
    }
}

thread_local! {
    static LIVE_TENSORS: Cell<usize> = const { Cell::new(0) };
}

/// Tensors alive right now (on every device), for memory accounting and leak tests.
pub fn live_tensors() -> usize {
    LIVE_TENSORS.with(|c| c.get())
}

struct Inner {
    shape: Vec<usize>,
    dtype: DType,
    device: Device,
    storage: Rc<Storage>,
    /// The op that produced this tensor, while gradients are being recorded.
    node: Option<Rc<Node>>,
    /// A leaf the user asked gradients for (a parameter).
    requires_grad: Cell<bool>,
    /// The gradient accumulated by `backward()` (leaves only).
    grad: RefCell<Option<Tensor>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        LIVE_TENSORS.with(|c| c.set(c.get() - 1));
    }
}

#[derive(Clone)]
pub struct Tensor {
    inner: Rc<Inner>,
}

impl std::fmt::Debug for Tensor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tensor({:?}, {}, {})", self.shape(), self.dtype(), self.device().backend_name())
    }
}

impl Tensor {
    /// Wraps storage that an op produced. `storage` must hold `numel(shape)` words.
    pub(crate) fn from_storage(device: &Device, storage: Rc<Storage>, shape: Vec<usize>, dtype: DType) -> Tensor {
        Tensor::with_node(device, storage, shape, dtype, None)
    }

    pub(crate) fn with_node(device: &Device, storage: Rc<Storage>, shape: Vec<usize>, dtype: DType, node: Option<Rc<Node>>) -> Tensor {
        LIVE_TENSORS.with(|c| c.set(c.get() + 1));
        let inner = Inner {
            shape,
            dtype,
            device: device.clone(),
            storage,
            node,
            requires_grad: Cell::new(false),
            grad: RefCell::new(None),
        };
        Tensor { inner: Rc::new(inner) }
    }

    /// The op node that produced this tensor (None for leaves and untracked results).
    pub(crate) fn node(&self) -> Option<&Rc<Node>> {
        self.inner.node.as_ref()
    }

    /// Identity of this tensor handle's data and graph position (for maps during backward).
    pub(crate) fn id(&self) -> *const () {
        Rc::as_ptr(&self.inner) as *const ()
    }

    /// Whether gradients flow through this tensor (a parameter, or computed from one).
    pub fn tracks_grad(&self) -> bool {
        self.inner.requires_grad.get() || self.inner.node.is_some()
    }

    pub fn requires_grad(&self) -> bool {
        self.inner.requires_grad.get()
    }

    /// Marks this tensor as a leaf whose gradient `backward()` accumulates in `grad()`.
    pub fn set_requires_grad(&self, on: bool) -> Result<()> {
        if on && !self.dtype().is_float() {
            bail!("requires_grad", "only float32 and float16 tensors can have gradients (this one is {})", self.dtype());
        }
        self.inner.requires_grad.set(on);
        Ok(())
    }

    /// The gradient from the last `backward()` calls (they accumulate), if any.
    pub fn grad(&self) -> Option<Tensor> {
        self.inner.grad.borrow().clone()
    }

    pub fn zero_grad(&self) {
        *self.inner.grad.borrow_mut() = None;
    }

    pub(crate) fn set_grad(&self, g: Option<Tensor>) {
        *self.inner.grad.borrow_mut() = g;
    }

    /// The same data without its graph: gradients do not flow through the result.
    pub fn detach(&self) -> Tensor {
        Tensor::from_storage(self.device(), self.inner.storage.clone(), self.shape().to_vec(), self.dtype())
    }

    /// A tensor from raw 32-bit words (f32 bits, i32, 0/1 for bool, or two packed halves a word
    /// for float16: `dtype::pack_halves`).
    pub fn from_words(device: &Device, words: Vec<u32>, shape: &[usize], dtype: DType) -> Result<Tensor> {
        const OP: &str = "tensor";
        check_rank(OP, shape)?;
        let n = checked_numel(OP, shape)?;
        if dtype.words(n) != words.len() {
            bail!(OP, "{} words cannot fill a {dtype} tensor of shape {:?} ({} elements)", words.len(), shape, n);
        }
        let storage = match device {
            Device::Cpu => Storage::cpu(words),
            Device::Gpu(ctx) => Storage::gpu(ctx.upload(OP, bytemuck::cast_slice(&words))?),
        };
        Ok(Tensor::from_storage(device, Rc::new(storage), shape.to_vec(), dtype))
    }

    pub fn from_f32(device: &Device, data: &[f32], shape: &[usize]) -> Result<Tensor> {
        Tensor::from_words(device, bytemuck::cast_slice(data).to_vec(), shape, DType::F32)
    }

    pub fn from_i32(device: &Device, data: &[i32], shape: &[usize]) -> Result<Tensor> {
        Tensor::from_words(device, bytemuck::cast_slice(data).to_vec(), shape, DType::I32)
    }

    pub fn from_bool(device: &Device, data: &[bool], shape: &[usize]) -> Result<Tensor> {
        Tensor::from_words(device, data.iter().map(|&b| b as u32).collect(), shape, DType::Bool)
    }

    /// A float16 tensor of the halves nearest to `data`.
    pub fn from_f32_as_f16(device: &Device, data: &[f32], shape: &[usize]) -> Result<Tensor> {
        Tensor::from_words(device, crate::dtype::pack_halves(data), shape, DType::F16)
    }

    pub fn scalar(device: &Device, value: f32) -> Result<Tensor> {
        Tensor::from_f32(device, &[value], &[])
    }

    pub fn shape(&self) -> &[usize] {
        &self.inner.shape
    }

    pub fn rank(&self) -> usize {
        self.inner.shape.len()
    }

    pub fn numel(&self) -> usize {
        self.inner.shape.iter().product()
    }

    pub fn dtype(&self) -> DType {
        self.inner.dtype
    }

    pub fn device(&self) -> &Device {
        &self.inner.device
    }

    pub fn storage(&self) -> &Rc<Storage> {
        &self.inner.storage
    }

    /// Bytes of storage: whole 32-bit words (an odd count of halves fills its last word).
    pub fn size_bytes(&self) -> usize {
        self.dtype().words(self.numel()) * 4
    }

    /// Whether two tensors share storage (e.g. one is a reshape of the other).
    pub fn shares_storage(&self, other: &Tensor) -> bool {
        Rc::ptr_eq(&self.inner.storage, &other.inner.storage)
    }

    /// The realized data (computing a pending tensor now).
    pub(crate) fn data(&self) -> Result<&Data> {
        self.inner.storage.data()
    }

    /// Whether the values are still pending (an unrun elementwise expression).
    pub fn is_pending(&self) -> bool {
        self.inner.storage.data_if_realized().is_none()
    }

    /// Kernels read a word an element: a float16 tensor reaches only the ops that read it
    /// widened (elementwise expressions, casts, reshapes, readbacks); anything else is refused
    /// here rather than reading packed halves as floats.
    pub(crate) fn check_word_elements(&self) -> Result<()> {
        if self.dtype() == DType::F16 {
            bail!("float16", "this op does not take float16 tensors (shape {:?}); cast to float32 first (the JS API does so itself)", self.shape());
        }
        Ok(())
    }

    /// The host words of a CPU tensor. Panics on a GPU tensor: ops call it only on their CPU path.
    pub(crate) fn cpu_words(&self) -> Result<Ref<'_, Vec<u32>>> {
        self.check_word_elements()?;
        match self.data()? {
            Data::Cpu(words) => Ok(words.borrow()),
            Data::Gpu(_) => unreachable!("cpu_words on a GPU tensor"),
        }
    }

    /// Mutable host words of a CPU tensor, for in-place updates of parameters and optimizer
    /// state (variables); ops never write their inputs. Pending tensors that read these words
    /// keep the values of the moment their op was called.
    pub(crate) fn cpu_words_mut(&self) -> Result<std::cell::RefMut<'_, Vec<u32>>> {
        self.check_word_elements()?;
        self.prepare_overwrite()?;
        match self.data()? {
            Data::Cpu(words) => Ok(words.borrow_mut()),
            Data::Gpu(_) => unreachable!("cpu_words_mut on a GPU tensor"),
        }
    }

    /// The device buffer of a GPU tensor. Panics on a CPU tensor: ops call it only on their GPU path.
    pub(crate) fn gpu_buffer(&self) -> Result<&GpuBuffer> {
        self.check_word_elements()?;
        match self.data()? {
            Data::Gpu(b) => Ok(b),
            Data::Cpu(_) => unreachable!("gpu_buffer on a CPU tensor"),
        }
    }

    /// Before this tensor's storage is overwritten in place: realizes it, and keeps the current
    /// values for every pending tensor that reads them.
    pub(crate) fn prepare_overwrite(&self) -> Result<()> {
        self.data()?;
        crate::fusion::preserve_for_readers(&[self])?;
        self.storage().packs.written();
        Ok(())
    }

    /// Marks this tensor's storage as a weight (a model's initializer, a variable): products that
    /// read it again and again keep it packed for the CPU GEMM until it is written
    /// (src/ops/packed_weights.rs).
    pub fn mark_weight(&self) {
        self.storage().packs.mark_weight();
    }

    /// The same data under another shape with as many elements (no copy).
    pub fn reshape_to(&self, shape: &[usize]) -> Result<Tensor> {
        check_rank("reshape", shape)?;
        if checked_numel("reshape", shape)? != self.numel() {
            bail!("reshape", "cannot reshape a tensor of shape {:?} into {:?}", self.shape(), shape);
        }
        let out = Tensor::from_storage(self.device(), self.inner.storage.clone(), shape.to_vec(), self.dtype());
        let from = self.shape().to_vec();
        Ok(crate::autograd::record("reshape", out, &[self], move |g| Ok(vec![Some(g.grad.reshape_to(&from)?)])))
    }

    /// Copies the data to the host. On the GPU this is the one place work is submitted and waited
    /// for; it never blocks the browser's thread (the await yields to the event loop).
    pub async fn to_words(&self) -> Result<Vec<u32>> {
        match self.data()? {
            Data::Cpu(words) => Ok(words.borrow()[..self.dtype().words(self.numel())].to_vec()),
            Data::Gpu(buf) => {
                let bytes = buf.context().read("data", buf.raw(), self.size_bytes() as u64).await?;
                Ok(bytemuck::pod_collect_to_vec(&bytes))
            }
        }
    }

    /// Overwrites this tensor's data with `src`'s, in place (TF.js `variable.assign`). Every
    /// tensor sharing this storage (reshapes, detached handles) sees the new values.
    pub fn assign(&self, src: &Tensor) -> Result<()> {
        const OP: &str = "assign";
        if src.shape() != self.shape() || src.dtype() != self.dtype() {
            bail!(OP, "cannot assign a {} tensor of shape {:?} to a {} variable of shape {:?}", src.dtype(), src.shape(), self.dtype(), self.shape());
        }
        common_device(OP, &[self, src])?;
        if self.shares_storage(src) {
            return Ok(());
        }
        src.data()?;
        self.prepare_overwrite()?;
        match (self.data()?, src.data()?) {
            (Data::Cpu(dst), Data::Cpu(from)) => {
                let words = self.dtype().words(self.numel());
                dst.borrow_mut()[..words].copy_from_slice(&from.borrow()[..words])
            }
            (Data::Gpu(dst), Data::Gpu(from)) => dst.context().copy(from.raw(), dst.raw(), self.size_bytes() as u64),
            _ => unreachable!("common_device checked the devices"),
        }
        Ok(())
    }

    /// Writes `src` into the box of this tensor that starts at `begin` (same rank, inside the
    /// shape), in place, leaving the rest as it is: a key/value cache takes each decoding step's
    /// keys this way, without copying the past. Not differentiable (as `assign`).
    pub fn assign_slice(&self, src: &Tensor, begin: &[usize]) -> Result<()> {
        use crate::ops::copy::{copy_box, Dst, View};
        const OP: &str = "assign_slice";
        let fits = begin.len() == self.rank()
            && src.rank() == self.rank()
            && (0..self.rank()).all(|d| begin[d].checked_add(src.shape()[d]).is_some_and(|end| end <= self.shape()[d]));
        if !fits || src.dtype() != self.dtype() || src.dtype() == DType::F16 {
            bail!(OP, "cannot write a {} tensor of shape {:?} at {begin:?} into a {} tensor of shape {:?}", src.dtype(), src.shape(), self.dtype(), self.shape());
        }
        common_device(OP, &[self, src])?;
        if self.shares_storage(src) {
            bail!(OP, "the source shares the destination's storage");
        }
        src.data()?;
        self.prepare_overwrite()?;
        let strides = crate::shape::strides(self.shape());
        let offset = begin.iter().zip(&strides).map(|(b, s)| b * s).sum();
        let src_strides = crate::shape::strides(src.shape());
        let (from, to) = (View { offset: 0, strides: &src_strides }, View { offset, strides: &strides });
        match self.data()? {
            Data::Cpu(words) => copy_box(src, from, &mut Dst::Cpu(&mut words.borrow_mut()), to, src.shape()),
            Data::Gpu(buf) => copy_box(src, from, &mut Dst::Gpu(buf), to, src.shape()),
        }
    }

    /// The values as f32 (int and bool tensors are converted).
    pub async fn to_vec_f32(&self) -> Result<Vec<f32>> {
        let words = self.to_words().await?;
        Ok(match self.dtype() {
            DType::F32 => bytemuck::cast_vec(words),
            DType::F16 => crate::dtype::unpack_halves(&words, self.numel()),
            DType::I32 | DType::Bool => words.into_iter().map(|w| w as i32 as f32).collect(),
        })
    }

    /// The values as i32; float tensors are refused (a silent truncation would hide bugs).
    pub async fn to_vec_i32(&self) -> Result<Vec<i32>> {
        if self.dtype().is_float() {
            bail!("data", "tensor of shape {:?} is {}; cast it to int32 first", self.shape(), self.dtype());
        }
        Ok(bytemuck::cast_vec(self.to_words().await?))
    }

    /// A CPU tensor's float32 values (for the unit tests of CPU kernels).
    #[cfg(test)]
    pub(crate) fn cpu_floats(&self) -> Vec<f32> {
        self.to_words_sync().expect("a CPU tensor").into_iter().map(f32::from_bits).collect()
    }

    /// The values synchronously: only a CPU tensor can do this honestly.
    pub fn to_words_sync(&self) -> Result<Vec<u32>> {
        if let Device::Gpu(_) = self.device() {
            return Err(Error::new(
                "dataSync",
                "the webgpu backend cannot read synchronously; use `await t.data()` instead",
            ));
        }
        match self.data()? {
            Data::Cpu(words) => Ok(words.borrow()[..self.dtype().words(self.numel())].to_vec()),
            Data::Gpu(_) => Err(Error::new(
                "dataSync",
                "the webgpu backend cannot read synchronously; use `await t.data()` instead",
            )),
        }
    }

    /// A copy of this tensor on `device`.
    pub async fn to_device(&self, device: &Device) -> Result<Tensor> {
        if device.same(self.device()) {
            return Ok(self.clone());
        }
        let words = self.to_words().await?;
        Tensor::from_words(device, words, self.shape(), self.dtype())
    }
}

/// A zeroed host buffer of `n` words, or an error (not an abort) when memory runs out: on
/// wasm32 the heap tops out at 4 GB, and an allocation failure there would trap the module.
pub(crate) fn alloc_words(op: &str, n: usize) -> Result<Vec<u32>> {
    let mut v: Vec<u32> = Vec::new();
    if v.try_reserve_exact(n).is_err() {
        bail!(op, "out of memory: cannot allocate {} bytes for a tensor on the CPU backend", n as u64 * 4);
    }
    v.resize(n, 0);
    Ok(v)
}

/// Checks that all tensors live on the same device and returns it.
pub(crate) fn common_device(op: &str, tensors: &[&Tensor]) -> Result<Device> {
    let first = tensors[0].device();
    for t in &tensors[1..] {
        same_device(op, first, t.device())?;
    }
    Ok(first.clone())
}

/// An error naming `op` unless `a` and `b` are the same device.
pub(crate) fn same_device(op: &str, a: &Device, b: &Device) -> Result<()> {
    if a.same(b) {
        return Ok(());
    }
    if let (Device::Gpu(_), Device::Gpu(_)) = (a, b) {
        bail!(op, "tensors live on two different GPU devices (the first was lost and replaced); make them again on the current backend");
    }
    bail!(op, "tensors live on different backends ({} and {}); move them to one first", a.backend_name(), b.backend_name());
}
