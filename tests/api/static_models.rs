//! Static-embedding models over HTTP: every route answers with model2vec 0.10.0's own values
//! (`tests/fixtures/model2vec/*.json`, made by `tests/fixtures/make_model2vec_reference.py`) for
//! the real fixture models, and the packed sign-bit encodings match `numpy.packbits`.

use base64::Engine;
use serde_json::{Value, json};

use crate::common::shared_fixture;
use crate::helpers::{TestApp, floats, spawn_app_configured};

/// The five fixture models of `../shared/fixtures/model2vec/`.
const MODELS: &[&str] = &[
    "test-model-float32",
    "test-model-float16",
    "test-model-int8",
    "test-model-vocab-quantized",
    "test-model-sentence-transformers",
];

/// Starts a server on fixture model `name` with its reference answers; `None` without fixtures.
async fn spawn_static_app(name: &str) -> Option<(TestApp, Value)> {
    let dir = shared_fixture(&format!("model2vec/{name}"))?;
    let reference_path = format!(
        "{}/tests/fixtures/model2vec/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let reference: Value =
        serde_json::from_str(&std::fs::read_to_string(reference_path).expect("reference"))
            .expect("reference JSON");
    let app = spawn_app_configured(|settings| {
        settings.model_dir = dir;
        settings.max_batch_size = 64;
    })
    .await;
    Some((app, reference))
}

/// The reference's values (f64 holding exact float32 or float16 values) as f32.
fn reference_floats(value: &Value) -> Vec<f32> {
    value
        .as_array()
        .expect("array")
        .iter()
        .map(|v| v.as_f64().expect("number") as f32)
        .collect()
}

fn texts(reference: &Value) -> Vec<&str> {
    reference["cases"]
        .as_array()
        .expect("cases")
        .iter()
        .map(|case| case["text"].as_str().expect("text"))
        .collect()
}

#[tokio::test]
async fn openai_vectors_are_model2vecs_to_the_last_bit() {
    for name in MODELS {
        let Some((app, reference)) = spawn_static_app(name).await else {
            return;
        };
        let texts = texts(&reference);
        let reply = app
            .post("/v1/embeddings", &json!({"input": texts, "model": name}))
            .await;
        assert_eq!(reply.status, 200, "{name}: {}", reply.body);
        let data = reply.body["data"].as_array().expect("data");
        assert_eq!(data.len(), texts.len(), "{name}");
        for (item, case) in data
            .iter()
            .zip(reference["cases"].as_array().expect("cases"))
        {
            assert_eq!(
                floats(&item["embedding"]),
                reference_floats(&case["vector"]),
                "{name}: {:?}",
                case["text"]
            );
        }
    }
}

#[tokio::test]
async fn embed_and_tokenize_follow_the_librarys_rules() {
    for name in ["test-model-vocab-quantized", "test-model-int8"] {
        let Some((app, reference)) = spawn_static_app(name).await else {
            return;
        };
        let info = app.get("/info").await;
        assert_eq!(info.body["model"]["kind"], "model2vec", "{name}");
        assert!(info.body["model"]["static_embedding"]["normalize"].is_boolean());
        for case in reference["cases"].as_array().expect("cases") {
            let text = case["text"].as_str().expect("text");
            let tokens = app.post("/tokenize", &json!({"inputs": text})).await;
            assert_eq!(tokens.status, 200, "{name} {text:?}: {}", tokens.body);
            assert_eq!(
                tokens.body["data"][0]["ids"], case["ids"],
                "{name} {text:?}"
            );
            let pooled = app
                .post("/embed", &json!({"inputs": text, "pooling": "mean"}))
                .await;
            assert_eq!(pooled.status, 200, "{name} {text:?}: {}", pooled.body);
            assert_eq!(
                floats(&pooled.body["data"][0]["embedding"]),
                reference_floats(&case["vector"]),
                "{name} {text:?}"
            );
            let Some(rows) = case["rows"].as_array() else {
                continue;
            };
            let served = app.post("/embed", &json!({"inputs": text})).await;
            assert_eq!(served.status, 200, "{name} {text:?}: {}", served.body);
            let served_rows = served.body["data"][0]["embedding"]
                .as_array()
                .expect("rows");
            assert_eq!(served_rows.len(), rows.len(), "{name} {text:?}");
            for (got, want) in served_rows.iter().zip(rows) {
                assert_eq!(floats(got), reference_floats(want), "{name} {text:?}");
            }
        }
    }
}

#[tokio::test]
async fn a_text_with_no_known_token_means_zero_but_has_no_maximum() {
    let Some((app, _)) = spawn_static_app("test-model-int8").await else {
        return;
    };
    let mean = app
        .post("/embed", &json!({"inputs": "🎉🎉🎉", "pooling": "mean"}))
        .await;
    assert_eq!(mean.status, 200, "{}", mean.body);
    assert_eq!(mean.body["data"][0]["ids"], json!([]));
    assert_eq!(floats(&mean.body["data"][0]["embedding"]), [0.0f32, 0.0]);
    let max = app
        .post(
            "/embed",
            &json!({"inputs": ["a", "🎉🎉🎉"], "pooling": "max"}),
        )
        .await;
    max.assert_invalid("inputs[1]");
}

/// `numpy.packbits(vector > 0)`, written independently of the server's packing.
fn packbits(vector: &[f32]) -> Vec<u8> {
    vector
        .chunks(8)
        .map(|chunk| {
            chunk
                .iter()
                .enumerate()
                .filter(|(_, value)| **value > 0.0)
                .map(|(bit, _)| 0x80u8 >> bit)
                .sum()
        })
        .collect()
}

#[tokio::test]
async fn binary_and_ubinary_pack_the_sign_bits() {
    let Some((app, reference)) = spawn_static_app("test-model-vocab-quantized").await else {
        return;
    };
    let case = &reference["cases"][0];
    let text = case["text"].as_str().expect("text");
    let vector = reference_floats(&case["vector"]);
    let decode = |reply: &Value| {
        base64::engine::general_purpose::STANDARD
            .decode(reply["data"][0]["embedding"].as_str().expect("base64 text"))
            .expect("base64")
    };
    let ubinary = app
        .post(
            "/v1/embeddings",
            &json!({"input": text, "encoding_format": "ubinary"}),
        )
        .await;
    assert_eq!(ubinary.status, 200, "{}", ubinary.body);
    let expected = packbits(&vector);
    assert_eq!(expected.len(), vector.len().div_ceil(8));
    assert_eq!(decode(&ubinary.body), expected);
    let binary = app
        .post(
            "/embed",
            &json!({"inputs": text, "pooling": "mean", "encoding_format": "binary"}),
        )
        .await;
    assert_eq!(binary.status, 200, "{}", binary.body);
    let signed: Vec<u8> = expected
        .iter()
        .map(|&byte| (i16::from(byte) - 128) as i8 as u8)
        .collect();
    assert_eq!(decode(&binary.body), signed);
}

/// The model2vec-rs project's own expected outputs (`tests/fixtures/embeddings_*.json` at commit
/// c75c126, MIT), a second witness made by an earlier model2vec release: "hello world" and 1,000
/// times "hello" on the float32 model, and 1,000 times "hello" on the vocabulary-quantized one.
const SHORT_FLOAT32: [f64; 2] = [-0.3934547007083893, -0.9193440079689026];
const LONG_FLOAT32: [f64; 2] = [-0.7980846762657166, -0.6025453805923462];
#[rustfmt::skip]
const LONG_VOCAB_QUANTIZED: [f64; 64] = [
    -0.363402567303566, -0.17280622671667234, 0.39940570500107386, -0.16813011070789555,
    -0.15618451933846883, -0.14994650725286524, 0.006071081245258223, -0.16688048919255372,
    0.22185219763399205, -0.02887293996697886, -0.17287425174176316, -0.01464316366136059,
    0.16364637740934518, 0.15876414737891392, 0.06036445094799073, 0.15604592511625437,
    -0.0671308839546444, -0.016413190151500695, 0.016156947144592284, -0.04046410877612431,
    0.08342219180115457, -0.06072982382315607, -0.15155935894530448, -0.27756653365043565,
    0.04183386122272067, -0.02478048814648766, 0.048693007647196467, 0.15564136567656622,
    0.03729875053535759, -0.06892603188806953, 0.08513432033392887, 0.0036654278831274112,
    -0.017677908666363845, 0.062035159999304555, -0.1394435606629564, 0.05264278960819571,
    -0.10000422994390393, 0.162456462739632, 0.0026303158188036926, -0.010224468015697916,
    -0.12629957405039433, -0.08506841545219175, -0.06720500777509077, -0.04443293593977252,
    0.01816271214883152, 0.11269895366859049, 0.15572718186207016, -0.12838458617894438,
    0.020126459971623472, -0.16689367919078762, 0.1038076137507656, 0.005876202291780198,
    0.11467950137199819, -0.06360069640738063, 0.12898717602987858, 0.06665970239323335,
    0.1263998072107107, 0.054322006298590964, 0.02275680905863399, -0.09242075684142392,
    0.0003214892909238989, 0.06269664923701938, 0.007532826486481935, 0.006629162182434642,
];

#[tokio::test]
async fn model2vec_rs_expected_outputs_agree() {
    let long_text = vec!["hello"; 1000].join(" ");
    let cases: [(&str, &str, &[f64], f64); 3] = [
        ("test-model-float32", "hello world", &SHORT_FLOAT32, 0.0),
        ("test-model-float32", &long_text, &LONG_FLOAT32, 0.0),
        // That release returned float64 for this model (its weights are float64); 0.10.0 rounds
        // to float32, which lands within one float32 step of it.
        (
            "test-model-vocab-quantized",
            &long_text,
            &LONG_VOCAB_QUANTIZED,
            3e-8,
        ),
    ];
    for (name, text, expected, tolerance) in cases {
        let Some((app, _)) = spawn_static_app(name).await else {
            return;
        };
        let reply = app.post("/v1/embeddings", &json!({"input": text})).await;
        assert_eq!(reply.status, 200, "{name}: {}", reply.body);
        let served = floats(&reply.body["data"][0]["embedding"]);
        assert_eq!(served.len(), expected.len(), "{name}");
        for (got, want) in served.iter().zip(expected) {
            let exact = f64::from(*got) == f64::from(*want as f32);
            assert!(
                exact || (f64::from(*got) - want).abs() <= tolerance,
                "{name} {:.20}: {got} vs {want}",
                &text[..text.len().min(20)]
            );
        }
    }
}
