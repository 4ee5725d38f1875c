//! word2vec routes: `/similar` (GET and POST), `/similarity`, `/vector`, `/doesnt_match`,
//! answered exactly as gensim's `KeyedVectors` answers them.

use std::collections::BTreeMap;

use axum::extract::{RawQuery, State};
use serde::{Deserialize, Serialize};

use super::extract::{Json, present};
use super::{JsonBytes, Texts};
use crate::error::AppError;
use crate::state::AppState;
use crate::word2vec::WordVectors;
use crate::word2vec::query::{Neighbor, QueryError, SearchOptions};

/// Body of `POST /similar`: words (as `GET` takes them) or a raw `vector`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimilarRequest {
    /// Words pulling the query towards them.
    #[serde(default, deserialize_with = "present")]
    pub positive: Option<Texts>,
    /// Words pushing the query away.
    #[serde(default, deserialize_with = "present")]
    pub negative: Option<Texts>,
    /// A raw query vector instead of words (gensim `similar_by_vector`); read as f64 so values
    /// beyond f32's range are refused as non-finite rather than as bad JSON.
    #[serde(default, deserialize_with = "present")]
    pub vector: Option<Vec<f64>>,
    /// Number of results; default 10.
    #[serde(default, deserialize_with = "present")]
    pub topn: Option<usize>,
    /// Search only the first N words of the store (the most frequent).
    #[serde(default, deserialize_with = "present")]
    pub restrict_vocab: Option<usize>,
}

/// What to search for.
enum Query {
    Words {
        positive: Vec<String>,
        negative: Vec<String>,
    },
    Vector(Vec<f32>),
}

#[derive(Serialize)]
struct Envelope<'a, T> {
    model: &'a str,
    data: Vec<T>,
}

#[derive(Serialize)]
struct Scored<'a> {
    index: usize,
    word: &'a str,
    score: f32,
}

#[derive(Serialize)]
struct Pair<'a> {
    index: usize,
    word1: &'a str,
    word2: &'a str,
    score: f32,
}

#[derive(Serialize)]
struct WordVector<'a> {
    index: usize,
    word: &'a str,
    norm: bool,
    embedding: &'a [f32],
}

#[derive(Serialize)]
struct Odd<'a> {
    index: usize,
    word: &'a str,
}

/// `GET /similar?word=python&topn=5`, with `positive`/`negative` (repeated or comma lists) and
/// `restrict_vocab`.
pub async fn similar_get(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<JsonBytes, AppError> {
    let mut params = Params::parse(
        query.as_deref(),
        &["word", "positive", "negative", "topn", "restrict_vocab"],
    )?;
    let mut positive = params.words("word");
    positive.extend(params.words("positive"));
    let negative = params.words("negative");
    let options = search_options(
        &state,
        params.number("topn")?,
        params.number("restrict_vocab")?,
    )?;
    run_search(state, Query::Words { positive, negative }, options).await
}

/// `POST /similar` with a JSON body of words or a raw vector.
pub async fn similar_post(
    State(state): State<AppState>,
    Json(request): Json<SimilarRequest>,
) -> Result<JsonBytes, AppError> {
    let options = search_options(&state, request.topn, request.restrict_vocab)?;
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
        (None, _) => Query::Words {
            positive: words(request.positive),
            negative: words(request.negative),
        },
    };
    run_search(state, query, options).await
}

async fn run_search(
    state: AppState,
    query: Query,
    options: SearchOptions,
) -> Result<JsonBytes, AppError> {
    state
        .run(move |worker_state| {
            let store = worker_state.store()?;
            let neighbors = match &query {
                Query::Words { positive, negative } => {
                    store.most_similar(positive, negative, &options)
                }
                Query::Vector(vector) => store.similar_by_vector(vector, &options),
            }
            .map_err(query_error)?;
            respond(store, neighbors.iter().enumerate().map(scored).collect())
        })
        .await
}

fn scored<'a>((index, neighbor): (usize, &Neighbor<'a>)) -> Scored<'a> {
    Scored {
        index,
        word: neighbor.word,
        score: neighbor.score,
    }
}

/// `GET /similarity?word1=machine&word2=learning`: the cosine of two words.
pub async fn similarity(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<JsonBytes, AppError> {
    let mut params = Params::parse(query.as_deref(), &["word1", "word2"])?;
    let (word1, word2) = (params.required("word1")?, params.required("word2")?);
    let store = state.store()?;
    let score = store.similarity(&word1, &word2).map_err(query_error)?;
    respond(
        store,
        vec![Pair {
            index: 0,
            word1: &word1,
            word2: &word2,
            score,
        }],
    )
}

/// `GET /vector?word=python&norm=false`: the stored vector (or its unit vector).
pub async fn vector(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<JsonBytes, AppError> {
    let mut params = Params::parse(query.as_deref(), &["word", "norm"])?;
    let word = params.required("word")?;
    let norm = params.flag("norm")?;
    let store = state.store()?;
    let index = store
        .index_of(&word)
        .ok_or_else(|| AppError::UnknownWord(word.clone()))?;
    let embedding = if norm {
        store.unit_vector(index)
    } else {
        store.vector(index)
    };
    let embedding = embedding.ok_or_else(|| AppError::UnknownWord(word.clone()))?;
    respond(
        store,
        vec![WordVector {
            index: 0,
            word: &word,
            norm,
            embedding,
        }],
    )
}

/// `GET /doesnt_match?words=breakfast,cereal,dinner,lunch`: the word furthest from the mean.
pub async fn doesnt_match(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<JsonBytes, AppError> {
    let mut params = Params::parse(query.as_deref(), &["words"])?;
    let words = params.words("words");
    if words.is_empty() {
        return Err(AppError::validation("words", "give at least one word"));
    }
    state
        .run(move |worker_state| {
            let store = worker_state.store()?;
            let word = store.doesnt_match(&words).map_err(query_error)?;
            respond(store, vec![Odd { index: 0, word }])
        })
        .await
}

fn respond<T: Serialize>(store: &WordVectors, data: Vec<T>) -> Result<JsonBytes, AppError> {
    JsonBytes::of(&Envelope {
        model: &store_name(store),
        data,
    })
}

/// The store's file name without extension, e.g. `vectors` for `vectors.bin`.
pub fn store_name(store: &WordVectors) -> String {
    store.path().and_then(|path| path.file_stem()).map_or_else(
        || "word2vec".to_owned(),
        |stem| stem.to_string_lossy().into_owned(),
    )
}

/// gensim's default `topn`.
const DEFAULT_TOPN: usize = 10;

fn search_options(
    state: &AppState,
    topn: Option<usize>,
    restrict_vocab: Option<usize>,
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
    })
}

fn query_error(error: QueryError) -> AppError {
    match error {
        QueryError::UnknownWord(word) => AppError::UnknownWord(word),
        QueryError::EmptyQuery => {
            AppError::validation("positive", "give at least one positive or negative word")
        }
        QueryError::InvalidTopn => AppError::validation("topn", "topn must be at least 1"),
        QueryError::DimensionMismatch { .. } => AppError::validation("vector", error.to_string()),
        QueryError::NonFiniteVector { index } => {
            AppError::validation(format!("vector[{index}]"), error.to_string())
        }
    }
}

/// Query-string parameters, allowing repeated keys (`positive=a&positive=b`).
struct Params {
    values: BTreeMap<String, Vec<String>>,
}

impl Params {
    /// Parses `query`, refusing parameters not in `known` so typos (`top_n`) are not ignored.
    fn parse(query: Option<&str>, known: &[&str]) -> Result<Self, AppError> {
        let mut values: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (key, value) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
            if !known.contains(&key.as_ref()) {
                return Err(AppError::validation(
                    key.as_ref(),
                    format!("unknown parameter {key:?}; expected one of {known:?}"),
                ));
            }
            values
                .entry(key.into_owned())
                .or_default()
                .push(value.into_owned());
        }
        Ok(Self { values })
    }

    /// Every word given for `key`, splitting comma lists and dropping empty items.
    fn words(&mut self, key: &str) -> Vec<String> {
        self.values
            .remove(key)
            .unwrap_or_default()
            .iter()
            .flat_map(|value| value.split(','))
            .map(str::trim)
            .filter(|word| !word.is_empty())
            .map(str::to_owned)
            .collect()
    }

    /// The single value of `key`.
    fn single(&mut self, key: &str) -> Result<Option<String>, AppError> {
        match self.values.remove(key).as_deref() {
            None => Ok(None),
            Some([value]) => Ok(Some(value.clone())),
            Some(_) => Err(AppError::validation(
                key,
                format!("{key} must be given once"),
            )),
        }
    }

    fn required(&mut self, key: &str) -> Result<String, AppError> {
        self.single(key)?
            .filter(|value| !value.is_empty())
            .ok_or_else(|| AppError::validation(key, format!("{key} is required")))
    }

    fn number(&mut self, key: &str) -> Result<Option<usize>, AppError> {
        self.single(key)?
            .map(|value| {
                value.parse().map_err(|_| {
                    AppError::validation(
                        key,
                        format!("{key} must be a non-negative integer, got {value:?}"),
                    )
                })
            })
            .transpose()
    }

    fn flag(&mut self, key: &str) -> Result<bool, AppError> {
        match self.single(key)?.as_deref() {
            None | Some("false" | "0") => Ok(false),
            Some("true" | "1" | "") => Ok(true),
            Some(other) => Err(AppError::validation(
                key,
                format!("{key} must be true or false, got {other:?}"),
            )),
        }
    }
}
