//! The one concurrency scheme: rayon thread pools, one per requested size, each built
//! once per process and reused by every later call.
//!
//! Every parallel piece of oix runs here: fsck's hashing ([`map_dynamic`]), parallel gzip
//! (`compress::ParGzip` spawns its blocks with [`get`]), the graph copy's staging and its
//! presence checks, push's HEAD prefetch and `--dry-run` ([`install`]).
//!
//! Why a pool per size, built lazily and kept:
//! - `--jobs N` is a promise about how many threads do the work of a command (people pass
//!   `-j1` to keep a build host free); rayon cannot cap the parallelism of one call
//!   inside a wider pool, so the size is the pool's. A process uses few sizes (a command
//!   uses its `--jobs` and, for registry HEADs, a wider one), so few pools exist.
//! - Built once: threads start on the first call of a size and are reused, so a library
//!   caller that checks many layouts, push's prefetch followed by its copy, or a build
//!   starting one gzip stream per layer, pay for thread start-up once, not per call.
//! - Shared by size: two calls with the same `jobs` running at once from two threads of
//!   a library caller share that pool's threads (the bound holds for the process, not
//!   per call); different sizes get different pools.
//! - Not rayon's global pool: its size is fixed by the first user (or
//!   `RAYON_NUM_THREADS`), and oix needs more than one size in one command.
//!
//! Work running on a pool must not block waiting for other work of the same pool (all
//! its threads could be the waiters); `ParGzip` waits from its caller's thread, and when
//! that thread is itself a worker of the pool it helps run the pending blocks instead of
//! sleeping. Threads that block on I/O for their whole life are not pool work and stay
//! dedicated threads: the producer/compressor stage of `compress::pipelined`, and the
//! reader of a credential helper's pipe.

use crate::error::{Error, Result};
use rayon::ThreadPool;
use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// The most threads one pool gets, whatever was asked: a bound on what a typo in
/// `--jobs` (or a library caller) can start.
pub const MAX_THREADS: usize = 256;

/// The machine's cores: the default for `--jobs` where a command has one.
pub fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The pool of `jobs` threads (at least 1, at most [`MAX_THREADS`]), started on the
/// first call with that size and shared by every later one.
pub fn get(jobs: usize) -> Result<Arc<ThreadPool>> {
    static POOLS: OnceLock<Mutex<HashMap<usize, Arc<ThreadPool>>>> = OnceLock::new();
    let n = jobs.clamp(1, MAX_THREADS);
    let mut pools = POOLS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    if let Some(p) = pools.get(&n) {
        return Ok(Arc::clone(p));
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .thread_name(move |i| format!("oix-{n}-{i}"))
        .build()
        .map_err(|e| Error::failure(format!("starting {n} worker threads: {e}")))?;
    let pool = Arc::new(pool);
    pools.insert(n, Arc::clone(&pool));
    Ok(pool)
}

/// Run `f` on the pool of `jobs` threads: rayon's parallel iterators inside it use that
/// many threads. A panic in the work comes back as an error instead of unwinding.
pub fn install<R: Send>(jobs: usize, f: impl FnOnce() -> R + Send) -> Result<R> {
    let pool = get(jobs)?;
    pool.install(|| catch_unwind(AssertUnwindSafe(f)))
        .map_err(|_| Error::failure("a worker thread panicked"))
}

/// `f` over every item on `jobs` threads of the pool, each thread taking the next item
/// in slice order from a shared cursor, with its own state from `init` (a buffer) for
/// all the items it takes; results in slice order.
///
/// For work of very uneven sizes, given biggest first, this is longest-processing-time
/// first scheduling. A parallel iterator would split the slice into contiguous halves
/// and hand neighbouring big items to one thread (measured on fsck: no speed-up from a
/// second core on a layout with one 512 MiB blob).
pub fn map_dynamic<T, S, R>(
    jobs: usize,
    items: &[T],
    init: impl Fn() -> S + Sync,
    f: impl Fn(&mut S, &T) -> R + Sync,
) -> Result<Vec<R>>
where
    T: Sync,
    R: Send,
{
    let threads = jobs.clamp(1, MAX_THREADS).min(items.len().max(1));
    let next = AtomicUsize::new(0);
    let done: Mutex<Vec<(usize, R)>> = Mutex::new(Vec::with_capacity(items.len()));
    install(jobs, || {
        rayon::scope(|s| {
            for _ in 0..threads {
                s.spawn(|_| {
                    let mut state = init();
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = items.get(i) else { break };
                        mine.push((i, f(&mut state, item)));
                    }
                    done.lock().unwrap_or_else(|p| p.into_inner()).extend(mine);
                });
            }
        })
    })?;
    let mut done = done.into_inner().unwrap_or_else(|p| p.into_inner());
    done.sort_unstable_by_key(|(i, _)| *i);
    Ok(done.into_iter().map(|(_, r)| r).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn one_pool_per_size_built_once() {
        let a = get(3).unwrap();
        let b = get(3).unwrap();
        assert!(Arc::ptr_eq(&a, &b), "a second call must reuse the pool");
        assert_eq!(a.current_num_threads(), 3);
        assert!(Arc::ptr_eq(&get(0).unwrap(), &get(1).unwrap()), "0 means 1");
        assert_eq!(get(usize::MAX).unwrap().current_num_threads(), MAX_THREADS);
        assert_eq!(install(5, rayon::current_num_threads).unwrap(), 5);
    }

    #[test]
    fn map_dynamic_keeps_order_and_the_thread_bound() {
        let items: Vec<u64> = (0..500).collect();
        for jobs in [1, 2, 7] {
            let out = map_dynamic(
                jobs,
                &items,
                || 0u64,
                |seen, x| {
                    *seen += 1;
                    (x * 2, std::thread::current().id())
                },
            )
            .unwrap();
            let values: Vec<u64> = out.iter().map(|(v, _)| *v).collect();
            assert_eq!(values, items.iter().map(|x| x * 2).collect::<Vec<_>>());
            let threads: HashSet<_> = out.iter().map(|(_, t)| *t).collect();
            assert!(
                threads.len() <= jobs,
                "jobs={jobs}: {} threads",
                threads.len()
            );
        }
        assert!(map_dynamic(4, &[] as &[u8], || (), |_, x| *x)
            .unwrap()
            .is_empty());
    }

    #[test]
    fn a_panic_in_the_work_is_an_error() {
        let e = install(2, || -> u8 { panic!("boom") }).unwrap_err();
        assert!(e.message.contains("panicked"), "{}", e.message);
        // The pool survives it.
        assert_eq!(install(2, || 7).unwrap(), 7);
    }

    /// One scheme stays one: threads are started here only, apart from the two dedicated
    /// I/O threads the module docs name. A new `ThreadPoolBuilder` or worker thread
    /// elsewhere in src/ fails this test; use [`install`], [`map_dynamic`] or [`get`].
    #[test]
    fn no_thread_is_started_outside_the_pool() {
        const STARTS: [&str; 4] = [
            "ThreadPoolBuilder",
            "thread::spawn",
            "thread::Builder",
            "thread::scope",
        ];
        const DEDICATED: [(&str, &str); 2] = [
            ("compress/pipeline.rs", "thread::scope"),
            ("registry/auth/helper.rs", "thread::spawn"),
        ];
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut found = Vec::new();
        let mut dirs = vec![src.clone()];
        while let Some(dir) = dirs.pop() {
            for e in std::fs::read_dir(&dir).unwrap() {
                let path = e.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                    continue;
                }
                let rel = path
                    .strip_prefix(&src)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                if rel == "pool.rs" || !rel.ends_with(".rs") {
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                for (n, line) in text.lines().enumerate() {
                    if line.trim_start().starts_with("//") {
                        continue;
                    }
                    for start in STARTS {
                        if line.contains(start) && !DEDICATED.contains(&(rel.as_str(), start)) {
                            found.push(format!("src/{rel}:{}: {}", n + 1, line.trim()));
                        }
                    }
                }
            }
        }
        assert!(
            found.is_empty(),
            "threads started outside src/pool.rs:\n{}",
            found.join("\n")
        );
    }
}
