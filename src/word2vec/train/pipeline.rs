//! The training pipeline: a reader thread streams the corpus from disk once per epoch and cuts
//! it into jobs of at most [`MAX_SENTENCE_WORDS`] raw words (gensim's `_job_producer`), which a
//! bounded channel hands to the worker threads; the calling thread reports progress.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::kernels::{Model, Scratch};
use super::random::{SplitMix64, next_random};
use super::shared::{Avx2Fma, Baseline, Isa};
use crate::word2vec::preprocess::{Corpus, CorpusError, MAX_SENTENCE_WORDS};
use crate::word2vec::vocab::Vocab;

/// Settings of the training loop itself.
pub(super) struct LoopSettings {
    /// Passes over the corpus.
    pub epochs: usize,
    /// Initial learning rate.
    pub alpha: f64,
    /// Final learning rate.
    pub min_alpha: f64,
    /// Sentences per epoch (gensim's `corpus_count`), which the learning rate decays over.
    pub sentences_per_epoch: u64,
    /// Worker threads.
    pub workers: usize,
    /// Maximum distance between a word and its context words.
    pub window: usize,
    /// Skip-gram (true) or CBOW (false).
    pub sg: bool,
    /// Whether frequent words are downsampled.
    pub sample: bool,
    /// Seed of the per-job random streams.
    pub seed: u64,
    /// Print progress on stderr (only when it is a terminal).
    pub progress: bool,
}

/// What the training loop did.
pub(super) struct LoopStats {
    /// Corpus words read over all epochs.
    pub raw_words: u64,
    /// Words trained on (in the vocabulary and kept by downsampling), over all epochs.
    pub effective_words: u64,
    /// Wall-clock time of the loop.
    pub seconds: f64,
}

/// A batch of sentences for one worker: gensim's `(job_batch, next_alpha)`.
struct Job {
    /// Vocabulary indexes of the batch's in-vocabulary words, sentence after sentence.
    words: Vec<u32>,
    /// End of each sentence in `words`.
    sentence_ends: Vec<usize>,
    /// Words of the batch as read, unknown ones included.
    raw_words: u64,
    /// Learning rate for the whole batch.
    alpha: f32,
    /// Start of the batch's 48-bit random stream (gensim draws it per batch too).
    random: u64,
}

/// Counters shared by the workers and the progress reporter.
#[derive(Default)]
struct Counters {
    raw_words: AtomicU64,
    effective_words: AtomicU64,
    alpha_bits: AtomicU32,
}

/// gensim's `_get_next_alpha`: linear decay over all epochs, never below `min_alpha`.
/// `epoch_progress` is the fraction of the epoch's sentences already queued: gensim decays by
/// examples whenever `total_examples` is known, as it is when `Word2Vec` trains from its
/// constructor or after `build_vocab` (by words only when it is not). On corpora whose line
/// lengths vary this matters: measured on wiki-lee, deciding by words gives visibly smaller
/// vectors than gensim's.
fn next_alpha(s: &LoopSettings, epoch: usize, epoch_progress: f64) -> f64 {
    let progress = (epoch as f64 + epoch_progress) / s.epochs as f64;
    (s.alpha - (s.alpha - s.min_alpha) * progress).max(s.min_alpha)
}

/// Runs all epochs over `corpus`, updating `model`'s matrices.
pub(super) fn run_epochs(
    corpus: &Corpus,
    vocab: &Vocab,
    model: &Model<'_>,
    settings: &LoopSettings,
) -> Result<LoopStats, CorpusError> {
    let started = Instant::now();
    let counters = Counters::default();
    let (sender, receiver) = sync_channel::<Job>(2 * settings.workers);
    // Only the workers own the receiver: if they all died, the reader's `send` fails instead
    // of blocking forever.
    let receiver = Arc::new(Mutex::new(receiver));
    let finished = AtomicBool::new(false);
    let read = std::thread::scope(|scope| {
        let reader = scope.spawn(|| produce_jobs(corpus, vocab, settings, sender));
        let workers: Vec<_> = (0..settings.workers)
            .map(|_| {
                let receiver = Arc::clone(&receiver);
                let counters = &counters;
                scope.spawn(move || work(&receiver, vocab, model, settings, counters))
            })
            .collect();
        drop(receiver);
        let reporter =
            scope.spawn(|| report_progress(settings, vocab, &counters, &finished, started));
        let worked: Vec<_> = workers
            .into_iter()
            .map(std::thread::ScopedJoinHandle::join)
            .collect();
        finished.store(true, Ordering::Relaxed);
        // The reporter only prints; a failure there must not fail the training.
        let _ = reporter.join();
        let read = reader.join();
        if let Some(panic) = worked.into_iter().find_map(Result::err) {
            std::panic::resume_unwind(panic);
        }
        read.unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    });
    read?;
    Ok(LoopStats {
        raw_words: counters.raw_words.load(Ordering::Relaxed),
        effective_words: counters.effective_words.load(Ordering::Relaxed),
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// The reader thread: every epoch, streams the corpus into jobs. Dropping `sender` at the end
/// (or on an error) tells the workers to stop.
fn produce_jobs(
    corpus: &Corpus,
    vocab: &Vocab,
    settings: &LoopSettings,
    sender: SyncSender<Job>,
) -> Result<(), CorpusError> {
    let mut seeds = SplitMix64::new(settings.seed ^ 0x6a6f_6273); // "jobs": apart from the init stream
    let total_sentences = settings.sentences_per_epoch.max(1) as f64;
    for epoch in 0..settings.epochs {
        let mut pushed_sentences = 0usize;
        let mut alpha = next_alpha(settings, epoch, 0.0);
        let mut job = empty_job();
        let mut disconnected = false;
        corpus.for_each_sentence(|sentence| {
            // gensim's batching: a sentence that does not fit starts the next job.
            if job.raw_words + sentence.len() as u64 > MAX_SENTENCE_WORDS as u64 {
                pushed_sentences += job.sentence_ends.len();
                let full = std::mem::replace(&mut job, empty_job());
                if send(&sender, full, alpha, &mut seeds).is_err() {
                    disconnected = true;
                    return false;
                }
                alpha = next_alpha(settings, epoch, pushed_sentences as f64 / total_sentences);
            }
            job.words
                .extend(sentence.iter().filter_map(|w| vocab.index_of(w)));
            job.sentence_ends.push(job.words.len());
            job.raw_words += sentence.len() as u64;
            true
        })?;
        if disconnected {
            return Ok(()); // a worker died; its panic is reported by the caller
        }
        if job.raw_words > 0 && send(&sender, job, alpha, &mut seeds).is_err() {
            return Ok(());
        }
    }
    Ok(())
}

fn empty_job() -> Job {
    Job {
        words: Vec::new(),
        sentence_ends: Vec::new(),
        raw_words: 0,
        alpha: 0.0,
        random: 0,
    }
}

/// Stamps `job` with its learning rate and random stream and queues it.
fn send(
    sender: &SyncSender<Job>,
    mut job: Job,
    alpha: f64,
    seeds: &mut SplitMix64,
) -> Result<(), ()> {
    job.alpha = alpha as f32;
    job.random = seeds.next_u64() & ((1 << 48) - 1);
    sender.send(job).map_err(|_| ())
}

/// A worker thread: takes jobs until the reader is done.
fn work(
    receiver: &Mutex<Receiver<Job>>,
    vocab: &Vocab,
    model: &Model<'_>,
    settings: &LoopSettings,
    counters: &Counters,
) {
    let mut scratch = Scratch::new(model.padded_dim());
    let mut kept = KeptWords::default();
    loop {
        // A poisoned lock only means another worker panicked; its panic is re-raised by the caller.
        let job = receiver
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .recv();
        let Ok(job) = job else { return };
        counters
            .alpha_bits
            .store(job.alpha.to_bits(), Ordering::Relaxed);
        let effective = train_job(&job, vocab, model, settings, &mut kept, &mut scratch);
        counters
            .raw_words
            .fetch_add(job.raw_words, Ordering::Relaxed);
        counters
            .effective_words
            .fetch_add(effective, Ordering::Relaxed);
    }
}

/// A job's words after downsampling, with sentence ends and reduced windows (reused buffers).
#[derive(Default)]
struct KeptWords {
    words: Vec<u32>,
    sentence_ends: Vec<usize>,
    reduced_windows: Vec<usize>,
}

/// gensim's `train_batch_sg` / `train_batch_cbow`: downsample, draw the reduced windows, train.
/// Returns the number of words trained on. Uses AVX2 and FMA when the CPU has them (the same
/// choice for every job, so a seeded single-worker run stays reproducible on a given machine).
fn train_job(
    job: &Job,
    vocab: &Vocab,
    model: &Model<'_>,
    settings: &LoopSettings,
    kept: &mut KeptWords,
    scratch: &mut Scratch,
) -> u64 {
    #[cfg(target_arch = "x86_64")]
    if let Some(isa) = Avx2Fma::detect() {
        // SAFETY: the CPU supports AVX2 and FMA: `isa` exists.
        return unsafe { train_job_avx2_fma(isa, job, vocab, model, settings, kept, scratch) };
    }
    train_job_with(Baseline, job, vocab, model, settings, kept, scratch)
}

/// [`train_job_with`] compiled for AVX2 and FMA (the kernels are `#[inline(always)]`, so
/// their loops vectorize eight lanes wide with fused multiply-adds here).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn train_job_avx2_fma(
    isa: Avx2Fma,
    job: &Job,
    vocab: &Vocab,
    model: &Model<'_>,
    settings: &LoopSettings,
    kept: &mut KeptWords,
    scratch: &mut Scratch,
) -> u64 {
    train_job_with(isa, job, vocab, model, settings, kept, scratch)
}

/// The body of [`train_job`] for the instruction set `isa`.
#[inline(always)]
fn train_job_with<I: Isa>(
    isa: I,
    job: &Job,
    vocab: &Vocab,
    model: &Model<'_>,
    settings: &LoopSettings,
    kept: &mut KeptWords,
    scratch: &mut Scratch,
) -> u64 {
    let mut random = job.random;
    downsample(job, vocab, settings.sample, &mut random, kept);
    kept.reduced_windows.clear();
    for _ in 0..kept.words.len() {
        let b = next_random(&mut random) % settings.window as u64;
        kept.reduced_windows.push(b as usize);
    }
    let mut start = 0;
    for &end in &kept.sentence_ends {
        let sentence = &kept.words[start..end];
        let reduced = &kept.reduced_windows[start..end];
        for (i, &b) in reduced.iter().enumerate() {
            let span = settings.window - b;
            // Saturating: `--window` may be anything up to `usize::MAX`.
            let window = (
                i.saturating_sub(span),
                (i + 1).saturating_add(span).min(sentence.len()),
            );
            if settings.sg {
                for j in window.0..window.1 {
                    if j != i {
                        model.sg_pair(
                            isa,
                            (sentence[i], sentence[j]),
                            job.alpha,
                            &mut random,
                            scratch,
                        );
                    }
                }
            } else {
                model.cbow_window(isa, sentence, i, window, job.alpha, &mut random, scratch);
            }
        }
        start = end;
    }
    kept.words.len() as u64
}

/// Keeps each word with its `sample_int` probability (gensim's frequent-word downsampling).
fn downsample(job: &Job, vocab: &Vocab, sample: bool, random: &mut u64, kept: &mut KeptWords) {
    kept.words.clear();
    kept.sentence_ends.clear();
    let sample_ints = vocab.sample_ints();
    let mut start = 0;
    for &end in &job.sentence_ends {
        for &w in &job.words[start..end] {
            if sample && u64::from(sample_ints[w as usize]) < next_random(random) {
                continue;
            }
            kept.words.push(w);
        }
        kept.sentence_ends.push(kept.words.len());
        start = end;
    }
}

/// Prints progress about once a second while training runs, when enabled and stderr is a terminal.
fn report_progress(
    settings: &LoopSettings,
    vocab: &Vocab,
    counters: &Counters,
    finished: &AtomicBool,
    started: Instant,
) {
    let stderr = std::io::stderr();
    if !settings.progress || !stderr.is_terminal() {
        return;
    }
    let total = (vocab.raw_total_words() * settings.epochs as u64).max(1) as f64;
    let mut last_print = Instant::now();
    let mut printed = false;
    while !finished.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(50));
        if last_print.elapsed() < Duration::from_secs(1) {
            continue;
        }
        last_print = Instant::now();
        let done = counters.raw_words.load(Ordering::Relaxed) as f64;
        let seconds = started.elapsed().as_secs_f64();
        let rate = counters.effective_words.load(Ordering::Relaxed) as f64 / seconds;
        let fraction = (done / total).min(1.0);
        let eta = if fraction > 0.0 {
            seconds * (1.0 - fraction) / fraction
        } else {
            0.0
        };
        let alpha = f32::from_bits(counters.alpha_bits.load(Ordering::Relaxed));
        let _ = write!(
            stderr.lock(),
            "\r{:5.1}%  {rate:>10.0} words/s  alpha {alpha:.6}  ETA {eta:>6.0}s ",
            fraction * 100.0
        );
        printed = true;
    }
    if printed {
        let _ = writeln!(stderr.lock());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::word2vec::vocab::{RawVocab, VocabSettings};

    fn settings(epochs: usize) -> LoopSettings {
        LoopSettings {
            epochs,
            alpha: 0.025,
            min_alpha: 0.0001,
            sentences_per_epoch: 10,
            workers: 1,
            window: 5,
            sg: false,
            sample: false,
            seed: 1,
            progress: false,
        }
    }

    #[test]
    fn alpha_decays_linearly_over_all_epochs() {
        let s = settings(4);
        assert_eq!(next_alpha(&s, 0, 0.0), 0.025);
        // Half-way through epoch 2 of 4 is 5/8 of the way down.
        let expected = 0.025 - (0.025 - 0.0001) * 0.625;
        assert!((next_alpha(&s, 2, 0.5) - expected).abs() < 1e-15);
        assert!((next_alpha(&s, 3, 1.0) - 0.0001).abs() < 1e-15);
        assert_eq!(next_alpha(&s, 5, 0.0), 0.0001);
    }

    fn two_word_vocab(sample: f64) -> Vocab {
        let mut raw = RawVocab::new(None);
        raw.add_sentence(&["a", "b"]);
        let settings = VocabSettings {
            min_count: 1,
            max_final_vocab: None,
            sample,
            ns_exponent: 0.75,
            hs: false,
            negative: true,
        };
        Vocab::build(&raw, &settings)
    }

    #[test]
    fn downsampling_keeps_sentence_boundaries() {
        let job = Job {
            words: vec![0, 1, 0, 1, 1],
            sentence_ends: vec![2, 2, 5],
            raw_words: 7,
            alpha: 0.025,
            random: 0x1234_5678_9abc,
        };
        let mut kept = KeptWords::default();
        let mut random = job.random;
        downsample(&job, &two_word_vocab(0.0), false, &mut random, &mut kept);
        assert_eq!(kept.words, job.words);
        assert_eq!(kept.sentence_ends, job.sentence_ends);
        assert_eq!(random, job.random, "no draws without sampling");
        // With a tiny threshold each occurrence survives with probability ~4e-5.
        downsample(&job, &two_word_vocab(1e-9), true, &mut random, &mut kept);
        assert!(kept.words.is_empty(), "{:?}", kept.words);
        assert_eq!(kept.sentence_ends, [0, 0, 0]);
        assert_ne!(random, job.random);
    }
}
