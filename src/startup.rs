//! Building and running the service: bind first, load in the background, drain on shutdown.
//!
//! The port opens at once so probes can see the process; `/health/ready` turns 200 only when
//! every model and store is loaded. A loading error stops the server and is returned to the
//! caller. Once serving, SIGHUP reloads (see [`AppState::reload`]).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};

use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::catalog::{self, Catalog, CatalogError};
use crate::config::{Settings, SettingsSource};
use crate::connections::{self, ConnectionLimits};
use crate::state::AppState;

/// Why the service stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// The listen address could not be bound.
    #[error("cannot listen on {address}: {source}")]
    Bind {
        /// The configured address.
        address: SocketAddr,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A model or store could not be loaded.
    #[error("{0}")]
    Load(#[from] CatalogError),
    /// The compute threads (`compute_threads`) could not be created.
    #[error("cannot start {threads} compute threads (compute_threads): {source}")]
    ComputeThreads {
        /// How many were asked for.
        threads: usize,
        /// Why the system refused.
        source: rayon::ThreadPoolBuildError,
    },
    /// Loading panicked: a bug, reported instead of a silent hang in "not ready".
    #[error("loading the model or store failed unexpectedly: {0}")]
    LoaderPanicked(String),
}

/// A bound, not yet running service.
#[derive(Debug)]
pub struct Application {
    listener: TcpListener,
    state: AppState,
}

impl Application {
    /// Binds the listen address (port 0 picks a free port, as tests do). A reload keeps
    /// `settings` and reads the files they name again.
    pub async fn build(settings: Settings) -> Result<Self, StartupError> {
        let source = SettingsSource::Fixed(Box::new(settings.clone()));
        Self::build_from(settings, source).await
    }

    /// As [`Application::build`], for `settings` read from `source`, which a reload reads again.
    pub async fn build_from(
        settings: Settings,
        source: SettingsSource,
    ) -> Result<Self, StartupError> {
        let address = settings.listen;
        let listener = TcpListener::bind(address)
            .await
            .map_err(|source| StartupError::Bind { address, source })?;
        let threads = settings.compute_threads();
        let state = AppState::with_source(settings, source)
            .map_err(|source| StartupError::ComputeThreads { threads, source })?;
        Ok(Self { listener, state })
    }

    /// The port actually bound.
    pub fn port(&self) -> u16 {
        self.listener
            .local_addr()
            .map_or(0, |address| address.port())
    }

    /// The shared state (tests use it to wait for readiness).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves until `shutdown` resolves, loading the resources meanwhile; then lets in-flight
    /// requests finish for at most `drain_timeout_secs` (see [`connections::serve`]).
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), StartupError> {
        let Self { listener, state } = self;
        let failure = Arc::new(OnceLock::new());
        let (failed_tx, failed_rx) = oneshot::channel();
        spawn_loading(state.clone(), failed_tx);
        spawn_reload_on_hangup(state.clone());
        let signal = stop_signal(shutdown, failed_rx, state.clone(), failure.clone());
        let limits = ConnectionLimits::from_settings(state.settings());
        connections::serve(listener, crate::http::app(state), limits, signal).await;
        match Arc::try_unwrap(failure).ok().and_then(OnceLock::into_inner) {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }
}

fn spawn_loading(state: AppState, failed: oneshot::Sender<StartupError>) {
    tokio::spawn(async move {
        let settings = state.settings().clone();
        let started = std::time::Instant::now();
        match tokio::task::spawn_blocking(move || load_resources(&settings)).await {
            Ok(Ok(catalog)) => {
                state.set_loaded(catalog);
                tracing::info!(seconds = started.elapsed().as_secs_f64(), "ready");
            }
            Ok(Err(error)) => {
                let _ = failed.send(error);
            }
            Err(join) => {
                let _ = failed.send(StartupError::LoaderPanicked(join.to_string()));
            }
        }
    });
}

async fn stop_signal(
    shutdown: impl Future<Output = ()>,
    failed: oneshot::Receiver<StartupError>,
    state: AppState,
    failure: Arc<OnceLock<StartupError>>,
) {
    tokio::select! {
        () = shutdown => tracing::info!("shutdown requested: draining requests in flight"),
        Ok(error) = failed => {
            let _ = failure.set(error);
        }
    }
    state.begin_shutdown();
}

/// Loads what the settings name: every model and word2vec store.
pub fn load_resources(settings: &Settings) -> Result<Catalog, StartupError> {
    let (catalog, _) = catalog::load(settings, None)?;
    crate::metrics::record_catalog(None, &catalog);
    Ok(catalog)
}

/// Reloads on every SIGHUP, as daemons do; the outcome is logged and counted by the reload.
fn spawn_reload_on_hangup(state: AppState) {
    #[cfg(unix)]
    tokio::spawn(async move {
        let kind = tokio::signal::unix::SignalKind::hangup();
        let mut hangups = match tokio::signal::unix::signal(kind) {
            Ok(hangups) => hangups,
            Err(e) => {
                tracing::warn!("cannot listen for SIGHUP; reload with POST /admin/reload: {e}");
                return;
            }
        };
        while hangups.recv().await.is_some() {
            tracing::info!("SIGHUP: reloading");
            // The reload logs and counts its outcome itself.
            let _ = state.reload().await;
        }
    });
    #[cfg(not(unix))]
    drop(state);
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!("cannot listen for Ctrl-C: {e}");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                tracing::warn!("cannot listen for SIGTERM: {e}");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refused_compute_threads_stop_startup_with_a_message() {
        // A stack larger than the address space: the system refuses the thread.
        let source = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .stack_size(1 << 50)
            .build()
            .expect_err("no room for that stack");
        let message = StartupError::ComputeThreads { threads: 1, source }.to_string();
        assert!(
            message.starts_with("cannot start 1 compute threads (compute_threads): "),
            "{message}"
        );
    }
}
