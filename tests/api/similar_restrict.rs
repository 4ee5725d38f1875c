//! `restrict_vocab` on `/similar` over HTTP, GET and POST, a word and an analogy: the answer is
//! gensim's `most_similar(..., restrict_vocab=N)` word for word (the committed wiki-lee-sg
//! reference, tests/fixtures/make_wiki_lee_sg_reference.py), and differs from the unrestricted
//! answer, so a server that ignored the setting would fail.

use serde_json::{Value, json};

use crate::helpers::{TestApp, spawn_app_configured};
use crate::similar::{assert_neighbours, neighbour_words, read_json, words};

/// The words of a reference list (`positive` or `negative`), comma-joined for a query string.
fn joined(list: &Value) -> String {
    let words: Vec<&str> = list
        .as_array()
        .expect("a word list")
        .iter()
        .map(|word| word.as_str().expect("a word"))
        .collect();
    words.join(",")
}

/// GETs `/similar` for `case`, with its `restrict_vocab` unless `unrestricted`: a lone positive
/// word as `word=`, anything else as `positive=`/`negative=`.
async fn get_similar(app: &TestApp, case: &Value, unrestricted: bool) -> Value {
    let (positive, negative) = (&case["positive"], &case["negative"]);
    let lone_word = positive.as_array().is_some_and(|p| p.len() == 1)
        && negative.as_array().is_some_and(Vec::is_empty);
    let mut path = if lone_word {
        format!("/similar?word={}", joined(positive))
    } else {
        format!(
            "/similar?positive={}&negative={}",
            joined(positive),
            joined(negative)
        )
    };
    path.push_str(&format!("&topn={}", case["topn"]));
    if !unrestricted {
        path.push_str(&format!("&restrict_vocab={}", case["restrict_vocab"]));
    }
    let reply = app.get(&path).await;
    assert_eq!(reply.status, 200, "{path}: {}", reply.body);
    reply.body
}

#[tokio::test]
async fn restrict_vocab_answers_as_gensim_over_get_and_post() {
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/wiki-lee-sg");
    let reference = read_json(format!("{fixtures}/wiki-lee-sg32.gensim.json").as_ref());
    let app =
        spawn_app_configured(|s| s.word2vec = format!("{fixtures}/wiki-lee-sg32.bin").into()).await;
    let cases: Vec<&Value> = reference["most_similar"]
        .as_array()
        .expect("cases")
        .iter()
        .filter(|case| !case["restrict_vocab"].is_null())
        .collect();
    let is_analogy = |case: &&Value| case["negative"].as_array().is_some_and(|n| !n.is_empty());
    assert!(
        cases.iter().any(is_analogy) && !cases.iter().all(is_analogy),
        "the reference restricts a word and an analogy"
    );
    for case in cases {
        let expected = case["result"].as_array().expect("list");
        let what = case.to_string();
        let body = json!({
            "positive": case["positive"],
            "negative": case["negative"],
            "topn": case["topn"],
            "restrict_vocab": case["restrict_vocab"],
        });
        let post = app.post("/similar", &body).await;
        assert_eq!(post.status, 200, "{what}: {}", post.body);
        let get = get_similar(&app, case, false).await;
        for reply in [&post.body, &get] {
            assert_eq!(words(reply), neighbour_words(&case["result"]), "{what}");
            assert_neighbours(reply, expected, 1e-6, &what);
        }
        let unrestricted = get_similar(&app, case, true).await;
        assert_ne!(
            words(&unrestricted),
            words(&get),
            "{what}: the restriction must change this answer"
        );
    }
}
