//! [`JsonBytes`]: a response body serialized on a worker thread, carrying the work it reports.

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::observe::WorkDone;
use crate::error::AppError;

/// A JSON body serialized ahead of time (on a worker thread, not the executor), with the work
/// it stands for (reported to the access log and metrics).
#[derive(Debug)]
pub struct JsonBytes {
    bytes: Vec<u8>,
    work: Option<WorkDone>,
}

impl JsonBytes {
    /// Serializes `value`.
    pub fn of<T: Serialize>(value: &T) -> Result<Self, AppError> {
        Ok(Self {
            bytes: serde_json::to_vec(value)?,
            work: None,
        })
    }

    /// Notes that the response covers `tokens` tokens in `inputs` inputs.
    pub fn with_work(self, tokens: usize, inputs: usize) -> Self {
        let model = self.work.and_then(|work| work.model);
        Self {
            work: Some(WorkDone {
                tokens,
                inputs,
                model,
            }),
            ..self
        }
    }

    /// Notes the model or store that answered, for the metrics' `model` label and the log.
    pub fn answered_by(mut self, model: &str) -> Self {
        self.work.get_or_insert_with(WorkDone::default).model = Some(model.to_owned());
        self
    }
}

impl From<Vec<u8>> for JsonBytes {
    /// Bytes that already are a JSON document.
    fn from(bytes: Vec<u8>) -> Self {
        Self { bytes, work: None }
    }
}

impl IntoResponse for JsonBytes {
    fn into_response(self) -> Response {
        let mut response = self.bytes.into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if let Some(work) = self.work {
            response.extensions_mut().insert(work);
        }
        response
    }
}
