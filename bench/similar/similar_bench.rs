//! Times one `most_similar` query on a word2vec store, for bench/similar/run.sh (built as the
//! `similar_bench` example: `cargo build --release --example similar_bench`).
//!
//! Usage: `similar_bench STORE WORD REPEATS THREADS` (release build). THREADS = 1 scans on the
//! calling thread only; N > 1 runs the query inside an N-thread rayon pool. Prints one JSON line
//! with the load time, the median, min and max query time in milliseconds and the top
//! words (every timed answer is checked to equal them).

use std::path::PathBuf;
use std::time::Instant;

use embedserve::word2vec::query::SearchOptions;
use embedserve::word2vec::store::{LoadOptions, WordVectors};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [store, word, repeats, threads] = &args[..] else {
        return Err("usage: similar_bench STORE WORD REPEATS THREADS".into());
    };
    let repeats: usize = repeats.parse()?;
    let threads: usize = threads.parse()?;
    let started = Instant::now();
    let store = WordVectors::load(&PathBuf::from(store), &LoadOptions::default())?;
    let load_ms = started.elapsed().as_secs_f64() * 1e3;
    let options = SearchOptions {
        topn: 10,
        restrict_vocab: None,
        parallel: threads > 1,
        deadline: None,
        exact: false,
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()?;
    let query = || store.most_similar(&[word.as_str()], &[] as &[&str], &options);
    // One untimed query brings the matrix into the caches and the pool's threads up.
    let top = pool.install(query)?;
    let mut times = Vec::with_capacity(repeats);
    for _ in 0..repeats {
        let started = Instant::now();
        let found = pool.install(query)?;
        times.push(started.elapsed().as_secs_f64() * 1e3);
        // A timed answer must be the answer: a faster wrong search would not count.
        assert_eq!(found, top, "a timed query answered differently");
    }
    times.sort_by(f64::total_cmp);
    println!(
        "{{\"impl\": \"embedserve\", \"threads\": {threads}, \"rows\": {}, \"dim\": {}, \"load_ms\": {load_ms:.1}, \
         \"median_ms\": {:.3}, \"min_ms\": {:.3}, \"max_ms\": {:.3}, \"top\": {}}}",
        store.len(),
        store.dim(),
        times[times.len() / 2],
        times[0],
        times[times.len() - 1],
        serde_json::to_string(&top.iter().map(|n| n.word).collect::<Vec<_>>())?
    );
    Ok(())
}
