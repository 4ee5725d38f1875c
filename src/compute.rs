//! Where CPU-heavy request work runs: off the async executor, with bounded admission.
//!
//! Each request first takes an admission permit without waiting (none left: 429, so overload
//! never queues without bound), then waits for one of `compute_threads` worker permits and runs
//! on tokio's blocking pool. The worker permit moves into the blocking closure, so a request that
//! times out still holds it until its work really ends: the CPU is never oversubscribed.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

use crate::error::AppError;

/// Bounded execution of blocking request work.
#[derive(Debug, Clone)]
pub struct ComputePool {
    admission: Arc<Semaphore>,
    workers: Arc<Semaphore>,
    capacity: usize,
    timeout: Duration,
}

impl ComputePool {
    /// A pool admitting `max_in_flight` requests, running `threads` at once, each within `timeout`.
    pub fn new(max_in_flight: usize, threads: usize, timeout: Duration) -> Self {
        Self {
            admission: Arc::new(Semaphore::new(max_in_flight)),
            workers: Arc::new(Semaphore::new(threads.max(1))),
            capacity: max_in_flight,
            timeout,
        }
    }

    /// Requests admitted right now.
    pub fn in_flight(&self) -> usize {
        self.capacity - self.admission.available_permits()
    }

    /// Runs `work` on a worker thread, shedding the request with 429 when the pool is full and
    /// answering 503 `timeout` when it takes too long.
    pub async fn run<T, F>(&self, work: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: FnOnce() -> Result<T, AppError> + Send + 'static,
    {
        let _admitted = self
            .admission
            .clone()
            .try_acquire_owned()
            .map_err(|_| AppError::Overloaded)?;
        let workers = self.workers.clone();
        let job = async move {
            let worker = workers
                .acquire_owned()
                .await
                .map_err(|_| AppError::NotReady)?;
            tokio::task::spawn_blocking(move || {
                let _worker = worker;
                work()
            })
            .await
            .map_err(|e| AppError::Internal(format!("worker failed: {e}")))?
        };
        tokio::time::timeout(self.timeout, job)
            .await
            .map_err(|_| AppError::Timeout(self.timeout.as_secs()))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn sheds_load_beyond_admission_and_times_out() {
        let pool = ComputePool::new(1, 1, Duration::from_millis(200));
        let slow = {
            let pool = pool.clone();
            tokio::spawn(async move {
                pool.run(|| {
                    std::thread::sleep(Duration::from_millis(100));
                    Ok(1)
                })
                .await
            })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(matches!(
            pool.run(|| Ok(2)).await,
            Err(AppError::Overloaded)
        ));
        assert_eq!(slow.await.expect("joined").expect("ran"), 1);
        assert_eq!(pool.run(|| Ok(3)).await.expect("admitted again"), 3);
        let late = pool.run(|| {
            std::thread::sleep(Duration::from_millis(400));
            Ok(4)
        });
        assert!(matches!(late.await, Err(AppError::Timeout(_))));
    }
}
