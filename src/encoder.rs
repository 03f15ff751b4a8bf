//! The shared command batch: every dispatch of the eager ops goes into one open compute pass of
//! one command encoder, and their uniform parameters into one arena buffer. The batch is submitted
//! (flushed) when the arena fills, after `MAX_DISPATCHES`, before an upload, and at readback, so a
//! training step costs a handful of submits instead of one per op.
/// Flush after this many dispatches even if the arena has room: keeps the GPU busy while the
/// CPU records more work, and bounds the bind groups held alive by an open encoder.
pub const MAX_DISPATCHES: usize = 256;
const ARENA_BYTES: u64 = 256 * 1024;

pub struct Batch {
    encoder: Option<wgpu::CommandEncoder>,
    pass: Option<wgpu::ComputePass<'static>>,
    /// Uniform parameters of the recorded dispatches, written to `arena` right before submit.
    uniforms: Vec<u8>,
    arena: wgpu::Buffer,
    align: usize,
    dispatches: usize,
    /// Submits so far (for tests and the benchmark: one submit per step is the goal).
    pub submits: u64,
    /// Compute dispatches recorded so far (copies and clears not counted).
    pub dispatched: u64,
}

impl Batch {
    pub fn new(device: &wgpu::Device) -> Self {
        let arena = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("webtensor uniforms"),
            size: ARENA_BYTES,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let align = device.limits().min_uniform_buffer_offset_alignment.max(16) as usize;
        Batch { encoder: None, pass: None, uniforms: Vec::new(), arena, align, dispatches: 0, submits: 0, dispatched: 0 }
    }

    pub fn is_empty(&self) -> bool {
        self.encoder.is_none()
    }

    fn encoder(&mut self, device: &wgpu::Device) -> &mut wgpu::CommandEncoder {
        self.encoder.get_or_insert_with(|| {
            device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("webtensor batch") })
        })
    }

    /// Ends the open compute pass (needed before copies and before finishing the encoder).
    fn end_pass(&mut self) {
        self.pass = None;
    }

    /// Records one dispatch. `params` goes into the uniform arena and is bound at binding 0;
    /// `buffers` are bound at 1, 2, ... in order.
    pub fn dispatch(
        &mut self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        pipeline: &wgpu::ComputePipeline,
        layout: &wgpu::BindGroupLayout,
        params: &[u8],
        buffers: &[&wgpu::Buffer],
        workgroups: [u32; 3],
    ) {
        let size = params.len().div_ceil(16) * 16;
        let mut offset = self.uniforms.len().div_ceil(self.align) * self.align;
        if offset + size > ARENA_BYTES as usize || self.dispatches >= MAX_DISPATCHES {
            self.flush(queue);
            offset = 0;
        }
        self.uniforms.resize(offset, 0);
        self.uniforms.extend_from_slice(params);
        self.uniforms.resize(offset + size, 0);

        let mut entries = Vec::with_capacity(buffers.len() + 1);
        entries.push(wgpu::BindGroupEntry {
            binding: 0,
            resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                buffer: &self.arena,
                offset: offset as u64,
                size: wgpu::BufferSize::new(size as u64),
            }),
        });
        for (i, b) in buffers.iter().enumerate() {
            entries.push(wgpu::BindGroupEntry { binding: i as u32 + 1, resource: b.as_entire_binding() });
        }
        let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor { label: None, layout, entries: &entries });

        if self.pass.is_none() {
            let pass = self
                .encoder(device)
                .begin_compute_pass(&wgpu::ComputePassDescriptor { label: None, timestamp_writes: None })
                .forget_lifetime();
            self.pass = Some(pass);
        }
        let pass = self.pass.as_mut().expect("pass was just opened");
        pass.set_pipeline(pipeline);
        pass.set_bind_group(0, &bind_group, &[]);
        pass.dispatch_workgroups(workgroups[0], workgroups[1], workgroups[2]);
        self.dispatches += 1;
        self.dispatched += 1;
    }

    /// Records a buffer-to-buffer copy (ends the compute pass).
    pub fn copy(&mut self, device: &wgpu::Device, src: &wgpu::Buffer, dst: &wgpu::Buffer, bytes: u64) {
        self.end_pass();
        self.encoder(device).copy_buffer_to_buffer(src, 0, dst, 0, bytes);
    }

    /// Records a zero fill of the first `bytes` of `dst`.
    pub fn clear(&mut self, device: &wgpu::Device, dst: &wgpu::Buffer, bytes: u64) {
        self.end_pass();
        self.encoder(device).clear_buffer(dst, 0, Some(bytes));
    }

    /// Submits everything recorded so far.
    /// Drops the recorded work without submitting it (the device is gone).
    pub fn discard(&mut self) {
        self.end_pass();
        self.encoder = None;
        self.uniforms.clear();
        self.dispatches = 0;
    }

    pub fn flush(&mut self, queue: &wgpu::Queue) {
        self.end_pass();
        let Some(encoder) = self.encoder.take() else { return };
        if !self.uniforms.is_empty() {
            queue.write_buffer(&self.arena, 0, &self.uniforms);
        }
        queue.submit(Some(encoder.finish()));
        self.uniforms.clear();
        self.dispatches = 0;
        self.submits += 1;
    }
}
