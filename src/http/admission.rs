//! Admission of the routes that do work: the body is read within `body_read_timeout_secs`, then
//! the request takes one of `max_concurrent_requests` permits (none left: 429), and keeps it
//! until its response body has been written or dropped.
//!
//! Holding the permit through the write is what bounds response memory: a client that sends
//! large requests and never reads the answers holds at most that many responses, each at most
//! `max_response_bytes`, and `response_write_timeout_secs` closes its connections in the end,
//! which drops the bodies and frees the permits.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body::{Body as HttpBody, Frame, SizeHint};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::AppError;
use crate::state::AppState;

/// The permits of `max_concurrent_requests`.
#[derive(Debug, Clone)]
pub struct Admission {
    permits: Arc<Semaphore>,
    capacity: usize,
}

impl Admission {
    /// Admission for at most `capacity` requests at once.
    pub fn new(capacity: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(capacity)),
            capacity,
        }
    }

    /// Requests admitted right now, their responses not yet written.
    pub fn in_flight(&self) -> usize {
        self.capacity - self.permits.available_permits()
    }

    /// A permit, or `Overloaded` when all are taken (no waiting: overload never queues).
    fn admit(&self) -> Result<OwnedSemaphorePermit, AppError> {
        self.permits
            .clone()
            .try_acquire_owned()
            .map_err(|_| AppError::Overloaded)
    }
}

/// Middleware: reads the body within its deadline, admits the request and ties the permit to the
/// response body.
pub(super) async fn admit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    match admitted(&state, request, next).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

async fn admitted(state: &AppState, request: Request, next: Next) -> Result<Response, AppError> {
    let settings = state.settings();
    let (parts, body) = request.into_parts();
    // The body is read before admission, so slow senders hold connections (bounded by
    // max_connections and this timeout), never the permits of the requests doing work.
    let read = axum::body::to_bytes(body, settings.body_limit_bytes);
    let bytes = match tokio::time::timeout(settings.body_read_timeout(), read).await {
        Err(_) => return Err(AppError::BodyTimeout(settings.body_read_timeout_secs)),
        Ok(Err(error)) => return Err(body_error(&error, settings.body_limit_bytes)),
        Ok(Ok(bytes)) => bytes,
    };
    let permit = state.admission().admit()?;
    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    let (parts, body) = response.into_parts();
    Ok(Response::from_parts(
        parts,
        Body::new(PermitBody::new(body, permit)),
    ))
}

/// A body that could not be read: too large (413) or broken off (400).
fn body_error(error: &axum::Error, limit: usize) -> AppError {
    let too_large = std::error::Error::source(error)
        .is_some_and(<dyn std::error::Error>::is::<http_body_util::LengthLimitError>);
    if too_large {
        AppError::PayloadTooLarge(limit)
    } else {
        AppError::Malformed(format!("cannot read the request body: {error}"))
    }
}

/// Largest piece of a response handed to the connection at once. hyper asks for the next piece
/// only when its write buffer has room, so a response is released to the socket at the client's
/// pace and the permit is held until the last piece has been taken.
const CHUNK_BYTES: usize = 64 * 1024;

/// A response body holding its request's admission permit until its last piece is taken or it
/// is dropped; a one-piece body is handed out in [`CHUNK_BYTES`] pieces (without copying).
struct PermitBody {
    inner: Body,
    pending: Bytes,
    permit: Option<OwnedSemaphorePermit>,
}

impl PermitBody {
    fn new(inner: Body, permit: OwnedSemaphorePermit) -> Self {
        Self {
            inner,
            pending: Bytes::new(),
            permit: Some(permit),
        }
    }
}

impl HttpBody for PermitBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = &mut *self;
        loop {
            if !this.pending.is_empty() {
                let size = this.pending.len().min(CHUNK_BYTES);
                return Poll::Ready(Some(Ok(Frame::data(this.pending.split_to(size)))));
            }
            match Pin::new(&mut this.inner).poll_frame(cx) {
                Poll::Ready(Some(Ok(frame))) => match frame.into_data() {
                    Ok(data) => this.pending = data,
                    Err(frame) => return Poll::Ready(Some(Ok(frame))),
                },
                Poll::Ready(None) => {
                    this.permit = None;
                    return Poll::Ready(None);
                }
                other => return other,
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.pending.is_empty() && self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        let inner = self.inner.size_hint();
        let pending = self.pending.len() as u64;
        match inner.exact() {
            Some(exact) => SizeHint::with_exact(exact + pending),
            None => {
                let mut hint = SizeHint::new();
                hint.set_lower(inner.lower() + pending);
                if let Some(upper) = inner.upper() {
                    hint.set_upper(upper + pending);
                }
                hint
            }
        }
    }
}
