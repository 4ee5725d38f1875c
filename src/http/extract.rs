//! Request extractors whose rejections are [`AppError`]s, so malformed bodies and query strings
//! get the same JSON error body as every other failure.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;

use crate::error::AppError;
use crate::state::AppState;

/// A JSON request body.
///
/// Accepts `application/json` (and `+json` types); a missing content type and curl's default
/// `application/x-www-form-urlencoded` are read as JSON too, so `curl -d '{...}'` works.
/// Syntax errors are 400, type errors 422 naming the field, other media types 415.
#[derive(Debug, Clone)]
pub struct Json<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for Json<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        check_content_type(req.headers().get(header::CONTENT_TYPE))?;
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                AppError::PayloadTooLarge(state.settings().body_limit_bytes)
            } else {
                AppError::Malformed(format!("cannot read the request body: {rejection}"))
            }
        })?;
        parse_json(&bytes).map(Json)
    }
}

fn check_content_type(value: Option<&header::HeaderValue>) -> Result<(), AppError> {
    let Some(value) = value else { return Ok(()) };
    let media = value
        .to_str()
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let accepted = media == "application/json"
        || media.ends_with("+json")
        || media == "application/x-www-form-urlencoded";
    if accepted {
        Ok(())
    } else {
        Err(AppError::UnsupportedMediaType(format!(
            "expected a JSON body (Content-Type: application/json), got {media:?}"
        )))
    }
}

/// Parses a JSON body, telling syntax errors (400) from values of the wrong shape (422).
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => {
                AppError::validation(field_name(&path), inner.to_string())
            }
            _ => AppError::Malformed(format!("the body is not valid JSON: {inner}")),
        }
    })?;
    deserializer
        .end()
        .map_err(|e| AppError::Malformed(format!("the body is not valid JSON: {e}")))?;
    Ok(value)
}

/// A query string deserialized into `T`; values of the wrong type are 422 naming the parameter.
#[derive(Debug, Clone)]
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        let deserializer =
            serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(deserializer)
            .map(Query)
            .map_err(|e| {
                AppError::validation(
                    field_name(&e.path().to_string()),
                    e.into_inner().to_string(),
                )
            })
    }
}

/// Deserializes an optional field that, when present, must hold a value: `null` is refused as a
/// wrong type (422 naming the field) instead of being read as absent. Use with
/// `#[serde(default, deserialize_with = "present")]`; a missing field stays `None`.
pub fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// serde_path_to_error prints the root as `.`; a person reads "body".
fn field_name(path: &str) -> String {
    if path == "." {
        "body".to_owned()
    } else {
        path.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Body {
        inputs: Vec<String>,
    }

    #[test]
    fn syntax_is_400_and_shape_is_422_with_the_field() {
        assert!(matches!(
            parse_json::<Body>(b"{\"inputs\": ["),
            Err(AppError::Malformed(_))
        ));
        assert!(matches!(
            parse_json::<Body>(br#"{"inputs": []} trailing"#),
            Err(AppError::Malformed(_))
        ));
        match parse_json::<Body>(br#"{"inputs": ["a", 3]}"#) {
            Err(AppError::Validation { param, .. }) => assert_eq!(param, "inputs[1]"),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn media_types() {
        let json = header::HeaderValue::from_static("application/json; charset=utf-8");
        assert!(check_content_type(Some(&json)).is_ok());
        assert!(check_content_type(None).is_ok());
        let text = header::HeaderValue::from_static("text/plain");
        assert!(matches!(
            check_content_type(Some(&text)),
            Err(AppError::UnsupportedMediaType(_))
        ));
    }
}
