//! word2vec routes over HTTP, on a planted store and on gensim's reference answers.

use serde_json::{Value, json};

use crate::common::shared_fixture;
use crate::helpers::{PLANTED, fasttext_fixture, floats, spawn_app, spawn_app_configured};

/// The words of a reference answer's `[word, score]` pairs.
pub fn neighbour_words(result: &Value) -> Vec<&str> {
    result
        .as_array()
        .expect("result")
        .iter()
        .map(|pair| pair[0].as_str().expect("word"))
        .collect()
}

/// The words of a `/similar` reply, in order.
pub fn words(reply: &Value) -> Vec<String> {
    reply["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|item| item["word"].as_str().expect("word").to_owned())
        .collect()
}

#[tokio::test]
async fn neighbours_of_a_word_are_its_group_and_never_itself() {
    let app = spawn_app().await;
    let reply = app.get("/similar?word=python&topn=2").await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["model"], "planted");
    assert_eq!(words(&reply.body), ["java", "rust"]);
    let scores: Vec<f64> = reply.body["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|i| i["score"].as_f64().expect("score"))
        .collect();
    assert!(scores[0] >= scores[1] && scores[0] <= 1.0);
    assert_eq!(reply.body["data"][1]["index"], 1);
}

#[tokio::test]
async fn analogies_take_repeated_or_comma_separated_words() {
    let app = spawn_app().await;
    let repeated = app
        .get("/similar?positive=python&positive=apple&negative=java&topn=6")
        .await;
    let commas = app
        .get("/similar?positive=python,apple&negative=java&topn=6")
        .await;
    assert_eq!(repeated.status, 200, "{}", repeated.body);
    assert_eq!(repeated.body, commas.body);
    let returned = words(&repeated.body);
    assert_eq!(
        returned.len(),
        4,
        "six words minus the three inputs, capped by the store: {returned:?}"
    );
    assert!(
        !returned
            .iter()
            .any(|w| ["python", "apple", "java"].contains(&w.as_str()))
    );
    let post = app
        .post(
            "/similar",
            &json!({"positive": ["python", "apple"], "negative": "java", "topn": 6}),
        )
        .await;
    assert_eq!(post.body, repeated.body);
}

#[tokio::test]
async fn a_raw_vector_query_excludes_nothing() {
    let app = spawn_app().await;
    let reply = app
        .post("/similar", &json!({"vector": PLANTED[3].1, "topn": 1}))
        .await;
    assert_eq!(words(&reply.body), ["apple"]);
    let reply = app.post("/similar", &json!({"vector": [1.0, 2.0]})).await;
    reply.assert_invalid("vector");
    let reply = app
        .post("/similar", &json!({"vector": [1.0, 2.0, 3.0, 1e39]}))
        .await;
    reply.assert_invalid("vector[3]");
    let reply = app
        .post(
            "/similar",
            &json!({"vector": [1.0, 2.0, 3.0, 4.0], "positive": "python"}),
        )
        .await;
    reply.assert_error(422, "validation_error");
}

#[tokio::test]
async fn similarity_vector_and_doesnt_match() {
    let app = spawn_app().await;
    let reply = app.get("/similarity?word1=apple&word2=pear").await;
    let score = reply.body["data"][0]["score"].as_f64().expect("score");
    let (a, b) = (PLANTED[3].1, PLANTED[4].1);
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norm = |v: [f32; 4]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    assert!(
        (score - f64::from(dot / (norm(a) * norm(b)))).abs() < 1e-6,
        "{score}"
    );

    let reply = app.get("/vector?word=Python").await;
    assert_eq!(
        reply.body["data"][0]["embedding"],
        json!([-1.0, 0.5, 0.25, 3.0]),
        "raw and case-sensitive"
    );
    let reply = app.get("/vector?word=Python&norm=true").await;
    let unit: Vec<f64> = reply.body["data"][0]["embedding"]
        .as_array()
        .expect("v")
        .iter()
        .map(|v| v.as_f64().expect("n"))
        .collect();
    assert!((unit.iter().map(|v| v * v).sum::<f64>() - 1.0).abs() < 1e-6);

    let reply = app.get("/doesnt_match?words=python,java,rust,apple").await;
    assert_eq!(reply.body["data"][0]["word"], "apple");
}

#[tokio::test]
async fn errors_are_json_with_the_right_status() {
    let app = spawn_app_configured(|s| s.max_topn = 5).await;
    let reply = app.get("/similar?word=cobol").await;
    assert_eq!(
        reply.assert_error(404, "unknown_word").as_deref(),
        Some("word")
    );
    assert!(
        reply.body["error"]["message"]
            .as_str()
            .expect("message")
            .contains("cobol")
    );
    for (query, param) in [
        ("word=python&topn=0", "topn"),
        ("word=python&topn=6", "topn"),
        ("word=python&topn=x", "topn"),
        ("", "positive"),
        ("word=python&top_n=3", "top_n"),
        ("word=python&topn=1&topn=2", "topn"),
    ] {
        let reply = app.get(&format!("/similar?{query}")).await;
        assert_eq!(
            reply.assert_error(422, "validation_error").as_deref(),
            Some(param),
            "{query}"
        );
    }
    app.get("/similarity?word1=python")
        .await
        .assert_error(422, "validation_error");
    app.get("/vector?word=python&norm=maybe")
        .await
        .assert_error(422, "validation_error");
}

#[tokio::test]
async fn without_a_store_the_routes_say_so() {
    let app = spawn_app_configured(|s| s.word2vec = "".into()).await;
    app.get("/similar?word=python")
        .await
        .assert_error(503, "not_configured");
    let info = app.get("/info").await;
    assert_eq!(info.body["word2vec"], Value::Null);
}

/// The shared lee-cbow50 store and gensim's answers on it; `None` when the fixture is absent.
fn lee_cbow50() -> Option<(std::path::PathBuf, Value)> {
    let store = shared_fixture("word2vec/lee-cbow50.bin")?;
    let reference = read_json(&store.with_file_name("lee-cbow50.reference.json"));
    Some((store, reference))
}

/// A committed or shared JSON reference file, parsed.
pub fn read_json(path: &std::path::Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[tokio::test]
async fn gensim_reference_answers_over_http() {
    let Some((store, reference)) = lee_cbow50() else {
        return;
    };
    let app = spawn_app_configured(|s| s.word2vec = store.clone()).await;
    let info = app.get("/info").await;
    assert_eq!(info.body["word2vec"]["words"], reference["vocab_size"]);
    assert_eq!(info.body["word2vec"]["format"], "binary");
    for (word, expected) in reference["most_similar"].as_object().expect("probes") {
        let expected = expected.as_array().expect("list");
        let reply = app
            .get(&format!("/similar?word={word}&topn={}", expected.len()))
            .await;
        assert_neighbours(&reply.body, expected, 1e-5, word);
    }
    let analogy = &reference["analogy"];
    let reply = app
        .post(
            "/similar",
            &json!({"positive": analogy["positive"], "negative": analogy["negative"], "topn": 5}),
        )
        .await;
    assert_eq!(words(&reply.body), neighbour_words(&analogy["result"]));
    let (word, vector) = reference["vector"]
        .as_object()
        .expect("vector")
        .iter()
        .next()
        .expect("one");
    let reply = app.get(&format!("/vector?word={word}")).await;
    let got = floats(&reply.body["data"][0]["embedding"]);
    assert_eq!(got, floats(vector), "the raw vector, bit for bit");
}

#[tokio::test]
async fn a_gensim_native_model_answers_as_gensim_over_http() {
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/gensim-native");
    let reference = read_json(format!("{fixtures}/gensim-native.gensim.json").as_ref());
    let app = spawn_app_configured(|s| s.word2vec = format!("{fixtures}/sg.model").into()).await;
    let expected = &reference["files"]["sg.model"]["most_similar"]["police"];
    let reply = app.get("/similar?word=police&topn=10").await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_neighbours(
        &reply.body,
        expected.as_array().expect("list"),
        1e-5,
        "police",
    );
}

/// The reply's `data` is gensim's `[word, score]` list: same length, scores within `tolerance`,
/// the same word at every position unless its score ties (within f32 rounding) with gensim's
/// there: a word of the list whose gensim score ties, or one just past gensim's cut-off whose
/// score ties (scores are cosines computed from the raw rows and their norms, within 1e-6 of
/// gensim's dot products of unit rows, so near-ties may order differently).
pub fn assert_neighbours(body: &Value, expected: &[Value], tolerance: f64, what: &str) {
    let data = body["data"].as_array().expect("data");
    assert_eq!(data.len(), expected.len(), "{what}: {body}");
    for (got, want) in data.iter().zip(expected) {
        let want_score = want[1].as_f64().expect("score");
        let delta = (got["score"].as_f64().expect("score") - want_score).abs();
        assert!(delta < tolerance, "{what}: {got} vs {want}");
        if got["word"] != want[0] {
            let listed = expected.iter().find(|other| other[0] == got["word"]);
            let tied = match listed {
                Some(other) => (other[1].as_f64().expect("score") - want_score).abs() <= 1e-6,
                None => delta <= 1e-6,
            };
            assert!(tied, "{what}: {got} in the place of gensim's {want}");
        }
    }
}

#[tokio::test]
async fn a_trained_store_answers_as_gensim_word_for_word_over_http() {
    // Its reference lists have no score gap under 1e-5 (tests/fixtures/make_wiki_lee_sg_reference.py).
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/wiki-lee-sg");
    let reference = read_json(format!("{fixtures}/wiki-lee-sg32.gensim.json").as_ref());
    let app =
        spawn_app_configured(|s| s.word2vec = format!("{fixtures}/wiki-lee-sg32.bin").into()).await;
    for case in reference["most_similar"].as_array().expect("cases") {
        let mut body = json!({"positive": case["positive"], "negative": case["negative"], "topn": case["topn"]});
        if !case["restrict_vocab"].is_null() {
            body["restrict_vocab"] = case["restrict_vocab"].clone();
        }
        let reply = app.post("/similar", &body).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        let expected = case["result"].as_array().expect("list");
        assert_eq!(
            words(&reply.body),
            neighbour_words(&case["result"]),
            "{case}"
        );
        assert_neighbours(&reply.body, expected, 1e-6, &case.to_string());
    }
    for case in reference["similar_by_vector"].as_array().expect("cases") {
        let mut body = json!({"vector": case["vector"], "topn": case["topn"]});
        if !case["restrict_vocab"].is_null() {
            body["restrict_vocab"] = case["restrict_vocab"].clone();
        }
        let reply = app.post("/similar", &body).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(words(&reply.body), neighbour_words(&case["result"]));
    }
    for case in reference["doesnt_match"].as_array().expect("cases") {
        let words: Vec<&str> = case["words"]
            .as_array()
            .expect("words")
            .iter()
            .map(|w| w.as_str().expect("word"))
            .collect();
        let reply = app
            .get(&format!("/doesnt_match?words={}", words.join(",")))
            .await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(
            reply.body["data"][0]["word"], case["result"],
            "{}",
            reply.body
        );
    }
}

/// gensim's answers on the committed fastText model (tests/fixtures/make_fasttext_reference.py).
fn fasttext_reference() -> Value {
    let path = fasttext_fixture("reference.json");
    let all: Value =
        serde_json::from_slice(&std::fs::read(path).expect("reference")).expect("json");
    all["models"][0].clone()
}

#[tokio::test]
async fn a_fasttext_store_answers_words_outside_its_vocabulary_on_every_route() {
    let app = spawn_app_configured(|s| s.word2vec = fasttext_fixture("lee-ft12.bin")).await;
    let reference = fasttext_reference();
    let probe = reference["vectors"]
        .as_array()
        .expect("vectors")
        .iter()
        .find(|v| v["word"] == "goverment")
        .expect("probe");
    let reply = app.get("/vector?word=goverment").await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let item = &reply.body["data"][0];
    assert_eq!(item["in_vocabulary"], false);
    for (got, want) in floats(&item["embedding"])
        .iter()
        .zip(floats(&probe["vector"]))
    {
        assert!((got - want).abs() <= 1e-6, "{got} vs gensim {want}");
    }
    let unit = app.get("/vector?word=goverment&norm=true").await;
    for (got, want) in floats(&unit.body["data"][0]["embedding"])
        .iter()
        .zip(floats(&probe["unit"]))
    {
        assert!((got - want).abs() <= 1e-6, "{got} vs gensim {want}");
    }
    assert_eq!(
        app.get("/vector?word=police").await.body["data"][0]["in_vocabulary"],
        true
    );
    let case = &reference["most_similar"][1];
    assert_eq!(case["positive"], json!(["goverment"]));
    let reply = app.get("/similar?word=goverment&topn=10").await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(words(&reply.body), neighbour_words(&case["result"]));
    let pair = &reference["similarity"][2];
    assert_eq!(pair[0], "colour");
    let reply = app.get("/similarity?word1=colour&word2=colr").await;
    let delta = (reply.body["data"][0]["score"].as_f64().expect("score")
        - pair[2].as_f64().expect("score"))
    .abs();
    assert!(delta < 1e-5, "{}", reply.body);
    let odd = &reference["doesnt_match"][1];
    let query = strings_joined(&odd["words"]);
    let reply = app.get(&format!("/doesnt_match?words={query}")).await;
    assert_eq!(reply.body["data"][0]["word"], odd["result"]);
}

fn strings_joined(list: &Value) -> String {
    let words: Vec<&str> = list
        .as_array()
        .expect("list")
        .iter()
        .map(|w| w.as_str().expect("word"))
        .collect();
    words.join(",")
}

#[tokio::test]
async fn vectors_of_many_words_come_in_request_order_as_vector_gives_them() {
    let app = spawn_app_configured(|s| s.max_query_words = 3).await;
    let reply = app
        .post("/vectors", &json!({"words": ["pear", "Python", "pear"]}))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let data = reply.body["data"].as_array().expect("data");
    let words: Vec<&str> = data
        .iter()
        .map(|d| d["word"].as_str().expect("w"))
        .collect();
    assert_eq!(words, ["pear", "Python", "pear"], "order and repeats kept");
    for (index, item) in data.iter().enumerate() {
        assert_eq!(item["index"], index);
        let single = app
            .get(&format!(
                "/vector?word={}",
                item["word"].as_str().expect("w")
            ))
            .await;
        assert_eq!(item["embedding"], single.body["data"][0]["embedding"]);
    }
    assert_eq!(data[1]["embedding"], json!([-1.0, 0.5, 0.25, 3.0]));

    let unit = app
        .post("/vectors", &json!({"words": ["Python"], "norm": true}))
        .await;
    let norm: f32 = floats(&unit.body["data"][0]["embedding"])
        .iter()
        .map(|v| v * v)
        .sum();
    assert!((norm - 1.0).abs() < 1e-6, "{norm}");
    assert_eq!(unit.body["data"][0]["norm"], true);

    let unknown = app
        .post("/vectors", &json!({"words": ["python", "cobol"]}))
        .await;
    assert_eq!(
        unknown.assert_error(404, "unknown_word").as_deref(),
        Some("word")
    );
    assert!(
        unknown.body["error"]["message"]
            .as_str()
            .expect("m")
            .contains("cobol")
    );
    for body in [
        json!({"words": []}),
        json!({"words": ["python", "java", "rust", "apple"]}),
    ] {
        app.post("/vectors", &body).await.assert_invalid("words");
    }
    app.post("/vectors", &json!({"words": "python"}))
        .await
        .assert_error(422, "validation_error");
    app.post("/vectors", &json!({"words": ["python"], "extra": 1}))
        .await
        .assert_error(422, "validation_error");

    let storeless = spawn_app_configured(|s| s.word2vec = "".into()).await;
    storeless
        .post("/vectors", &json!({"words": ["python"]}))
        .await
        .assert_error(503, "not_configured");
}

#[tokio::test]
async fn an_index_file_answers_approximately_or_exactly_as_gensim() {
    let Some((store, reference)) = lee_cbow50() else {
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let index = dir.path().join("lee.index");
    let loaded =
        embedserve::word2vec::WordVectors::load(&store, &Default::default()).expect("store");
    embedserve::word2vec::index::write_index(&loaded, &index, &Default::default()).expect("index");
    let app = spawn_app_configured(|s| s.word2vec = index.clone()).await;
    let info = app.get("/info").await;
    assert_eq!(info.body["word2vec"]["format"], "index");
    assert_eq!(info.body["word2vec"]["search"], "approximate");
    assert_eq!(info.body["word2vec"]["index"]["dtype"], "f16");
    assert_eq!(info.body["word2vec"]["index"]["connectivity"], 16);
    for (word, expected) in reference["most_similar"].as_object().expect("probes") {
        let topn = expected.as_array().expect("list").len();
        let exact = app
            .get(&format!("/similar?word={word}&topn={topn}&exact=true"))
            .await;
        assert_eq!(exact.status, 200, "{}", exact.body);
        let scores = exact.body["data"].as_array().expect("data");
        assert_eq!(scores.len(), topn);
        for (got, want) in scores.iter().zip(expected.as_array().expect("list")) {
            let delta =
                (got["score"].as_f64().expect("score") - want[1].as_f64().expect("score")).abs();
            assert!(delta < 1e-5, "{word}: {got} vs {want}");
        }
        let approximate = app.get(&format!("/similar?word={word}&topn={topn}")).await;
        let found = words(&approximate.body);
        assert_eq!(found.len(), topn);
        assert!(!found.contains(word));
    }
    let analogy = &reference["analogy"];
    let body = json!({"positive": analogy["positive"], "negative": analogy["negative"], "topn": 5, "exact": true});
    let reply = app.post("/similar", &body).await;
    assert_eq!(words(&reply.body), neighbour_words(&analogy["result"]));
    let (word, vector) = reference["vector"]
        .as_object()
        .expect("vector")
        .iter()
        .next()
        .expect("one");
    let reply = app.get(&format!("/vector?word={word}")).await;
    assert_eq!(floats(&reply.body["data"][0]["embedding"]), floats(vector));
    let bad = app.get("/similar?word=the&exact=maybe").await;
    assert_eq!(
        (bad.status, bad.body["error"]["param"].as_str()),
        (422, Some("exact"))
    );
}
