//! CPU work off the async threads. Searching, diffing, reading records and similar documents
//! run on a pool of [`MAX_RUNNING`] worker threads, each piece within [`TIME_LIMIT`]
//! (Quickwit's `run_cpu_intensive` is the model): the runtime threads stay free for static
//! files and quick pages whatever a query costs, a queue that waits too long is refused, and
//! a panic comes back as an error page, not a dead connection. On Linux the workers run at a
//! lower priority (nice 10) than the runtime threads: measured under 32 clients, with tokio's
//! blocking pool a static file waited up to 48 ms (p99) for a core the searches held.

use std::sync::mpsc::{Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{Semaphore, oneshot};

type Job = Box<dyn FnOnce() + Send>;

/// Work running at once: the machine's cores, at least 2.
pub static MAX_RUNNING: std::sync::LazyLock<usize> = std::sync::LazyLock::new(|| {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .max(2)
});
/// How long a request may wait for a place before it is refused.
pub const QUEUE_WAIT: Duration = Duration::from_secs(5);
/// How long one piece of work may run before its request is answered with an error (the work
/// itself finishes in the background, holding its place, so runaway work cannot pile up).
pub const TIME_LIMIT: Duration = Duration::from_secs(10);

/// Why work did not give an answer.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// Every place was taken for longer than [`QUEUE_WAIT`].
    Busy,
    /// The work ran longer than [`TIME_LIMIT`].
    TooLong,
    /// The work panicked.
    Failed,
}

/// The bounded pool.
#[derive(Clone)]
pub struct Pool {
    /// One place a worker: work waits for a place, not in the workers' queue.
    places: Arc<Semaphore>,
    jobs: Sender<Job>,
    time_limit: Duration,
    queue_wait: Duration,
}

impl Pool {
    pub fn new(places: usize, time_limit: Duration, queue_wait: Duration) -> Pool {
        let places = places.max(1);
        let (jobs, rx) = channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..places {
            let rx = rx.clone();
            let _ = std::thread::Builder::new()
                .name(format!("rl-search-work-{i}"))
                .spawn(move || {
                    lower_priority();
                    loop {
                        let job = match rx.lock() {
                            Ok(rx) => rx.recv(),
                            Err(_) => return,
                        };
                        match job {
                            // A panic is caught where the job is made (see `run`).
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    }
                });
        }
        Pool {
            places: Arc::new(Semaphore::new(places)),
            jobs,
            time_limit,
            queue_wait,
        }
    }

    /// Runs `f` on the blocking pool when a place is free.
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Refused> {
        let permit = match tokio::time::timeout(
            self.queue_wait,
            self.places.clone().acquire_owned(),
        )
        .await
        {
            Ok(Ok(p)) => p,
            _ => return Err(Refused::Busy),
        };
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move || {
            let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
            // The place is given back when the work ends, whether or not anyone waits for it.
            drop(permit);
            let _ = tx.send(out);
        });
        if self.jobs.send(job).is_err() {
            return Err(Refused::Failed);
        }
        match tokio::time::timeout(self.time_limit, rx).await {
            Ok(Ok(Ok(out))) => Ok(out),
            Ok(_) => Err(Refused::Failed),
            Err(_) => Err(Refused::TooLong),
        }
    }
}

/// Lets the runtime's threads go first when both want a core (Linux: this thread's nice
/// value; elsewhere nothing).
fn lower_priority() {
    #[cfg(target_os = "linux")]
    // Safety: setpriority on this thread's own id changes only its scheduling priority.
    unsafe {
        let tid = libc::gettid();
        libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, 10);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn work_is_bounded_timed_and_panics_are_errors() {
        // Limits wide enough for a debug build printing a panic's backtrace.
        let pool = Pool::new(1, Duration::from_millis(1500), Duration::from_millis(100));
        assert_eq!(pool.run(|| 2 + 2).await, Ok(4));
        assert_eq!(
            pool.run(|| -> u8 { panic!("boom") }).await,
            Err(Refused::Failed)
        );
        // A runaway keeps its place after its request gave up: the next one is refused.
        let slow = pool.run(|| std::thread::sleep(Duration::from_millis(2500)));
        assert_eq!(slow.await, Err(Refused::TooLong));
        assert_eq!(pool.run(|| ()).await, Err(Refused::Busy));
        tokio::time::sleep(Duration::from_millis(1200)).await;
        assert_eq!(pool.run(|| 1).await, Ok(1));
    }
}
