//! `simple_preprocess` against gensim 4.4.0's own output on real and adversarial text.

use embedserve::word2vec::preprocess::simple_preprocess;

use crate::common::shared_fixture;

#[derive(serde::Deserialize)]
struct Golden {
    text: String,
    deacc: bool,
    tokens: Vec<String>,
}

#[test]
fn simple_preprocess_matches_gensim_goldens() {
    let Some(path) = shared_fixture("word2vec/simple_preprocess.golden.jsonl") else {
        return;
    };
    let text = std::fs::read_to_string(&path).expect("golden file is readable");
    let mut cases = 0;
    for (number, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let golden: Golden = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("{}: line {}: {e}", path.display(), number + 1));
        let tokens = simple_preprocess(&golden.text, golden.deacc);
        assert_eq!(
            tokens,
            golden.tokens,
            "line {} (deacc={}): {:?}",
            number + 1,
            golden.deacc,
            golden.text
        );
        cases += 1;
    }
    assert!(cases >= 100, "only {cases} golden cases");
}
