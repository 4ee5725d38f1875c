//! `POST /admin/reload`: read the settings and files again and swap in what changed, as SIGHUP
//! does, answering with what was loaded, kept and removed, or why nothing changed.
//!
//! Guarded by `admin_api_keys` when set, else by `api_keys` like the other routes (see
//! `http/auth.rs`).

use axum::extract::State;

use super::JsonBytes;
use crate::error::AppError;
use crate::state::{AppState, ReloadError};

/// Handler of `POST /admin/reload`.
pub(super) async fn reload(State(state): State<AppState>) -> Result<JsonBytes, AppError> {
    match state.reload().await {
        Ok(reloaded) => JsonBytes::of(&reloaded),
        Err(ReloadError::NotLoaded) => Err(AppError::NotReady),
        Err(error) => Err(AppError::ReloadFailed(error.to_string())),
    }
}
