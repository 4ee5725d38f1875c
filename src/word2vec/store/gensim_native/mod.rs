//! gensim's native files, what `Word2Vec.save()` and `KeyedVectors.save()` write: a Python
//! pickle of the model object, with each array over `sep_limit` (10 MB by default) in a `.npy`
//! file beside it named after the attribute (`word2vec.model.wv.vectors.npy`).
//!
//! Read without executing anything: `pickle` builds plain values and refuses every callable
//! gensim does not write; this module then takes the words (`index_to_key`) and the vectors
//! (`vectors`, pickled or in its sidecar) and ignores the training state (`syn1neg`, `cum_table`,
//! the random generator), which `most_similar` never uses.
//!
//! - `pickle`: the opcode interpreter; `allow_list`: the callables it accepts; `npy`: the
//!   sidecar reader; `problem`: [`GensimProblem`].

mod allow_list;
mod npy;
mod pickle;
mod problem;

use std::collections::HashSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

pub use problem::GensimProblem;

use super::error::{Location, Problem, StoreError};
use super::sniff::{is_pickle, quote};
use allow_list::GlobalKind;
use npy::NpyError;
use pickle::{Content, Object, Pickle, Value};

/// The class of the object a gensim native file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GensimClass {
    /// A whole model, `Word2Vec.save()`.
    Word2Vec,
    /// Vectors alone, `KeyedVectors.save()` (or `model.wv.save()`).
    KeyedVectors,
}

impl GensimClass {
    /// The class name as gensim spells it.
    pub fn name(self) -> &'static str {
        match self {
            GensimClass::Word2Vec => "Word2Vec",
            GensimClass::KeyedVectors => "KeyedVectors",
        }
    }
}

/// What gensim recorded about a saved model that matters to a user of its vectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GensimParams {
    /// The saved object's class.
    pub class: GensimClass,
    /// Dimension of the vectors.
    pub vector_size: usize,
    /// Context window of training (`Word2Vec` only).
    pub window: Option<i64>,
    /// 1 for skip-gram, 0 for CBOW (`Word2Vec` only).
    pub sg: Option<i64>,
    /// Training epochs (`Word2Vec` only).
    pub epochs: Option<i64>,
}

/// A row-major float32 matrix.
pub(super) struct Matrix {
    rows: usize,
    cols: usize,
    values: Vec<f32>,
}

/// The vectors of a gensim native file.
pub(super) struct NativeStore {
    /// Keys in gensim's order (`index_to_key`).
    pub(super) words: Vec<String>,
    /// Their rows, row-major.
    pub(super) vectors: Vec<f32>,
    /// `vector_size`.
    pub(super) dim: usize,
    /// What gensim recorded.
    pub(super) params: GensimParams,
}

/// A problem at a byte offset of the pickle.
type Located = (usize, GensimProblem);

/// Reads the gensim native file `path` whose content is `bytes`: the first `limit` words when set.
pub(super) fn read(
    path: &Path,
    bytes: &[u8],
    limit: Option<usize>,
) -> Result<NativeStore, StoreError> {
    let malformed = |(at, problem): Located| StoreError::Malformed {
        path: path.to_path_buf(),
        location: Location::Byte(at as u64),
        problem: Problem::Gensim(problem),
    };
    if !is_pickle(bytes) {
        return Err(malformed((0, GensimProblem::NotAPickle)));
    }
    let pickle = Pickle::parse(bytes).map_err(malformed)?;
    let model = Model::find(&pickle).map_err(malformed)?;
    let mut words = model.words().map_err(malformed)?;
    let matrix = match model.pickled_vectors().map_err(malformed)? {
        Some(matrix) => matrix,
        None => read_sidecar(path, &model.sidecar_name())?,
    };
    model.check_shape(&matrix, words.len()).map_err(malformed)?;
    let mut vectors = matrix.values;
    if let Some(limit) = limit.filter(|&limit| limit < words.len()) {
        words.truncate(limit);
        vectors.truncate(limit * matrix.cols);
    }
    Ok(NativeStore {
        words,
        vectors,
        dim: matrix.cols,
        params: model.params,
    })
}

/// Reads the sidecar `{path}{suffix}`; a missing file is named as gensim would have written it.
fn read_sidecar(path: &Path, suffix: &str) -> Result<Matrix, StoreError> {
    let mut name = OsString::from(path.as_os_str());
    name.push(suffix);
    let sidecar = PathBuf::from(name);
    npy::read_matrix(&sidecar).map_err(|error| match error {
        NpyError::Io(source) => StoreError::MissingSidecar {
            path: path.to_path_buf(),
            sidecar,
            source,
        },
        NpyError::Invalid(problem) => StoreError::Malformed {
            path: sidecar,
            location: Location::Byte(0),
            problem: Problem::Gensim(problem),
        },
    })
}

/// The `KeyedVectors` inside a parsed pickle, and what the model around it recorded.
struct Model<'p> {
    pickle: &'p Pickle<'p>,
    /// The `KeyedVectors`' attributes.
    vectors: Attributes<'p>,
    params: GensimParams,
}

/// An object's attributes (its `__dict__`, the state `BUILD` gave it).
struct Attributes<'p> {
    pickle: &'p Pickle<'p>,
    items: &'p [(Value, Value)],
    /// Offset of the object in the pickle.
    at: usize,
    /// Attribute path prefix for messages and sidecar names: `wv.` inside a `Word2Vec`.
    prefix: &'static str,
}

impl<'p> Model<'p> {
    /// Finds the `KeyedVectors`: the pickled object itself, or a `Word2Vec`'s `wv`.
    fn find(pickle: &'p Pickle<'p>) -> Result<Self, Located> {
        let (object, at) = object(pickle, &pickle.root).ok_or_else(|| {
            let what = describe(pickle, &pickle.root);
            (0, GensimProblem::NotAModel(what))
        })?;
        match object.class.kind {
            GlobalKind::Word2Vec => {
                let model = Attributes::of(pickle, object, at, "")?;
                let wv = model.get("wv").ok_or_else(|| model.missing("wv"))?;
                let (wv_object, wv_at) = object_of(pickle, wv, GlobalKind::KeyedVectors)
                    .ok_or_else(|| model.wrong("wv", "is not a KeyedVectors"))?;
                let vectors = Attributes::of(pickle, wv_object, wv_at, "wv.")?;
                let params = GensimParams {
                    class: GensimClass::Word2Vec,
                    vector_size: vectors.size("vector_size")?,
                    window: model.int("window"),
                    sg: model.int("sg"),
                    epochs: model.int("epochs"),
                };
                Ok(Model {
                    pickle,
                    vectors,
                    params,
                })
            }
            GlobalKind::KeyedVectors => {
                let vectors = Attributes::of(pickle, object, at, "")?;
                let params = GensimParams {
                    class: GensimClass::KeyedVectors,
                    vector_size: vectors.size("vector_size")?,
                    window: None,
                    sg: None,
                    epochs: None,
                };
                Ok(Model {
                    pickle,
                    vectors,
                    params,
                })
            }
            _ => Err((
                at,
                GensimProblem::NotAModel(format!("a `{}`", object.class)),
            )),
        }
    }

    /// The keys, `index_to_key`; each must be a distinct non-empty string.
    fn words(&self) -> Result<Vec<String>, Located> {
        let attrs = &self.vectors;
        let keys = attrs
            .get("index_to_key")
            .ok_or_else(|| attrs.missing("index_to_key"))?;
        let Some(Content::List(keys)) = self.pickle.node(keys).map(|node| &node.content) else {
            return Err(attrs.wrong("index_to_key", "is not a list"));
        };
        let mut seen = HashSet::with_capacity(keys.len());
        keys.iter()
            .enumerate()
            .map(|(i, key)| match key {
                // The store's words are never empty, as in the C formats.
                Value::Str(word) if word.is_empty() => Err((attrs.at, GensimProblem::EmptyKey(i))),
                Value::Str(word) if seen.insert(word.as_str()) => Ok(word.clone()),
                Value::Str(word) => Err((
                    attrs.at,
                    GensimProblem::DuplicateKey(quote(word.as_bytes())),
                )),
                _ => Err((attrs.at, GensimProblem::KeyNotString(i))),
            })
            .collect()
    }

    /// The `vectors` array when it is inside the pickle, `None` when it is in its sidecar.
    fn pickled_vectors(&self) -> Result<Option<Matrix>, Located> {
        let attrs = &self.vectors;
        if let Some(array) = attrs.get("vectors") {
            return decode_array(self.pickle, array, &attrs.path("vectors"), attrs.at).map(Some);
        }
        if attrs.lists("__numpys", "vectors") {
            return Ok(None);
        }
        if attrs.lists("__ignoreds", "vectors") {
            return Err((attrs.at, GensimProblem::VectorsIgnored));
        }
        Err(attrs.missing("vectors"))
    }

    /// The suffix gensim gives the vectors' sidecar: `.wv.vectors.npy` or `.vectors.npy`.
    fn sidecar_name(&self) -> String {
        format!(".{}.npy", self.vectors.path("vectors"))
    }

    /// One row per key, `vector_size` columns.
    fn check_shape(&self, matrix: &Matrix, keys: usize) -> Result<(), Located> {
        let vector_size = self.params.vector_size;
        if matrix.rows != keys || matrix.cols != vector_size || vector_size == 0 {
            return Err((
                self.vectors.at,
                GensimProblem::Shape {
                    attribute: self.vectors.path("vectors"),
                    rows: matrix.rows,
                    cols: matrix.cols,
                    keys,
                    vector_size,
                },
            ));
        }
        Ok(())
    }
}

impl<'p> Attributes<'p> {
    /// The attributes `BUILD` gave `object`: a dict.
    fn of(
        pickle: &'p Pickle<'p>,
        object: &'p Object,
        at: usize,
        prefix: &'static str,
    ) -> Result<Self, Located> {
        let state = object.state.as_ref().and_then(|state| pickle.node(state));
        let Some(Content::Dict(items)) = state.map(|node| &node.content) else {
            let problem =
                GensimProblem::NotAModel(format!("a `{}` without attributes", object.class));
            return Err((at, problem));
        };
        Ok(Attributes {
            pickle,
            items,
            at,
            prefix,
        })
    }

    fn get(&self, name: &str) -> Option<&'p Value> {
        self.items
            .iter()
            .find(|(key, _)| matches!(key, Value::Str(key) if key == name))
            .map(|(_, value)| value)
    }

    /// An int attribute, `None` when absent or not an int.
    fn int(&self, name: &str) -> Option<i64> {
        match self.get(name) {
            Some(Value::Int(value)) => Some(*value),
            _ => None,
        }
    }

    /// A required non-negative int attribute.
    fn size(&self, name: &str) -> Result<usize, Located> {
        let value = self.get(name).ok_or_else(|| self.missing(name))?;
        match value {
            Value::Int(value) => {
                usize::try_from(*value).map_err(|_| self.wrong(name, "is negative"))
            }
            _ => Err(self.wrong(name, "is not an int")),
        }
    }

    /// True when the list attribute `name` holds the string `item` (gensim's `__numpys`, ...).
    fn lists(&self, name: &str, item: &str) -> bool {
        let list = self.get(name).and_then(|list| self.pickle.node(list));
        matches!(list.map(|node| &node.content), Some(Content::List(items))
            if items.iter().any(|v| matches!(v, Value::Str(s) if s == item)))
    }

    /// `wv.vectors` for `vectors` inside a `Word2Vec`.
    fn path(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    fn missing(&self, name: &str) -> Located {
        self.wrong(name, "is missing")
    }

    fn wrong(&self, name: &str, problem: &'static str) -> Located {
        let attribute = self.path(name);
        (self.at, GensimProblem::Attribute { attribute, problem })
    }
}

/// The recorded call `value` points to, and its offset.
fn object<'p>(pickle: &'p Pickle<'_>, value: &Value) -> Option<(&'p Object, usize)> {
    match pickle.node(value) {
        Some(node) => match &node.content {
            Content::Object(object) => Some((object, node.at)),
            _ => None,
        },
        None => None,
    }
}

/// The recorded call `value` points to if it is of `kind`.
fn object_of<'p>(
    pickle: &'p Pickle<'_>,
    value: &Value,
    kind: GlobalKind,
) -> Option<(&'p Object, usize)> {
    object(pickle, value).filter(|(object, _)| object.class.kind == kind)
}

/// A few words on what `value` is, for a pickle that holds no model.
fn describe(pickle: &Pickle<'_>, value: &Value) -> String {
    let kind = match value {
        Value::None => "None",
        Value::Bool(_) => "a bool",
        Value::Int(_) | Value::BigInt => "an int",
        Value::Float(_) => "a float",
        Value::Str(_) => "a str",
        Value::Bytes(_) => "bytes",
        Value::Global(_) => "a class or function",
        Value::Node(_) => match pickle.node(value).map(|node| &node.content) {
            Some(Content::List(_)) => "a list",
            Some(Content::Tuple(_)) => "a tuple",
            Some(Content::Dict(_)) => "a dict",
            Some(Content::Set(_)) => "a set",
            Some(Content::Object(_)) | None => "an object",
        },
    };
    kind.to_owned()
}

/// A pickled numpy array (`_reconstruct(ndarray, (0,), b'b')` then `BUILD` with
/// `(1, shape, dtype, is_fortran, data)`) that must be a C-ordered 2-D little-endian float32;
/// `owner_at` is where the object holding it starts, for a value that is no array at all.
fn decode_array(
    pickle: &Pickle<'_>,
    value: &Value,
    attribute: &str,
    owner_at: usize,
) -> Result<Matrix, Located> {
    let invalid = |at: usize, problem: &str| {
        let problem = problem.to_owned();
        let attribute = attribute.to_owned();
        (at, GensimProblem::Array { attribute, problem })
    };
    let (array, at) = object_of(pickle, value, GlobalKind::Reconstruct)
        .ok_or_else(|| invalid(owner_at, "it is not a numpy array"))?;
    let state = array.state.as_ref().and_then(|state| pickle.node(state));
    let Some(Content::Tuple(state)) = state.map(|node| &node.content) else {
        return Err(invalid(at, "its state is missing"));
    };
    let [Value::Int(1), shape, dtype, Value::Bool(fortran), data] = &state[..] else {
        return Err(invalid(
            at,
            "its state is not numpy's (1, shape, dtype, order, data)",
        ));
    };
    let shape = match pickle.node(shape).map(|node| &node.content) {
        Some(Content::Tuple(dims)) => dims
            .iter()
            .map(|dim| match dim {
                Value::Int(dim) => usize::try_from(*dim).ok(),
                _ => None,
            })
            .collect::<Option<Vec<usize>>>(),
        _ => None,
    };
    let Some(&[rows, cols]) = shape.as_deref() else {
        return Err(invalid(at, "it is not a 2-D array"));
    };
    let dtype_name = dtype_name(pickle, dtype);
    if dtype_name != "<f4" {
        let attribute = attribute.to_owned();
        return Err((
            at,
            GensimProblem::Dtype {
                attribute,
                dtype: dtype_name,
            },
        ));
    }
    if *fortran {
        return Err(invalid(
            at,
            "it is in Fortran order, which gensim never saves",
        ));
    }
    let Value::Bytes(range) = data else {
        return Err(invalid(at, "its data is not bytes"));
    };
    let data = pickle.bytes(range);
    if rows.checked_mul(cols).and_then(|n| n.checked_mul(4)) != Some(data.len()) {
        let problem = format!(
            "its shape {rows} x {cols} does not match its {} bytes of float32",
            data.len()
        );
        return Err(invalid(at, &problem));
    }
    let values = data
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    Ok(Matrix { rows, cols, values })
}

/// numpy's name of a pickled dtype (`dtype('f4', False, True)` built with state
/// `(3, '<', ...)` is `<f4`), or a description of what stands in its place.
fn dtype_name(pickle: &Pickle<'_>, dtype: &Value) -> String {
    let Some((dtype, _)) = object_of(pickle, dtype, GlobalKind::Dtype) else {
        return "(not a dtype)".to_owned();
    };
    let name = match dtype.args.first() {
        Some(Value::Str(name)) => quote(name.as_bytes()),
        _ => "?".to_owned(),
    };
    let order = match dtype.state.as_ref().and_then(|state| pickle.node(state)) {
        Some(node) => match &node.content {
            Content::Tuple(state) => match state.get(1) {
                Some(Value::Str(order)) => quote(order.as_bytes()),
                _ => String::new(),
            },
            _ => String::new(),
        },
        None => String::new(),
    };
    format!("{order}{name}")
}

#[cfg(test)]
mod tests;
