//! A Python pickle reader that only builds values: it interprets the opcodes of protocols 2 to 5
//! into plain data (numbers, strings, byte ranges, lists, tuples, dicts) and records a call to
//! one of the few callables gensim's files name as an [`Object`] with its class and arguments,
//! never calling anything. A pickle naming any other callable (`os.system`, `builtins.eval`, ...)
//! is refused when its name is read.
//!
//! Why not `serde-pickle`: it keeps no name for a global it does not know (every unknown callable
//! becomes the same opaque value), and `BUILD` replaces an object by its state, losing numpy's
//! dtype name (`f4`) and the class of gensim's objects; so it can neither refuse `os.system` by
//! name nor tell a float32 matrix from an int32 one.
//!
//! Containers live in an arena and values point into it, so a memoized list or object that later
//! opcodes fill (`SETITEMS`, `BUILD`) is seen filled wherever the pickle refers to it, as in Python.
//! Nothing here recurses, so deep nesting cannot overflow the stack.

use std::collections::HashMap;
use std::ops::Range;

use super::allow_list::{Global, allowed};
use super::problem::GensimProblem;

/// A pickled value; containers are [`Value::Node`]s in [`Pickle`]'s arena.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Value {
    /// Python's `None`.
    None,
    /// A bool.
    Bool(bool),
    /// An int that fits in 64 bits.
    Int(i64),
    /// An int too large for 64 bits (kept only as "some int").
    BigInt,
    /// A float.
    Float(f64),
    /// A str.
    Str(String),
    /// A bytes or bytearray: where its content lies in the pickle.
    Bytes(Range<usize>),
    /// One of the callables gensim's files name.
    Global(Global),
    /// A container or object, by its index in the arena.
    Node(usize),
}

/// A call recorded instead of made: `class(*args)`, then `BUILD`'s state.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Object {
    /// The callable.
    pub(super) class: Global,
    /// Its positional arguments.
    pub(super) args: Vec<Value>,
    /// The state `BUILD` gave it, if any.
    pub(super) state: Option<Value>,
}

/// The content of an arena node.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Content {
    /// A list.
    List(Vec<Value>),
    /// A tuple.
    Tuple(Vec<Value>),
    /// A dict, items in pickle order.
    Dict(Vec<(Value, Value)>),
    /// A set or frozenset.
    Set(Vec<Value>),
    /// A recorded call.
    Object(Object),
}

/// An arena node: its content and the byte offset of the opcode that made it.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Node {
    /// Offset of the opcode that created it, for messages.
    pub(super) at: usize,
    /// What it holds.
    pub(super) content: Content,
}

/// A parsed pickle: the value `STOP` returned and the arena its containers live in.
#[derive(Debug)]
pub(super) struct Pickle<'a> {
    bytes: &'a [u8],
    nodes: Vec<Node>,
    /// The pickled value.
    pub(super) root: Value,
}

impl<'a> Pickle<'a> {
    /// Interprets `bytes` up to its `STOP` opcode.
    pub(super) fn parse(bytes: &'a [u8]) -> Result<Self, (usize, GensimProblem)> {
        let mut machine = Machine {
            input: Input { bytes, pos: 0 },
            stack: Vec::new(),
            marks: Vec::new(),
            memo: HashMap::new(),
            nodes: Vec::new(),
        };
        let root = machine.run()?;
        Ok(Pickle {
            bytes,
            nodes: machine.nodes,
            root,
        })
    }

    /// The arena node `value` points to, if it is one.
    pub(super) fn node(&self, value: &Value) -> Option<&Node> {
        match value {
            Value::Node(id) => self.nodes.get(*id),
            _ => None,
        }
    }

    /// The bytes a [`Value::Bytes`] refers to.
    pub(super) fn bytes(&self, range: &Range<usize>) -> &'a [u8] {
        &self.bytes[range.clone()]
    }
}

/// The bytes being read and the read position.
struct Input<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Input<'a> {
    /// The next `len` bytes.
    fn take(&mut self, len: u64) -> Result<&'a [u8], GensimProblem> {
        let available = self.bytes.len() - self.pos;
        let len = usize::try_from(len)
            .ok()
            .filter(|&len| len <= available)
            .ok_or(GensimProblem::TruncatedPickle)?;
        let taken = &self.bytes[self.pos..self.pos + len];
        self.pos += len;
        Ok(taken)
    }

    /// The range of the next `len` bytes.
    fn take_range(&mut self, len: u64) -> Result<Range<usize>, GensimProblem> {
        let start = self.pos;
        self.take(len)?;
        Ok(start..self.pos)
    }

    fn u8(&mut self) -> Result<u8, GensimProblem> {
        Ok(self.take(1)?[0])
    }

    /// A little-endian unsigned integer of `N` bytes.
    fn le<const N: usize>(&mut self) -> Result<u64, GensimProblem> {
        let mut buf = [0u8; 8];
        buf[..N].copy_from_slice(self.take(N as u64)?);
        Ok(u64::from_le_bytes(buf))
    }

    /// A line ending in `\n` (the text arguments of `GLOBAL`), without the newline.
    fn line(&mut self) -> Result<&'a [u8], GensimProblem> {
        let rest = &self.bytes[self.pos..];
        let end = rest
            .iter()
            .position(|&b| b == b'\n')
            .ok_or(GensimProblem::TruncatedPickle)?;
        self.pos += end + 1;
        Ok(&rest[..end])
    }
}

/// The pickle virtual machine's state.
struct Machine<'a> {
    input: Input<'a>,
    stack: Vec<Value>,
    marks: Vec<usize>,
    memo: HashMap<u64, Value>,
    nodes: Vec<Node>,
}

impl Machine<'_> {
    /// Runs opcodes until `STOP`; an error carries the offset of the opcode that failed.
    fn run(&mut self) -> Result<Value, (usize, GensimProblem)> {
        loop {
            let at = self.input.pos;
            match self.step(at) {
                Ok(Some(value)) => return Ok(value),
                Ok(None) => {}
                Err(problem) => return Err((at, problem)),
            }
        }
    }

    /// Executes one opcode; `Some` with the result at `STOP`.
    fn step(&mut self, at: usize) -> Result<Option<Value>, GensimProblem> {
        let opcode = self.input.u8()?;
        match opcode {
            b'\x80' => {
                let protocol = self.input.u8()?;
                if !(2..=5).contains(&protocol) {
                    return Err(GensimProblem::Protocol(protocol));
                }
            }
            // FRAME: a length hint for buffered readers; the opcodes follow as usual.
            b'\x95' => {
                self.input.le::<8>()?;
            }
            b'.' => return self.pop().map(Some),
            b'(' => self.marks.push(self.stack.len()),
            b'0' => {
                self.pop()?;
            }
            b'1' => {
                self.pop_mark()?;
            }
            b'2' => {
                let top = self
                    .stack
                    .last()
                    .cloned()
                    .ok_or(GensimProblem::EmptyStack)?;
                self.stack.push(top);
            }
            b'N' => self.stack.push(Value::None),
            b'\x88' => self.stack.push(Value::Bool(true)),
            b'\x89' => self.stack.push(Value::Bool(false)),
            b'J' => {
                let value = self.input.le::<4>()? as u32 as i32;
                self.stack.push(Value::Int(value.into()));
            }
            b'K' => {
                let value = self.input.le::<1>()?;
                self.stack.push(Value::Int(value as i64));
            }
            b'M' => {
                let value = self.input.le::<2>()?;
                self.stack.push(Value::Int(value as i64));
            }
            b'\x8a' => {
                let len = self.input.le::<1>()?;
                let digits = self.input.take(len)?;
                self.stack.push(long(digits));
            }
            b'\x8b' => {
                let len = self.input.le::<4>()? as u32 as i32;
                let len = u64::try_from(len).map_err(|_| GensimProblem::TruncatedPickle)?;
                let digits = self.input.take(len)?;
                self.stack.push(long(digits));
            }
            b'G' => {
                let bits = u64::from_be_bytes(self.input.take(8)?.try_into().unwrap_or([0; 8]));
                self.stack.push(Value::Float(f64::from_bits(bits)));
            }
            b'\x8c' => {
                let len = self.input.le::<1>()?;
                self.push_str(len)?;
            }
            b'X' => {
                let len = self.input.le::<4>()?;
                self.push_str(len)?;
            }
            b'\x8d' => {
                let len = self.input.le::<8>()?;
                self.push_str(len)?;
            }
            b'C' => {
                let len = self.input.le::<1>()?;
                self.push_bytes(len)?;
            }
            b'B' => {
                let len = self.input.le::<4>()?;
                self.push_bytes(len)?;
            }
            b'\x8e' | b'\x96' => {
                let len = self.input.le::<8>()?;
                self.push_bytes(len)?;
            }
            b']' => self.push_node(at, Content::List(Vec::new())),
            b'}' => self.push_node(at, Content::Dict(Vec::new())),
            b')' => self.push_node(at, Content::Tuple(Vec::new())),
            b'\x8f' => self.push_node(at, Content::Set(Vec::new())),
            b'l' => {
                let items = self.pop_mark()?;
                self.push_node(at, Content::List(items));
            }
            b't' => {
                let items = self.pop_mark()?;
                self.push_node(at, Content::Tuple(items));
            }
            b'\x85' | b'\x86' | b'\x87' => {
                let len = usize::from(opcode - b'\x84');
                let start = self
                    .stack
                    .len()
                    .checked_sub(len)
                    .ok_or(GensimProblem::EmptyStack)?;
                let items = self.stack.split_off(start);
                self.push_node(at, Content::Tuple(items));
            }
            b'd' => {
                let items = pairs(self.pop_mark()?)?;
                self.push_node(at, Content::Dict(items));
            }
            b'\x91' => {
                let items = self.pop_mark()?;
                self.push_node(at, Content::Set(items));
            }
            b'a' => {
                let item = self.pop()?;
                self.extend_list(vec![item])?;
            }
            b'e' => {
                let items = self.pop_mark()?;
                self.extend_list(items)?;
            }
            b's' => {
                let value = self.pop()?;
                let key = self.pop()?;
                self.extend_dict(vec![(key, value)])?;
            }
            b'u' => {
                let items = pairs(self.pop_mark()?)?;
                self.extend_dict(items)?;
            }
            b'\x90' => {
                let items = self.pop_mark()?;
                match self.top_content()? {
                    Content::Set(set) => set.extend(items),
                    _ => return Err(GensimProblem::BadOperand("ADDITEMS")),
                }
            }
            b'\x94' => {
                let top = self
                    .stack
                    .last()
                    .cloned()
                    .ok_or(GensimProblem::EmptyStack)?;
                self.memo.insert(self.memo.len() as u64, top);
            }
            b'q' => {
                let index = self.input.le::<1>()?;
                self.put(index)?;
            }
            b'r' => {
                let index = self.input.le::<4>()?;
                self.put(index)?;
            }
            b'h' => {
                let index = self.input.le::<1>()?;
                self.get(index)?;
            }
            b'j' => {
                let index = self.input.le::<4>()?;
                self.get(index)?;
            }
            b'c' => {
                let module = self.input.line()?;
                let name = self.input.line()?;
                let global = allowed(module, name)?;
                self.stack.push(Value::Global(global));
            }
            b'\x93' => {
                let name = self.pop()?;
                let module = self.pop()?;
                let (Value::Str(module), Value::Str(name)) = (module, name) else {
                    return Err(GensimProblem::BadOperand("STACK_GLOBAL"));
                };
                let global = allowed(module.as_bytes(), name.as_bytes())?;
                self.stack.push(Value::Global(global));
            }
            b'R' | b'\x81' => {
                let args = self.pop()?;
                let class = self.pop()?;
                self.record_call(at, class, args)?;
            }
            b'\x92' => {
                self.pop()?; // keyword arguments: no allowed class takes any that matter here
                let args = self.pop()?;
                let class = self.pop()?;
                self.record_call(at, class, args)?;
            }
            b'b' => {
                let state = self.pop()?;
                match self.top_content()? {
                    Content::Object(object) => object.state = Some(state),
                    _ => return Err(GensimProblem::BadOperand("BUILD")),
                }
            }
            other => return Err(GensimProblem::Opcode(other)),
        }
        Ok(None)
    }

    fn pop(&mut self) -> Result<Value, GensimProblem> {
        // A MARK above the top means the pickle pops into a marked frame: malformed.
        if self.marks.last() == Some(&self.stack.len()) {
            return Err(GensimProblem::EmptyStack);
        }
        self.stack.pop().ok_or(GensimProblem::EmptyStack)
    }

    /// The values pushed since the last MARK.
    fn pop_mark(&mut self) -> Result<Vec<Value>, GensimProblem> {
        let mark = self.marks.pop().ok_or(GensimProblem::NoMark)?;
        Ok(self.stack.split_off(mark.min(self.stack.len())))
    }

    fn push_node(&mut self, at: usize, content: Content) {
        self.nodes.push(Node { at, content });
        self.stack.push(Value::Node(self.nodes.len() - 1));
    }

    fn push_str(&mut self, len: u64) -> Result<(), GensimProblem> {
        let bytes = self.input.take(len)?;
        let text = std::str::from_utf8(bytes).map_err(|_| GensimProblem::NotUtf8)?;
        self.stack.push(Value::Str(text.to_owned()));
        Ok(())
    }

    fn push_bytes(&mut self, len: u64) -> Result<(), GensimProblem> {
        let range = self.input.take_range(len)?;
        self.stack.push(Value::Bytes(range));
        Ok(())
    }

    fn put(&mut self, index: u64) -> Result<(), GensimProblem> {
        let top = self
            .stack
            .last()
            .cloned()
            .ok_or(GensimProblem::EmptyStack)?;
        self.memo.insert(index, top);
        Ok(())
    }

    fn get(&mut self, index: u64) -> Result<(), GensimProblem> {
        let value = self
            .memo
            .get(&index)
            .cloned()
            .ok_or(GensimProblem::MissingMemo(index))?;
        self.stack.push(value);
        Ok(())
    }

    /// The content of the container on top of the stack (below any MARK).
    fn top_content(&mut self) -> Result<&mut Content, GensimProblem> {
        let top = match self.stack.last() {
            Some(Value::Node(id)) => *id,
            Some(_) => return Err(GensimProblem::BadOperand("a container opcode")),
            None => return Err(GensimProblem::EmptyStack),
        };
        Ok(&mut self.nodes[top].content)
    }

    fn extend_list(&mut self, items: Vec<Value>) -> Result<(), GensimProblem> {
        match self.top_content()? {
            Content::List(list) => list.extend(items),
            _ => return Err(GensimProblem::BadOperand("APPEND")),
        }
        Ok(())
    }

    /// `SETITEM(S)`, on dicts only: no class on the allow list is a dict subclass (such as
    /// `defaultdict`), so items set on an object would be a file gensim never writes.
    fn extend_dict(&mut self, items: Vec<(Value, Value)>) -> Result<(), GensimProblem> {
        match self.top_content()? {
            Content::Dict(dict) => dict.extend(items),
            _ => return Err(GensimProblem::BadOperand("SETITEM")),
        }
        Ok(())
    }

    /// `REDUCE`/`NEWOBJ`: records the call of an allowed callable with a tuple of arguments.
    fn record_call(&mut self, at: usize, class: Value, args: Value) -> Result<(), GensimProblem> {
        let Value::Global(class) = class else {
            return Err(GensimProblem::BadOperand("REDUCE"));
        };
        let args = match self.stack_node(&args) {
            Some(Content::Tuple(args)) => args.clone(),
            _ => return Err(GensimProblem::BadOperand("REDUCE")),
        };
        let object = Object {
            class,
            args,
            state: None,
        };
        self.push_node(at, Content::Object(object));
        Ok(())
    }

    fn stack_node(&self, value: &Value) -> Option<&Content> {
        match value {
            Value::Node(id) => self.nodes.get(*id).map(|node| &node.content),
            _ => None,
        }
    }
}

/// A `LONG1`/`LONG4` integer: little-endian two's complement.
fn long(digits: &[u8]) -> Value {
    if digits.len() > 8 {
        return Value::BigInt;
    }
    let negative = digits.last().is_some_and(|&b| b & 0x80 != 0);
    let mut buf = [if negative { 0xff } else { 0 }; 8];
    buf[..digits.len()].copy_from_slice(digits);
    Value::Int(i64::from_le_bytes(buf))
}

/// Key-value pairs from the flat list `SETITEMS` and `DICT` take.
fn pairs(items: Vec<Value>) -> Result<Vec<(Value, Value)>, GensimProblem> {
    if items.len() % 2 != 0 {
        return Err(GensimProblem::BadOperand("SETITEMS"));
    }
    let mut items = items.into_iter();
    let mut out = Vec::with_capacity(items.len() / 2);
    while let (Some(key), Some(value)) = (items.next(), items.next()) {
        out.push((key, value));
    }
    Ok(out)
}
