//! Request extractors whose rejections are [`AppError`]s, so malformed bodies and query strings
//! get the same JSON error body as every other failure.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use serde::Deserialize;
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

/// Query-string parameters, allowing repeated keys (`positive=a&positive=b`).
pub struct QueryParams {
    values: BTreeMap<String, Vec<String>>,
}

impl QueryParams {
    /// Parses `query`, refusing parameters not in `known` so typos (`top_n`) are not ignored.
    pub fn parse(query: Option<&str>, known: &[&str]) -> Result<Self, AppError> {
        let mut values: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (key, value) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
            if !known.contains(&key.as_ref()) {
                return Err(AppError::validation(
                    key.as_ref(),
                    format!("unknown parameter {key:?}; expected one of {known:?}"),
                ));
            }
            values
                .entry(key.into_owned())
                .or_default()
                .push(value.into_owned());
        }
        Ok(Self { values })
    }

    /// Every word given for `key`, splitting comma lists and dropping empty items.
    pub fn words(&mut self, key: &str) -> Vec<String> {
        self.values
            .remove(key)
            .unwrap_or_default()
            .iter()
            .flat_map(|value| value.split(','))
            .map(str::trim)
            .filter(|word| !word.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// The single value of `key`.
    pub fn single(&mut self, key: &str) -> Result<Option<String>, AppError> {
        match self.values.remove(key).as_deref() {
            None => Ok(None),
            Some([value]) => Ok(Some(value.clone())),
            Some(_) => Err(AppError::validation(
                key,
                format!("{key} must be given once"),
            )),
        }
    }

    /// The single, non-empty value of `key`.
    pub fn required(&mut self, key: &str) -> Result<String, AppError> {
        self.single(key)?
            .filter(|value| !value.is_empty())
            .ok_or_else(|| AppError::validation(key, format!("{key} is required")))
    }

    /// The single value of `key` as a non-negative integer.
    pub fn number(&mut self, key: &str) -> Result<Option<usize>, AppError> {
        self.single(key)?
            .map(|value| {
                value.parse().map_err(|_| {
                    AppError::validation(
                        key,
                        format!("{key} must be a non-negative integer, got {value:?}"),
                    )
                })
            })
            .transpose()
    }

    /// The single value of `key` as a boolean (`true`/`1`/empty or `false`/`0`).
    pub fn flag(&mut self, key: &str) -> Result<bool, AppError> {
        match self.single(key)?.as_deref() {
            None | Some("false" | "0") => Ok(false),
            Some("true" | "1" | "") => Ok(true),
            Some(other) => Err(AppError::validation(
                key,
                format!("{key} must be true or false, got {other:?}"),
            )),
        }
    }
}

/// Deserializes an optional field that, when present, must hold a value: `null` is refused as a
/// wrong type (422 naming the field) instead of being read as absent. Use with
/// `#[serde(default, deserialize_with = "non_null")]`; a missing field stays `None`.
pub fn non_null<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    present(deserializer).map(Some)
}

/// Deserializes a field with a default that, when present, must hold a value: `null` is the same
/// 422 naming the field as on any other optional field. Use with
/// `#[serde(default, deserialize_with = "present")]`; a missing field takes its default.
///
/// Reading through `Option` first matters for enums: serde_json answers `null` where an enum is
/// expected with a syntax error ("expected value"), which would be a 400 "not valid JSON".
pub fn present<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer)?.ok_or_else(|| {
        serde::de::Error::invalid_type(
            serde::de::Unexpected::Other("null"),
            &"a value (leave the field out for its default)",
        )
    })
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
