//! State shared by every request: settings, the loaded resources and the lifecycle flags.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use rayon::ThreadPoolBuildError;

use crate::compute::ComputePool;
use crate::config::Settings;
use crate::error::AppError;
use crate::http::Admission;
use crate::model::EmbeddingModel;
use crate::word2vec::WordVectors;

/// What the service serves, loaded once at startup.
#[derive(Debug, Default)]
pub struct Resources {
    /// The Hugging Face model, when `model_dir` is set.
    pub model: Option<EmbeddingModel>,
    /// The word2vec store, when `word2vec` is set.
    pub store: Option<WordVectors>,
}

/// Cheaply cloneable handle to the shared state.
#[derive(Debug, Clone)]
pub struct AppState {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    settings: Settings,
    resources: OnceLock<Resources>,
    shutting_down: AtomicBool,
    /// Whether a changed model file has been logged (once, not per request).
    file_change_logged: AtomicBool,
    admission: Admission,
    compute: ComputePool,
}

impl AppState {
    /// State for `settings`, with nothing loaded yet (not ready); fails when the compute
    /// threads cannot be created.
    pub fn new(settings: Settings) -> Result<Self, ThreadPoolBuildError> {
        let compute = ComputePool::new(settings.compute_threads(), settings.request_timeout())?;
        Ok(Self {
            shared: Arc::new(Shared {
                admission: Admission::new(settings.max_concurrent_requests),
                settings,
                resources: OnceLock::new(),
                shutting_down: AtomicBool::new(false),
                file_change_logged: AtomicBool::new(false),
                compute,
            }),
        })
    }

    /// The resolved settings.
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

    /// Installs the loaded resources; the service becomes ready. Later calls are ignored.
    pub fn set_loaded(&self, resources: Resources) {
        if self.shared.resources.set(resources).is_err() {
            tracing::warn!("resources were already loaded; keeping the first");
        }
    }

    /// Marks the start of shutdown: readiness turns false so balancers stop sending traffic.
    pub fn begin_shutdown(&self) {
        self.shared.shutting_down.store(true, Ordering::SeqCst);
    }

    /// Whether the resources are loaded, their files unchanged, and shutdown has not begun.
    pub fn is_ready(&self) -> bool {
        self.shared.resources.get().is_some()
            && !self.shared.shutting_down.load(Ordering::SeqCst)
            && self.model_file_change().is_none()
    }

    /// What happened to the served model's memory-mapped file, if it changed since it was
    /// loaded (logged once). Checked on every model request, readiness probe and `/info`: one
    /// `fstat`, far cheaper than the SIGBUS a truncated file would cause.
    pub fn model_file_change(&self) -> Option<String> {
        let model = self.loaded()?.model.as_ref()?;
        let change = model.matrix.file_change()?;
        if !self.shared.file_change_logged.swap(true, Ordering::SeqCst) {
            tracing::error!(
                change,
                "the model's weights file changed under the server: model requests are refused \
                 until a restart (write a new file and rename it over the old one, or use \
                 load_mode = \"read\")"
            );
        }
        Some(change)
    }

    /// The loaded resources, if loading has finished.
    pub fn loaded(&self) -> Option<&Resources> {
        self.shared.resources.get()
    }

    /// The model, or the error a model route answers with.
    pub fn model(&self) -> Result<&EmbeddingModel, AppError> {
        let resources = self.loaded().ok_or(AppError::NotReady)?;
        let model = resources.model.as_ref().ok_or(AppError::NotConfigured(
            "this server was started without a model (model_dir)",
        ))?;
        match self.model_file_change() {
            Some(change) => Err(AppError::ModelFileChanged(change)),
            None => Ok(model),
        }
    }

    /// The word2vec store, or the error a word2vec route answers with.
    pub fn store(&self) -> Result<&WordVectors, AppError> {
        let resources = self.loaded().ok_or(AppError::NotReady)?;
        resources.store.as_ref().ok_or(AppError::NotConfigured(
            "this server was started without a word2vec store (word2vec)",
        ))
    }
}
