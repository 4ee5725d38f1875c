//! State shared by every request: settings, the served catalog and the lifecycle flags.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use arc_swap::ArcSwapOption;
use rayon::ThreadPoolBuildError;
use serde::Serialize;

use crate::catalog::{self, Catalog, CatalogError, ReloadReport};
use crate::compute::ComputePool;
use crate::config::{ConfigError, Settings, SettingsSource};
use crate::error::AppError;
use crate::http::Admission;

/// Cheaply cloneable handle to the shared state.
#[derive(Debug, Clone)]
pub struct AppState {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    settings: Settings,
    /// Where `settings` came from, read again by a reload.
    source: SettingsSource,
    /// What is served; `None` until the first load finishes.
    catalog: ArcSwapOption<Catalog>,
    /// One reload at a time: two at once would load the same files twice.
    reloading: tokio::sync::Mutex<()>,
    shutting_down: AtomicBool,
    admission: Admission,
    compute: ComputePool,
}

/// Why a reload changed nothing.
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    /// The first load has not finished: there is nothing to reload yet.
    #[error("the first load has not finished")]
    NotLoaded,
    /// The settings could not be read again.
    #[error("{0}")]
    Settings(#[from] ConfigError),
    /// A model or store could not be loaded.
    #[error("{0}")]
    Catalog(#[from] CatalogError),
    /// Loading panicked: a bug, reported instead of taking the server down.
    #[error("loading failed unexpectedly: {0}")]
    Panicked(String),
}

/// What a successful reload did.
#[derive(Debug, Serialize)]
pub struct Reloaded {
    /// Models and stores loaded, kept and removed.
    #[serde(flatten)]
    pub report: ReloadReport,
    /// Changed settings a reload does not apply (limits, keys, the address): they need a
    /// restart.
    pub restart_required: Vec<String>,
}

impl AppState {
    /// State for `settings`, with nothing loaded yet (not ready); a reload keeps `settings` and
    /// reads the files they name again. Fails when the compute threads cannot be created.
    pub fn new(settings: Settings) -> Result<Self, ThreadPoolBuildError> {
        let source = SettingsSource::Fixed(Box::new(settings.clone()));
        Self::with_source(settings, source)
    }

    /// State for `settings`, read from `source`, which a reload reads again; fails when the
    /// compute threads cannot be created.
    pub fn with_source(
        settings: Settings,
        source: SettingsSource,
    ) -> Result<Self, ThreadPoolBuildError> {
        let compute = ComputePool::new(settings.compute_threads(), settings.request_timeout())?;
        Ok(Self {
            shared: Arc::new(Shared {
                admission: Admission::new(settings.max_concurrent_requests),
                settings,
                source,
                catalog: ArcSwapOption::empty(),
                reloading: tokio::sync::Mutex::new(()),
                shutting_down: AtomicBool::new(false),
                compute,
            }),
        })
    }

    /// The settings resolved at start.
    pub fn settings(&self) -> &Settings {
        &self.shared.settings
    }

    /// The permits of the requests doing work (see `http/admission.rs`).
    pub fn admission(&self) -> &Admission {
        &self.shared.admission
    }

    /// The pool request work runs on.
    pub fn compute(&self) -> &ComputePool {
        &self.shared.compute
    }

    /// Runs `work` on the compute pool (see [`ComputePool::run`]) with this state at hand.
    pub async fn run_blocking<T, F>(&self, work: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: FnOnce(&AppState) -> Result<T, AppError> + Send + 'static,
    {
        let state = self.clone();
        self.compute().run(move || work(&state)).await
    }

    /// Installs the first catalog; the service becomes ready. Later calls are ignored: a
    /// reload replaces the catalog.
    pub fn set_loaded(&self, catalog: Catalog) {
        let installed = self
            .shared
            .catalog
            .compare_and_swap(&None::<Arc<Catalog>>, Some(Arc::new(catalog)));
        if installed.is_some() {
            tracing::warn!("the catalog was already loaded; keeping the first");
        }
    }

    /// Marks the start of shutdown: readiness turns false so balancers stop sending traffic.
    pub fn begin_shutdown(&self) {
        self.shared.shutting_down.store(true, Ordering::SeqCst);
    }

    /// Whether everything is loaded, no served file changed, and shutdown has not begun.
    pub fn is_ready(&self) -> bool {
        !self.shared.shutting_down.load(Ordering::SeqCst)
            && self
                .loaded()
                .is_some_and(|catalog| catalog.file_change().is_none())
    }

    /// The catalog serving now, if the first load has finished. A request keeps this snapshot
    /// to its end, whatever reloads happen meanwhile.
    pub fn loaded(&self) -> Option<Arc<Catalog>> {
        self.shared.catalog.load_full()
    }

    /// The catalog serving now, or `not_ready`.
    pub fn catalog(&self) -> Result<Arc<Catalog>, AppError> {
        self.loaded().ok_or(AppError::NotReady)
    }

    /// Reads the settings and files again, loads what changed next to what is serving, and
    /// swaps the new catalog in at once. On failure nothing changes. Counted in
    /// `embedserve_reloads_total`.
    pub async fn reload(&self) -> Result<Reloaded, ReloadError> {
        let _one_at_a_time = self.shared.reloading.lock().await;
        let outcome = self.load_again().await;
        crate::metrics::record_reload(outcome.is_ok());
        match &outcome {
            Ok(reloaded) => tracing::info!(
                report = %serde_json::to_string(reloaded).unwrap_or_default(),
                "reloaded"
            ),
            Err(e) => tracing::error!("reload failed, still serving what was loaded: {e}"),
        }
        outcome
    }

    async fn load_again(&self) -> Result<Reloaded, ReloadError> {
        let previous = self.loaded().ok_or(ReloadError::NotLoaded)?;
        let state = self.clone();
        let serving = Arc::clone(&previous);
        let loaded = tokio::task::spawn_blocking(move || {
            let settings = state.shared.source.load()?;
            let restart_required = state.settings().changes_needing_restart(&settings);
            let (catalog, report) = catalog::load(&settings, Some(&serving))?;
            Ok::<_, ReloadError>((catalog, report, restart_required))
        })
        .await
        .map_err(|join| ReloadError::Panicked(join.to_string()))?;
        let (catalog, report, restart_required) = loaded?;
        crate::metrics::record_catalog(Some(&previous), &catalog);
        self.shared.catalog.store(Some(Arc::new(catalog)));
        Ok(Reloaded {
            report,
            restart_required,
        })
    }
}
