//! `POST /embed`: exact rows, pooling, encodings and validation.

use safetensors::Dtype;
use serde_json::json;

use crate::common::{ModelSpec, qwen_value, stored, test_value};
use crate::helpers::{
    base64_floats, floats, spawn_app, spawn_app_configured, spawn_app_with, spawn_qwen_app,
};

fn expected_row(dtype: Dtype, id: usize, dim: usize) -> Vec<f32> {
    (0..dim)
        .map(|col| stored(dtype, test_value(id, col)))
        .collect()
}

fn bits(values: &[f32]) -> Vec<u32> {
    values.iter().map(|v| v.to_bits()).collect()
}

#[tokio::test]
async fn text_rows_are_the_stored_rows_bit_for_bit_in_every_dtype() {
    for dtype in [Dtype::BF16, Dtype::F16, Dtype::F32] {
        let spec = ModelSpec {
            dtype,
            ..ModelSpec::default()
        };
        let app = spawn_app_with(&spec, |_| {}).await;
        let reply = app
            .post("/embed", &json!({"inputs": "python machine dog"}))
            .await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(
            reply.body["dtype"],
            ["bf16", "f16", "f32"][[Dtype::BF16, Dtype::F16, Dtype::F32]
                .iter()
                .position(|d| *d == dtype)
                .expect("listed")]
        );
        assert_eq!(reply.body["dimension"], 8);
        let item = &reply.body["data"][0];
        assert_eq!(item["ids"], json!([13, 14, 12]));
        assert_eq!(item["tokens"], json!(["python", "machine", "dog"]));
        assert_eq!(item["shape"], json!([3, 8]));
        for (row, id) in item["embedding"]
            .as_array()
            .expect("rows")
            .iter()
            .zip([13, 14, 12])
        {
            assert_eq!(
                bits(&floats(row)),
                bits(&expected_row(dtype, id, 8)),
                "{dtype:?} row {id}"
            );
        }
    }
}

#[tokio::test]
async fn base64_is_little_endian_f32_row_major() {
    let app = spawn_app().await;
    let reply = app
        .post(
            "/embed",
            &json!({"input_ids": [[0, 23], [7]], "encoding_format": "base64"}),
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let first = base64_floats(&reply.body["data"][0]["embedding"]);
    assert_eq!(
        bits(&first),
        bits(
            &[
                expected_row(Dtype::BF16, 0, 8),
                expected_row(Dtype::BF16, 23, 8)
            ]
            .concat()
        )
    );
    assert_eq!(reply.body["data"][1]["shape"], json!([1, 8]));
    assert!(
        reply.body["data"][0].get("tokens").is_none(),
        "ids have no tokens"
    );
    assert_eq!(reply.body["usage"]["prompt_tokens"], 3);
}

#[tokio::test]
async fn pooling_and_normalisation() {
    let app = spawn_app().await;
    let rows = [
        expected_row(Dtype::BF16, 3, 8),
        expected_row(Dtype::BF16, 4, 8),
    ];
    let mean: Vec<f32> = (0..8)
        .map(|c| ((f64::from(rows[0][c]) + f64::from(rows[1][c])) / 2.0) as f32)
        .collect();
    let max: Vec<f32> = (0..8).map(|c| rows[0][c].max(rows[1][c])).collect();
    let reply = app
        .post(
            "/embed",
            &json!({"inputs": "hello world", "pooling": "mean"}),
        )
        .await;
    assert_eq!(reply.body["data"][0]["shape"], json!([8]));
    assert_eq!(
        bits(&floats(&reply.body["data"][0]["embedding"])),
        bits(&mean)
    );
    let reply = app
        .post(
            "/embed",
            &json!({"inputs": "hello world", "pooling": "max"}),
        )
        .await;
    assert_eq!(
        bits(&floats(&reply.body["data"][0]["embedding"])),
        bits(&max)
    );
    let reply = app
        .post(
            "/embed",
            &json!({"inputs": ["hello world"], "pooling": "max", "normalize": true}),
        )
        .await;
    let unit = floats(&reply.body["data"][0]["embedding"]);
    let norm: f32 = unit.iter().map(|v| v * v).sum::<f32>().sqrt();
    assert!((norm - 1.0).abs() < 1e-6, "norm {norm}");
    let reply = app
        .post("/embed", &json!({"input_ids": [3], "normalize": true}))
        .await;
    let row = floats(&reply.body["data"][0]["embedding"][0]);
    assert!((row.iter().map(|v| v * v).sum::<f32>().sqrt() - 1.0).abs() < 1e-6);
}

#[tokio::test]
async fn invalid_inputs_name_the_field_and_index() {
    let app = spawn_app_configured(|s| {
        s.max_batch_size = 2;
        s.max_tokens_per_input = 4;
        s.max_batch_tokens = 6;
    })
    .await;
    let cases = [
        (
            json!({"input_ids": [[1, 2], [3, 4, 5, 24]]}),
            "input_ids[1][3]",
        ),
        (json!({"input_ids": [7, 99]}), "input_ids[1]"),
        (json!({"input_ids": []}), "input_ids"),
        (json!({"input_ids": [[1], []]}), "input_ids[1]"),
        (json!({"inputs": []}), "inputs"),
        (json!({"inputs": ["a", "b", "c"]}), "inputs"),
        (
            json!({"inputs": ["dog", "the quick brown fox jumps"]}),
            "inputs[1]",
        ),
        (json!({"input_ids": [1, 2, 3, 4, 5]}), "input_ids"),
        (json!({"inputs": "dog", "input_ids": [1]}), "input_ids"),
        (json!({}), "inputs"),
        (json!({"inputs": "", "pooling": "mean"}), "inputs[0]"),
        (json!({"inputs": "dog", "pooling": "median"}), "pooling"),
        (
            json!({"inputs": "dog", "encoding_format": "hex"}),
            "encoding_format",
        ),
        (json!({"inputs": "dog", "colour": "blue"}), "colour"),
        (json!({"input_ids": [-1]}), "input_ids"),
        (json!({"inputs": "dog", "input_ids": null}), "input_ids"),
        (json!({"input_ids": [[1, 2, 3, 4], [5, 6, 7]]}), "input_ids"),
        (
            json!({"inputs": ["the quick brown fox", "the lazy dog"]}),
            "inputs",
        ),
    ];
    for (body, param) in cases {
        let reply = app.post("/embed", &body).await;
        assert_eq!(
            reply.assert_error(422, "validation_error").as_deref(),
            Some(param),
            "{body}"
        );
    }
    let reply = app
        .post(
            "/embed",
            &json!({"input_ids": [1, 2, 3, 4, 5], "truncate": true}),
        )
        .await;
    assert_eq!(reply.body["data"][0]["ids"], json!([1, 2, 3, 4]));
}

#[tokio::test]
async fn qwen_hi_nihao_is_a_five_row_tensor_of_the_stored_values() {
    let Some(app) = spawn_qwen_app("Qwen2.5-1.5B-Instruct", 32).await else {
        return;
    };
    let reply = app.post("/embed", &json!({"inputs": "Hi, 你好~"})).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["model"], "Qwen2.5-1.5B-Instruct");
    let item = &reply.body["data"][0];
    assert_eq!(item["shape"], json!([5, 32]));
    for (row, id) in item["embedding"]
        .as_array()
        .expect("rows")
        .iter()
        .zip([13048usize, 11, 220, 108386, 93])
    {
        let want: Vec<f32> = (0..32).map(|c| qwen_value(id, c, 32)).collect();
        assert_eq!(bits(&floats(row)), bits(&want), "row {id}");
    }
}
