//! CPU work off the async threads. Searching, diffing, reading records and similar documents
//! run on tokio's blocking pool, at most [`MAX_RUNNING`] at a time and each within
//! [`TIME_LIMIT`] (Quickwit's `run_cpu_intensive` is the model): the two runtime threads stay
//! free for static files and quick pages whatever a query costs, a queue that is too long is
//! refused at once, and a panic comes back as an error page, not a dead connection.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

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
    places: Arc<Semaphore>,
    time_limit: Duration,
    queue_wait: Duration,
}

impl Pool {
    pub fn new(places: usize, time_limit: Duration, queue_wait: Duration) -> Pool {
        Pool {
            places: Arc::new(Semaphore::new(places.max(1))),
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
        let task = tokio::task::spawn_blocking(move || {
            let out = f();
            drop(permit);
            out
        });
        match tokio::time::timeout(self.time_limit, task).await {
            Ok(Ok(out)) => Ok(out),
            Ok(Err(_)) => Err(Refused::Failed),
            Err(_) => Err(Refused::TooLong),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn work_is_bounded_timed_and_panics_are_errors() {
        let pool = Pool::new(1, Duration::from_millis(200), Duration::from_millis(100));
        assert_eq!(pool.run(|| 2 + 2).await, Ok(4));
        assert_eq!(
            pool.run(|| -> u8 { panic!("boom") }).await,
            Err(Refused::Failed)
        );
        // A runaway keeps its place after its request gave up: the next one is refused.
        let slow = pool.run(|| std::thread::sleep(Duration::from_millis(600)));
        assert_eq!(slow.await, Err(Refused::TooLong));
        assert_eq!(pool.run(|| ()).await, Err(Refused::Busy));
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(pool.run(|| 1).await, Ok(1));
    }
}
