//! Request ids: a client's `x-request-id` is kept only when it is a short token; anything else
//! is replaced by a fresh UUID, so a client cannot make the access log or the response carry
//! arbitrary bytes.

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue};

/// The header that carries the request id, in and out.
pub(super) const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// Longest client-chosen id kept: room for a UUID, a trace id or a composite key.
const MAX_LEN: usize = 128;

/// Middleware, before the id is set: removes the client's `x-request-id` unless it is a single
/// usable value, so that tower-http's `SetRequestIdLayer` adds a fresh one in its place.
pub(super) async fn drop_unusable(mut request: Request) -> Request {
    let headers = request.headers_mut();
    let mut values = headers.get_all(&REQUEST_ID).iter();
    let usable = matches!((values.next(), values.next()), (Some(value), None) if is_usable(value));
    if !usable {
        headers.remove(&REQUEST_ID);
    }
    request
}

/// At most [`MAX_LEN`] bytes of ASCII letters, digits and `-_.:`.
fn is_usable(value: &HeaderValue) -> bool {
    let bytes = value.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= MAX_LEN
        && bytes
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_tokens_are_usable_and_the_rest_is_not() {
        let usable = |text: &str| is_usable(&HeaderValue::from_str(text).expect("a header value"));
        assert!(usable("abc-123"));
        assert!(usable(
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        ));
        assert!(usable("svc.a:req_9"));
        assert!(usable(&"x".repeat(MAX_LEN)));
        assert!(!usable(&"x".repeat(MAX_LEN + 1)));
        assert!(!usable(""));
        for odd in ["a b", "a\"b", "a\tb", "a/b", "a=b", "{x}", "a,b"] {
            assert!(!usable(odd), "{odd:?}");
        }
        assert!(!is_usable(
            &HeaderValue::from_bytes(b"caf\xc3\xa9").expect("opaque bytes")
        ));
    }
}
