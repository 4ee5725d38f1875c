//! word2vec routes: `/similar` (GET and POST), `/similarity`, `/vector`, `/vectors`,
//! `/doesnt_match`, answered exactly as gensim's `KeyedVectors` answers them.
//!
//! `store` (a query parameter, or a field of a JSON body) selects one of the served stores, the
//! first without one (see [`crate::catalog::Catalog::store`]); answers name the store.

use axum::extract::{RawQuery, State};
use serde::Serialize;

use super::JsonBytes;
use super::extract::{Json, QueryParams};
use super::types::{
    OddOneOut, ScoredWord, SimilarRequest, StoreAnswer, Texts, VectorsRequest, WordPair, WordVector,
};
use crate::catalog::ServedStore;
use crate::error::AppError;
use crate::state::AppState;
use crate::word2vec::WordVectors;
use crate::word2vec::query::{Neighbor, SearchOptions};

/// What to search for.
enum Query {
    Words {
        positive: Vec<String>,
        negative: Vec<String>,
    },
    Vector(Vec<f32>),
}

/// `GET /similar?word=python&topn=5`, with `positive`/`negative` (repeated or comma lists),
/// `restrict_vocab` and `exact` (scan every row of a store served from an index file).
pub(super) async fn similar_get(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<JsonBytes, AppError> {
    let mut params = QueryParams::parse(
        query.as_deref(),
        &[
            "word",
            "positive",
            "negative",
            "topn",
            "restrict_vocab",
            "store",
            "exact",
        ],
    )?;
    let store = params.single("store")?;
    let mut positive = params.words("word");
    positive.extend(params.words("positive"));
    let negative = params.words("negative");
    check_query_words(&state, positive.len() + negative.len(), "positive")?;
    let options = search_options(
        &state,
        params.number("topn")?,
        params.number("restrict_vocab")?,
        params.flag("exact")?,
    )?;
    run_search(state, store, Query::Words { positive, negative }, options).await
}

/// `POST /similar` with a JSON body of words or a raw vector.
pub(super) async fn similar_post(
    State(state): State<AppState>,
    Json(request): Json<SimilarRequest>,
) -> Result<JsonBytes, AppError> {
    let options = search_options(
        &state,
        request.topn,
        request.restrict_vocab,
        request.exact.unwrap_or(false),
    )?;
    let words = |texts: Option<Texts>| texts.map(Texts::into_vec).unwrap_or_default();
    let query = match (
        request.vector,
        request.positive.is_some() || request.negative.is_some(),
    ) {
        (Some(_), true) => {
            return Err(AppError::validation(
                "vector",
                "give either vector or positive/negative words, not both",
            ));
        }
        (Some(vector), false) => Query::Vector(vector.into_iter().map(|v| v as f32).collect()),
        (None, _) => {
            let (positive, negative) = (words(request.positive), words(request.negative));
            check_query_words(&state, positive.len() + negative.len(), "positive")?;
            Query::Words { positive, negative }
        }
    };
    run_search(state, request.store, query, options).await
}

async fn run_search(
    state: AppState,
    store: Option<String>,
    query: Query,
    options: SearchOptions,
) -> Result<JsonBytes, AppError> {
    state
        .run_blocking(move |worker_state| {
            let catalog = worker_state.catalog()?;
            let served = catalog.store(store.as_deref())?;
            let store = &served.store;
            let neighbors = match &query {
                Query::Words { positive, negative } => {
                    store.most_similar(positive, negative, &options)
                }
                Query::Vector(vector) => store.similar_by_vector(vector, &options),
            }?;
            respond(served, neighbors.iter().enumerate().map(scored).collect())
        })
        .await
}

fn scored<'a>((index, neighbor): (usize, &Neighbor<'a>)) -> ScoredWord<'a> {
    ScoredWord {
        index,
        word: neighbor.word,
        score: neighbor.score,
    }
}

/// `GET /similarity?word1=machine&word2=learning`: the cosine of two words. On the compute pool:
/// a word outside a subword store's vocabulary reads its n-gram rows from the memory map.
pub(super) async fn similarity(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<JsonBytes, AppError> {
    let mut params = QueryParams::parse(query.as_deref(), &["word1", "word2", "store"])?;
    let (word1, word2) = (params.required("word1")?, params.required("word2")?);
    let store = params.single("store")?;
    state
        .run_blocking(move |worker_state| {
            let catalog = worker_state.catalog()?;
            let served = catalog.store(store.as_deref())?;
            let score = served.store.similarity(&word1, &word2)?;
            respond(
                served,
                vec![WordPair {
                    index: 0,
                    word1: &word1,
                    word2: &word2,
                    score,
                }],
            )
        })
        .await
}

/// `GET /vector?word=python&norm=false`: the stored vector (or its unit vector); in a subword
/// store, a word outside the vocabulary gets the vector of its n-grams.
pub(super) async fn vector(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<JsonBytes, AppError> {
    let mut params = QueryParams::parse(query.as_deref(), &["word", "norm", "store"])?;
    let word = params.required("word")?;
    let norm = params.flag("norm")?;
    let store = params.single("store")?;
    state
        .run_blocking(move |worker_state| {
            let catalog = worker_state.catalog()?;
            let served = catalog.store(store.as_deref())?;
            respond(served, vec![word_vector(&served.store, 0, &word, norm)?])
        })
        .await
}

/// `POST /vectors {"words": [...], "norm": false}`: the vectors of many words in one call (the
/// playground's map, or a script exporting a neighbourhood), at most `max_query_words` of them.
pub(super) async fn vectors(
    State(state): State<AppState>,
    Json(request): Json<VectorsRequest>,
) -> Result<JsonBytes, AppError> {
    if request.words.is_empty() {
        return Err(AppError::validation("words", "give at least one word"));
    }
    check_query_words(&state, request.words.len(), "words")?;
    state
        .run_blocking(move |worker_state| {
            let catalog = worker_state.catalog()?;
            let served = catalog.store(request.store.as_deref())?;
            let vectors = request
                .words
                .iter()
                .enumerate()
                .map(|(index, word)| word_vector(&served.store, index, word, request.norm))
                .collect::<Result<Vec<_>, _>>()?;
            respond(served, vectors)
        })
        .await
}

/// The vector of `word` as stored (in a subword store, built from its n-grams when outside the
/// vocabulary), or scaled to unit length with `norm`; 404 when unknown.
fn word_vector<'a>(
    store: &'a WordVectors,
    index: usize,
    word: &'a str,
    norm: bool,
) -> Result<WordVector<'a>, AppError> {
    let found = store.lookup(word)?;
    Ok(WordVector {
        index,
        word,
        norm,
        in_vocabulary: found.index.is_some(),
        embedding: if norm { found.unit } else { found.vector },
    })
}

/// `GET /doesnt_match?words=breakfast,cereal,dinner,lunch`: the word furthest from the mean.
pub(super) async fn doesnt_match(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<JsonBytes, AppError> {
    let mut params = QueryParams::parse(query.as_deref(), &["words", "store"])?;
    let words = params.words("words");
    let store = params.single("store")?;
    if words.is_empty() {
        return Err(AppError::validation("words", "give at least one word"));
    }
    check_query_words(&state, words.len(), "words")?;
    state
        .run_blocking(move |worker_state| {
            let catalog = worker_state.catalog()?;
            let served = catalog.store(store.as_deref())?;
            let word = served.store.doesnt_match(&words)?;
            respond(served, vec![OddOneOut { index: 0, word }])
        })
        .await
}

fn respond<T: Serialize>(served: &ServedStore, data: Vec<T>) -> Result<JsonBytes, AppError> {
    Ok(JsonBytes::of(&StoreAnswer {
        model: &served.name,
        data,
    })?
    .answered_by(&served.name))
}

/// gensim's default `topn`.
const DEFAULT_TOPN: usize = 10;

fn search_options(
    state: &AppState,
    topn: Option<usize>,
    restrict_vocab: Option<usize>,
    exact: bool,
) -> Result<SearchOptions, AppError> {
    let max = state.settings().max_topn;
    let topn = topn.unwrap_or(DEFAULT_TOPN.min(max));
    if topn == 0 || topn > max {
        return Err(AppError::validation(
            "topn",
            format!("topn must be between 1 and {max} (max_topn), got {topn}"),
        ));
    }
    Ok(SearchOptions {
        topn,
        restrict_vocab,
        parallel: true,
        deadline: Some(state.compute().deadline()),
        exact,
    })
}

/// Refuses a query of more than `max_query_words` words before any of them is looked up, so a
/// query's cost is bounded by the settings, not by the request.
fn check_query_words(state: &AppState, count: usize, field: &str) -> Result<(), AppError> {
    let max = state.settings().max_query_words;
    if count > max {
        return Err(AppError::validation(
            field,
            format!("a query may have at most {max} words (max_query_words), got {count}"),
        ));
    }
    Ok(())
}
