//! Times out-of-vocabulary lookups on a fastText model, for bench/fasttext/run.sh (built as the
//! `fasttext_bench` example: `cargo build --release --example fasttext_bench`).
//!
//! Usage: `fasttext_bench MODEL PROBES REPEATS`. Prints one JSON line like gensim_bench.py: the
//! per-call median and min, in microseconds, of a word's vector built from its n-grams
//! (`WordVectors::lookup`) over every probe word, and of `most_similar(word, topn=10)` on the
//! calling thread over the first REPEATS probes, and the top neighbour of the first probe.

use std::path::PathBuf;
use std::time::Instant;

use embedserve::word2vec::query::SearchOptions;
use embedserve::word2vec::store::{LoadOptions, WordVectors};

/// Median and min of `call` over `words`, in microseconds, as JSON.
fn timed<T>(words: &[&str], mut call: impl FnMut(&str) -> T) -> String {
    let mut times: Vec<f64> = words
        .iter()
        .map(|word| {
            let started = Instant::now();
            std::hint::black_box(call(word));
            started.elapsed().as_secs_f64() * 1e6
        })
        .collect();
    times.sort_by(f64::total_cmp);
    format!(
        "{{\"median_us\": {:.2}, \"min_us\": {:.2}}}",
        times[times.len() / 2],
        times[0]
    )
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [model, probes, repeats] = &args[..] else {
        return Err("usage: fasttext_bench MODEL PROBES REPEATS".into());
    };
    let repeats: usize = repeats.parse()?;
    let probes = std::fs::read_to_string(probes)?;
    let words: Vec<&str> = probes.split_whitespace().collect();
    let started = Instant::now();
    let store = WordVectors::load(&PathBuf::from(model), &LoadOptions::default())?;
    let load_ms = started.elapsed().as_secs_f64() * 1e3;
    let options = SearchOptions {
        topn: 10,
        restrict_vocab: None,
        parallel: false,
        deadline: None,
        exact: false,
    };
    let similar = |word: &str| store.most_similar(&[word], &[] as &[&str], &options);
    // Untimed warm-up, like the Python side.
    let top = similar(words[0])?;
    let vector = timed(&words, |word| store.lookup(word));
    let neighbours = timed(&words[..repeats.min(words.len())], similar);
    println!(
        "{{\"impl\": \"embedserve\", \"words\": {}, \"dim\": {}, \"load_ms\": {load_ms:.1}, \
         \"vector\": {vector}, \"similar\": {neighbours}, \"top\": \"{}\"}}",
        store.len(),
        store.dim(),
        top[0].word
    );
    Ok(())
}
