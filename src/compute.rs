//! Where CPU-heavy request work runs: off the async executor, on one pool of `compute_threads`
//! threads, within the request timeout.
//!
//! Admission (how many requests may be in flight, 429 beyond) is decided before a request gets
//! here, by the HTTP layer, which holds the permit until the response is written. Here a job is
//! queued on a rayon pool of exactly `compute_threads` threads: the job itself and any parallel
//! loop inside it (a store search split into blocks) share those threads, so the CPU is never
//! oversubscribed. A request that times out is answered 503 at once; its job is skipped if it has
//! not started, and a search in progress stops at its deadline (see `SearchOptions::deadline`), so
//! timed-out work does not keep a thread from the requests behind it.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rayon::ThreadPoolBuildError;
use tokio::sync::oneshot;

use crate::error::AppError;

/// Bounded execution of blocking request work.
#[derive(Debug, Clone)]
pub struct ComputePool {
    threads: Arc<rayon::ThreadPool>,
    timeout: Duration,
}

impl ComputePool {
    /// A pool of `threads` threads (at least one) whose jobs must end within `timeout`; fails
    /// when the system refuses to create a thread (a process or memory limit), which startup
    /// reports as an error.
    pub fn new(threads: usize, timeout: Duration) -> Result<Self, ThreadPoolBuildError> {
        let threads = rayon::ThreadPoolBuilder::new()
            .num_threads(threads.max(1))
            .thread_name(|i| format!("embedserve-compute-{i}"))
            .build()?;
        Ok(Self {
            threads: Arc::new(threads),
            timeout,
        })
    }

    /// The instant by which a job submitted now must end; long loops in a job check it.
    pub fn deadline(&self) -> Instant {
        Instant::now() + self.timeout
    }

    /// Runs `work` on a compute thread, answering 503 `timeout` when it takes too long, or when
    /// the work itself stops at [`ComputePool::deadline`] (a search answering
    /// [`AppError::Timeout`] before the pool's own timer fires).
    pub async fn run<T, F>(&self, work: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: FnOnce() -> Result<T, AppError> + Send + 'static,
    {
        let (answer, answered) = oneshot::channel();
        self.threads.spawn(move || {
            // The caller stopped waiting (timeout, client gone): skip the work entirely.
            if answer.is_closed() {
                return;
            }
            // A panic must not take down a pool thread (rayon aborts the process on one).
            let result = catch_unwind(AssertUnwindSafe(work));
            let _ = answer.send(result);
        });
        match tokio::time::timeout(self.timeout, answered).await {
            Err(_) => Err(AppError::Timeout(self.timeout.as_secs())),
            Ok(Err(_)) => Err(AppError::Internal(
                "a compute thread dropped its job".to_owned(),
            )),
            Ok(Ok(Err(_))) => Err(AppError::Internal("the request's work panicked".to_owned())),
            // Work that stopped at the pool's deadline does not know the timeout: this does.
            Ok(Ok(Ok(Err(AppError::Timeout(_))))) => Err(AppError::Timeout(self.timeout.as_secs())),
            Ok(Ok(Ok(result))) => result,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::word2vec::query::QueryError;

    #[tokio::test]
    async fn runs_work_and_survives_a_panic() {
        // A generous timeout: printing the panic's backtrace is slow on a loaded machine.
        let pool = ComputePool::new(1, Duration::from_secs(60)).expect("threads");
        assert_eq!(pool.run(|| Ok(1)).await.expect("ran"), 1);
        let panicked = pool.run::<u8, _>(|| panic!("boom")).await;
        assert!(
            matches!(panicked, Err(AppError::Internal(_))),
            "{panicked:?}"
        );
        assert_eq!(pool.run(|| Ok(3)).await.expect("still serving"), 3);
    }

    #[tokio::test]
    async fn work_past_the_timeout_is_answered_503() {
        let pool = ComputePool::new(1, Duration::from_millis(100)).expect("threads");
        let late = pool.run(|| {
            std::thread::sleep(Duration::from_millis(400));
            Ok(2)
        });
        assert!(matches!(late.await, Err(AppError::Timeout(_))));
    }

    #[tokio::test]
    async fn a_job_whose_caller_gave_up_is_skipped() {
        let pool = ComputePool::new(1, Duration::from_millis(50)).expect("threads");
        let ran = Arc::new(std::sync::atomic::AtomicBool::new(false));
        // The only thread is busy past the timeout of the job queued behind it.
        let busy = pool.run(|| {
            std::thread::sleep(Duration::from_millis(150));
            Ok(())
        });
        let flag = ran.clone();
        let queued = pool.run(move || {
            flag.store(true, std::sync::atomic::Ordering::SeqCst);
            Ok(())
        });
        let (busy, queued) = tokio::join!(busy, queued);
        assert!(matches!(busy, Err(AppError::Timeout(_))));
        assert!(matches!(queued, Err(AppError::Timeout(_))));
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(!ran.load(std::sync::atomic::Ordering::SeqCst));
    }

    #[tokio::test]
    async fn a_search_past_its_deadline_reports_the_configured_timeout() {
        let pool = ComputePool::new(1, Duration::from_secs(7)).expect("threads");
        let stopped = pool
            .run::<(), _>(|| Err(QueryError::DeadlineExceeded.into()))
            .await
            .expect_err("stopped at its deadline");
        assert!(matches!(stopped, AppError::Timeout(7)), "{stopped:?}");
        assert!(
            stopped.to_string().contains("within 7 seconds"),
            "{stopped}"
        );
    }
}
