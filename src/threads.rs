//! The CPU backend's worker threads. A kernel splits its work into independent tasks and
//! `run_tasks` runs them on the pool's workers and the calling thread together.
//!
//! In the browser the workers are Web Workers running this same module on its shared memory (the
//! threaded build, scripts/build_wasm.sh; src/js/threads.ts starts them and each calls
//! `worker_loop`); natively they are std threads, started on first use.
//! A page's main thread may never block, so the caller never waits on a lock or a futex: it takes
//! tasks from the same counter as the workers and spins only for the tasks a worker has already
//! begun. Idle workers sleep on an atomic wait. Because tasks are taken from one counter, a job
//! finishes even when no worker has started yet; a job submitted while another runs (another
//! native thread, or a task that splits its own work) runs on its caller, one task after another.
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicPtr, AtomicUsize, Ordering::SeqCst};

/// One job: `count` tasks, task(i) for each i. It lives on the submitting caller's stack for the
/// duration of `run_tasks`, which returns only once no worker can reach it.
struct Job<'a> {
    task: &'a (dyn Fn(usize) + Sync),
    count: usize,
}

/// A job is being run by the pool (taken by its submitter like a try-lock).
static BUSY: AtomicBool = AtomicBool::new(false);
/// The job workers should help with; null between jobs.
static JOB: AtomicPtr<Job<'static>> = AtomicPtr::new(std::ptr::null_mut());
/// The next task index to take.
static NEXT: AtomicUsize = AtomicUsize::new(0);
/// Workers between waking for a job and finishing their last task of it.
static ACTIVE: AtomicUsize = AtomicUsize::new(0);
/// Bumped for every job; idle workers wait for it to change.
static GENERATION: AtomicI32 = AtomicI32::new(0);
/// Workers that have entered their loop.
static WORKERS: AtomicUsize = AtomicUsize::new(0);
/// A task panicked on a native worker (it is re-raised on the submitting thread).
static PANICKED: AtomicBool = AtomicBool::new(false);

/// Checks of the generation an idle worker makes before it sleeps (some tens of microseconds).
const SPINS_BEFORE_SLEEP: usize = 1 << 15;

/// Threads that take tasks of a job: the running workers and the caller.
pub fn threads() -> usize {
    WORKERS.load(SeqCst) + 1
}

/// Runs `task(i)` for every i < count, on the workers and this thread, and returns when all have
/// run. Tasks must be independent (they run in any order, concurrently).
pub fn run_tasks(count: usize, task: &(dyn Fn(usize) + Sync)) {
    #[cfg(not(target_arch = "wasm32"))]
    start_default_native_workers();
    if count <= 1 || WORKERS.load(SeqCst) == 0 || BUSY.swap(true, SeqCst) {
        (0..count).for_each(task);
        return;
    }
    let job = Job { task, count };
    NEXT.store(0, SeqCst);
    // SAFETY (of the lifetime erased here): the pointer is withdrawn below, and this function
    // returns only after every worker that could have read it has left the job (ACTIVE is 0).
    JOB.store(&job as *const Job<'_> as *mut Job<'static>, SeqCst);
    GENERATION.fetch_add(1, SeqCst);
    wake_workers();
    // A task that panics here must still let the job end (workers may hold it) before unwinding.
    let panicked = guarded(|| take_tasks(&job));
    JOB.store(std::ptr::null_mut(), SeqCst);
    // A worker counts itself active before it reads JOB: once it is 0 here, none holds the job.
    while ACTIVE.load(SeqCst) != 0 {
        std::hint::spin_loop();
    }
    let worker_panicked = PANICKED.swap(false, SeqCst);
    BUSY.store(false, SeqCst);
    if let Some(payload) = panicked {
        std::panic::resume_unwind(payload);
    }
    if worker_panicked {
        panic!("a task of the CPU backend's thread pool panicked");
    }
}

/// Runs `f`, returning its panic's payload natively; in wasm panics abort (trap), so it just runs.
fn guarded(f: impl FnOnce()) -> Option<Box<dyn std::any::Any + Send>> {
    #[cfg(not(target_arch = "wasm32"))]
    return std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).err();
    #[cfg(target_arch = "wasm32")]
    {
        f();
        None
    }
}

fn take_tasks(job: &Job<'_>) {
    loop {
        let i = NEXT.fetch_add(1, SeqCst);
        if i >= job.count {
            return;
        }
        (job.task)(i);
    }
}

/// Counts a worker that is about to enter `worker_loop` (separate, so that a Web Worker can say it
/// has joined before it blocks in the loop for good). Jobs never wait for a worker: one published
/// before the worker reaches its loop is taken by its caller and whoever is running.
pub fn join_pool() {
    WORKERS.fetch_add(1, SeqCst);
}

/// A worker's life after `join_pool`: wait for a job, help with it, again. Never returns.
pub fn worker_loop() -> ! {
    // Not the current generation: a worker that joins while a job runs looks at it at once.
    let mut seen = GENERATION.load(SeqCst).wrapping_sub(1);
    loop {
        let now = GENERATION.load(SeqCst);
        if now == seen {
            // Layers come back to back: a short spin catches the next job without a sleep and a
            // wake-up (tens of microseconds each), then sleep.
            if (0..SPINS_BEFORE_SLEEP).all(|_| {
                std::hint::spin_loop();
                GENERATION.load(SeqCst) == seen
            }) {
                sleep_until_changed(&GENERATION, seen);
            }
            continue;
        }
        seen = now;
        ACTIVE.fetch_add(1, SeqCst);
        let job = JOB.load(SeqCst);
        if !job.is_null() {
            // SAFETY: a non-null JOB is alive while this worker is counted in ACTIVE.
            help(unsafe { &*job });
        }
        ACTIVE.fetch_sub(1, SeqCst);
    }
}

fn help(job: &Job<'_>) {
    if guarded(|| take_tasks(job)).is_some() {
        PANICKED.store(true, SeqCst);
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "atomics"))]
fn sleep_until_changed(word: &AtomicI32, seen: i32) {
    // SAFETY: the address is a live, aligned i32 in this module's (shared) memory. Workers are
    // Web Workers, which may block.
    unsafe { core::arch::wasm32::memory_atomic_wait32(word.as_ptr(), seen, -1) };
}

#[cfg(all(target_arch = "wasm32", target_feature = "atomics"))]
fn wake_workers() {
    // SAFETY: as above; notify never blocks, so the main thread may call it.
    unsafe { core::arch::wasm32::memory_atomic_notify(GENERATION.as_ptr(), u32::MAX) };
}

/// A single-threaded wasm build has no workers (WORKERS stays 0 and nothing waits).
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
fn sleep_until_changed(_: &AtomicI32, _: i32) {
    unreachable!("the single-threaded build has no workers");
}

#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
fn wake_workers() {}

#[cfg(not(target_arch = "wasm32"))]
static NATIVE_WORKERS: std::sync::Mutex<Vec<std::thread::Thread>> = std::sync::Mutex::new(Vec::new());

#[cfg(not(target_arch = "wasm32"))]
fn sleep_until_changed(_: &AtomicI32, _: i32) {
    // Spurious wake-ups are fine: the caller checks the generation again.
    std::thread::park();
}

#[cfg(not(target_arch = "wasm32"))]
fn wake_workers() {
    for t in NATIVE_WORKERS.lock().unwrap_or_else(|e| e.into_inner()).iter() {
        t.unpark();
    }
}

/// Natively the pool starts on first use with a worker per further logical core (at most 7), or
/// `WEBTENSOR_NUM_THREADS - 1` (1: no workers).
#[cfg(not(target_arch = "wasm32"))]
fn start_default_native_workers() {
    static START: std::sync::Once = std::sync::Once::new();
    START.call_once(|| {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get()).min(8);
        let threads = std::env::var("WEBTENSOR_NUM_THREADS").ok().and_then(|v| v.parse::<usize>().ok()).unwrap_or(cores);
        start_native_workers(threads.saturating_sub(1));
    });
}

/// Starts native worker threads until there are `count`.
#[cfg(not(target_arch = "wasm32"))]
pub fn start_native_workers(count: usize) {
    let mut workers = NATIVE_WORKERS.lock().unwrap_or_else(|e| e.into_inner());
    while workers.len() < count {
        let handle = std::thread::Builder::new()
            .name(format!("webtensor-worker-{}", workers.len()))
            .spawn(|| worker_loop())
            .expect("spawning a CPU worker thread");
        workers.push(handle.thread().clone());
        join_pool();
    }
}

/// Splits 0..len into at most `threads() * per_thread` ranges of at least `min_len` elements
/// (whole multiples of `align`, except the last): the ranges a kernel hands to `run_tasks`.
pub fn split(len: usize, min_len: usize, align: usize, per_thread: usize) -> Vec<std::ops::Range<usize>> {
    // One thread: one range, so a single-threaded build runs each kernel exactly as one loop.
    let threads = threads();
    let parts = if threads == 1 { 1 } else { (threads * per_thread).min(len / min_len.max(1)).max(1) };
    let step = len.div_ceil(parts).next_multiple_of(align.max(1));
    (0..len).step_by(step.max(1)).map(|s| s..(s + step).min(len)).collect()
}

/// A raw pointer that tasks may share: each task writes a disjoint part of what it points to
/// (read it with `get`, so that a closure captures the wrapper, not the bare pointer).
#[derive(Clone, Copy)]
pub struct Shared<P>(P);
// SAFETY: users guarantee that concurrent tasks touch disjoint elements.
unsafe impl<P> Send for Shared<P> {}
unsafe impl<P> Sync for Shared<P> {}

impl<P: Copy> Shared<P> {
    pub fn new(pointer: P) -> Self {
        Shared(pointer)
    }
    pub fn get(&self) -> P {
        self.0
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU64;

    #[test]
    fn every_task_runs_once_on_several_threads() {
        start_native_workers(3);
        for count in [0, 1, 2, 7, 1000] {
            let hits: Vec<AtomicU64> = (0..count).map(|_| AtomicU64::new(0)).collect();
            run_tasks(count, &|i| {
                hits[i].fetch_add(1, SeqCst);
            });
            assert!(hits.iter().all(|h| h.load(SeqCst) == 1), "{count} tasks: each must run exactly once");
        }
        // Workers take part, woken for each job. The pool may be busy with another test's job
        // (then a job runs on its caller, as designed), and a worker may be slow to wake on a
        // loaded machine: still, 10 of up to 400 jobs of 64 tasks of ~20 us must have run on more
        // than one thread (a worker that joins while a job runs helps once without being woken:
        // three of them could share three jobs at most).
        let shared = (0..400).filter(|_| {
            let seen = std::sync::Mutex::new(std::collections::HashSet::new());
            run_tasks(64, &|_| {
                seen.lock().unwrap().insert(std::thread::current().id());
                let t = std::time::Instant::now();
                while t.elapsed().as_micros() < 20 {
                    std::hint::spin_loop();
                }
            });
            let threads = seen.lock().unwrap().len();
            threads > 1
        });
        assert!(shared.take(10).count() == 10, "fewer than 10 of 400 jobs ran on more than one thread: workers are not woken");
        // Nested jobs run on their caller; jobs from several threads at once all finish.
        let total = AtomicU64::new(0);
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| run_tasks(50, &|_| run_tasks(10, &|_| { total.fetch_add(1, SeqCst); })));
            }
        });
        assert_eq!(total.load(SeqCst), 4 * 50 * 10);
    }

    #[test]
    fn a_panicking_task_unwinds_to_the_caller_and_the_pool_keeps_working() {
        start_native_workers(2);
        for _ in 0..20 {
            let outcome = std::panic::catch_unwind(|| {
                run_tasks(64, &|i| {
                    if i % 16 == 3 {
                        panic!("task {i}");
                    }
                })
            });
            assert!(outcome.is_err(), "a task's panic must reach the caller");
        }
        let hits = AtomicU64::new(0);
        run_tasks(100, &|_| {
            hits.fetch_add(1, SeqCst);
        });
        assert_eq!(hits.load(SeqCst), 100);
    }

    #[test]
    fn split_covers_the_range_in_aligned_parts() {
        for (len, min_len, align) in [(0, 8, 4), (5, 8, 4), (1000, 8, 4), (1001, 64, 8), (48, 1, 1)] {
            let parts = split(len, min_len, align, 2);
            let mut next = 0;
            for r in &parts {
                assert_eq!(r.start, next);
                assert!(r.start % align == 0 && r.end > r.start);
                next = r.end;
            }
            assert_eq!(next, len, "{len} {min_len} {align}: {parts:?}");
        }
    }
}
