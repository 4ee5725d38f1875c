//! model2vec-rs 0.4.0 called in-process, for bench/static/run.sh.
//!
//! bench MODEL_DIR SENTENCES BATCH SECONDS WARMUP THREADS
//!     THREADS threads each call `StaticModel::encode_flat` (max_length 512, the library default) on
//!     consecutive batches of BATCH sentences of the file SENTENCES (one per line; only whole
//!     batches), starting at evenly spaced batches and wrapping around; WARMUP seconds untimed, then
//!     SECONDS timed. Prints one JSON line: sentences_per_s, batches, threads, cpu_cores (CPU time of
//!     the process over the timed window / wall time), rayon_threads.
//! dump MODEL_DIR SENTENCES OUT
//!     Encodes every sentence of SENTENCES in one `encode_flat` call and writes the rows to OUT as
//!     little-endian float32, row after row.
use std::fs;
use std::sync::Barrier;
use std::time::{Duration, Instant};

use model2vec_rs::model::StaticModel;

fn load(dir: &str) -> StaticModel {
    StaticModel::from_pretrained(dir, None, None, None).expect("load the model with model2vec-rs")
}

fn read_sentences(path: &str) -> Vec<String> {
    fs::read_to_string(path).expect("read sentences").lines().map(str::to_owned).collect()
}

/// CPU seconds (user + system) of this process so far, from /proc/self/stat (clock ticks of 1/100 s).
fn cpu_seconds() -> f64 {
    let stat = fs::read_to_string("/proc/self/stat").expect("read /proc/self/stat");
    let after_name = &stat[stat.rfind(')').expect("stat has a name") + 2..];
    let fields: Vec<&str> = after_name.split(' ').collect();
    // after "pid (comm) " the fields start at 3 (state); utime is 14, stime 15
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    ticks as f64 / 100.0
}

fn bench(args: &[String]) {
    let model = load(&args[0]);
    let sentences = read_sentences(&args[1]);
    let batch: usize = args[2].parse().expect("BATCH");
    let seconds: f64 = args[3].parse().expect("SECONDS");
    let warmup: f64 = args[4].parse().expect("WARMUP");
    let threads: usize = args[5].parse().expect("THREADS");
    let batches: Vec<&[String]> = sentences.chunks_exact(batch).collect();
    let barrier = Barrier::new(threads + 1);
    let mut start = Instant::now();
    let mut cpu_start = 0.0;
    let counts: Vec<usize> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|worker| {
                let (model, batches, barrier) = (&model, &batches, &barrier);
                scope.spawn(move || {
                    let mut next = worker * batches.len() / threads;
                    let mut run = |until: Instant| {
                        let mut done = 0;
                        while Instant::now() < until {
                            let rows = model.encode_flat(batches[next]);
                            std::hint::black_box(rows);
                            next = (next + 1) % batches.len();
                            done += 1;
                        }
                        done
                    };
                    run(Instant::now() + Duration::from_secs_f64(warmup));
                    barrier.wait();
                    run(Instant::now() + Duration::from_secs_f64(seconds))
                })
            })
            .collect();
        barrier.wait();
        start = Instant::now();
        cpu_start = cpu_seconds();
        workers.into_iter().map(|w| w.join().expect("worker")).collect()
    });
    let elapsed = start.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu_start;
    let done: usize = counts.iter().sum();
    let rayon = std::env::var("RAYON_NUM_THREADS").unwrap_or_else(|_| "unset (one per core)".into());
    println!(
        "{{\"sentences_per_s\": {:.1}, \"batches\": {done}, \"threads\": {threads}, \"cpu_cores\": {:.2}, \"rayon_threads\": \"{rayon}\"}}",
        (done * batch) as f64 / elapsed,
        cpu / elapsed
    );
}

fn dump(args: &[String]) {
    let model = load(&args[0]);
    let sentences = read_sentences(&args[1]);
    let rows = model.encode_flat(&sentences);
    assert_eq!(rows.len(), sentences.len() * model.dim());
    let bytes: Vec<u8> = rows.iter().flat_map(|v| v.to_le_bytes()).collect();
    fs::write(&args[2], bytes).expect("write rows");
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("bench") if args.len() == 7 => bench(&args[1..]),
        Some("dump") if args.len() == 4 => dump(&args[1..]),
        _ => {
            eprintln!("usage: m2vrs-bench bench MODEL_DIR SENTENCES BATCH SECONDS WARMUP THREADS | dump MODEL_DIR SENTENCES OUT");
            std::process::exit(2);
        }
    }
}
