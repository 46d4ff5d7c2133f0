//! The instruction set: every opcode, its operands and its effect, in one place.
//!
//! Encoding: an instruction is one [`Op`] value of 8 bytes (a one-byte opcode and up to
//! six bytes of operands), so a function's code is a flat `Vec<Op>`:
//!
//! ```text
//!  byte  0        1..2      3..4      5..6
//!       +--------+---------+---------+---------+
//!       | opcode |    a    |    b    |    c    |     three registers (u16)
//!       +--------+---------+---------+---------+
//!       | opcode |    a    |      k (u32)      |     a register and a constant/target
//!       +--------+---------+-------------------+
//! ```
//!
//! Notation: `R[a]` is register `a` of the current frame; `K[k]` constant `k` of the
//! function; `G[k]` global (file variable) `k`; `C[k]` capture `k` of the running
//! closure; `pc` the next instruction. Registers are the function's locals first, then
//! temporaries. A call places the callee's arguments in consecutive registers starting
//! at `R[base+1]`; the callee's frame starts at `R[base+1]` and its result lands in
//! `R[base]`.
//!
//! Typed opcodes (`AddInt`, `LtNum` …) are emitted when the checker proved both operand
//! types; they still check what the spec requires (integer overflow is an error). The
//! generic ones (`Add`, `Lt` …) dispatch on the values' tags.
//!
//! Every function is verified when loaded (`verify.rs`): register operands are below
//! its register count, constants and jump targets exist. The interpreter relies on it.

use flin_syntax::Symbol;

pub type Reg = u16;

/// An operand that names no register (`Mark` without a key).
pub const NO_REG: Reg = u16::MAX;

#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "arbitrary", derive(arbitrary::Arbitrary))]
pub enum Op {
    // ---------------------------------------------------------------- loads
    /// R[a] = none
    LoadNone { a: Reg },
    /// R[a] = absent (an argument left out; the callee computes its default)
    LoadAbsent { a: Reg },
    /// R[a] = value
    LoadBool { a: Reg, value: bool },
    /// R[a] = value (small ints inline)
    LoadInt { a: Reg, value: i32 },
    /// R[a] = K[k]
    LoadConst { a: Reg, k: u32 },
    /// R[a] = R[b]
    Move { a: Reg, b: Reg },
    /// R[a] = G[k]; an error of kind "none" when G[k] was never assigned
    GetGlobal { a: Reg, k: u32 },
    /// G[k] = R[a]
    SetGlobal { a: Reg, k: u32 },
    /// R[a] = value of C[k] (through its cell when it has one)
    GetCapture { a: Reg, k: u32 },
    /// cell C[k] holds R[a]
    SetCapture { a: Reg, k: u32 },
    /// R[a] = a new cell holding R[b] (a local captured and assigned)
    NewCell { a: Reg, b: Reg },
    /// R[a] = value in cell R[b]
    GetCell { a: Reg, b: Reg },
    /// cell R[a] holds R[b]
    SetCell { a: Reg, b: Reg },

    // ---------------------------------------------------------------- arithmetic
    /// R[a] = R[b] + R[c] on ints; overflow is an error of kind "arithmetic"
    AddInt { a: Reg, b: Reg, c: Reg },
    /// R[a] = R[b] - R[c] on ints
    SubInt { a: Reg, b: Reg, c: Reg },
    /// R[a] = R[b] * R[c] on ints
    MulInt { a: Reg, b: Reg, c: Reg },
    /// R[a] = R[b] / R[c] on ints, truncating; zero divisor is an error
    DivInt { a: Reg, b: Reg, c: Reg },
    /// R[a] = R[b] % R[c] on ints, sign of the dividend; zero divisor is an error
    RemInt { a: Reg, b: Reg, c: Reg },
    /// R[a] = R[b] + R[c] on numbers (IEEE 754)
    AddNum { a: Reg, b: Reg, c: Reg },
    /// R[a] = R[b] - R[c] on numbers
    SubNum { a: Reg, b: Reg, c: Reg },
    /// R[a] = R[b] * R[c] on numbers
    MulNum { a: Reg, b: Reg, c: Reg },
    /// R[a] = R[b] / R[c] on numbers
    DivNum { a: Reg, b: Reg, c: Reg },
    /// R[a] = R[b] + R[c], by the operands' tags (money, durations, times, json, text)
    Add { a: Reg, b: Reg, c: Reg },
    /// R[a] = R[b] - R[c], by tags
    Sub { a: Reg, b: Reg, c: Reg },
    /// R[a] = R[b] * R[c], by tags
    Mul { a: Reg, b: Reg, c: Reg },
    /// R[a] = R[b] / R[c], by tags
    Div { a: Reg, b: Reg, c: Reg },
    /// R[a] = R[b] % R[c], by tags
    Rem { a: Reg, b: Reg, c: Reg },
    /// R[a] = R[b] + value on ints (`i += 1`, `n - 1`)
    AddIntImm { a: Reg, b: Reg, value: i16 },
    /// R[a] = R[b] * value on ints
    MulIntImm { a: Reg, b: Reg, value: i16 },
    /// R[a] = R[b] / value on ints (value is not 0)
    DivIntImm { a: Reg, b: Reg, value: i16 },
    /// R[a] = R[b] % value on ints (value is not 0)
    RemIntImm { a: Reg, b: Reg, value: i16 },
    /// R[a] = -R[b]
    Neg { a: Reg, b: Reg },
    /// R[a] = not R[b] (a bool, or an optional meaning "is none")
    Not { a: Reg, b: Reg },
    /// R[a] = display(R[b]) ++ display(R[c]) (text + anything)
    Concat { a: Reg, b: Reg, c: Reg },
    /// R[a] = the texts R[b], R[b+1] … R[b+c-1] joined (interpolation)
    JoinText { a: Reg, b: Reg, c: u16 },
    /// R[a] = display(R[b])
    ToText { a: Reg, b: Reg },
    /// R[a] = R[b] as a number (an int widened where a number is expected)
    ToNumber { a: Reg, b: Reg },
    /// R[a] = json R[a] converted to the type described by K[k]; an error of kind
    /// "type" naming the path when it does not fit
    FromJson { a: Reg, k: u32 },

    // ---------------------------------------------------------------- comparison
    /// R[a] = R[b] == R[c] (structural; entities by id)
    Eq { a: Reg, b: Reg, c: Reg },
    /// R[a] = R[b] != R[c]
    NotEq { a: Reg, b: Reg, c: Reg },
    /// R[a] = R[b] < R[c] (numbers, texts by scalar values, money, durations, times)
    Lt { a: Reg, b: Reg, c: Reg },
    /// R[a] = R[b] <= R[c]
    Le { a: Reg, b: Reg, c: Reg },
    /// R[a] = R[b] < R[c] on ints
    LtInt { a: Reg, b: Reg, c: Reg },
    /// R[a] = R[b] <= R[c] on ints
    LeInt { a: Reg, b: Reg, c: Reg },
    /// R[a] = R[b] < value on ints
    LtIntImm { a: Reg, b: Reg, value: i16 },
    /// R[a] = R[b] <= value on ints
    LeIntImm { a: Reg, b: Reg, value: i16 },
    /// R[a] = R[b] > value on ints
    GtIntImm { a: Reg, b: Reg, value: i16 },
    /// R[a] = R[b] >= value on ints
    GeIntImm { a: Reg, b: Reg, value: i16 },
    /// R[a] = R[b] == value on ints
    EqIntImm { a: Reg, b: Reg, value: i16 },
    /// R[a] = R[b] != value on ints
    NotEqIntImm { a: Reg, b: Reg, value: i16 },
    /// R[a] = R[b] in R[c] (element of a list, key of a map, part of a text)
    In { a: Reg, b: Reg, c: Reg },
    /// R[a] = R[a] is of the type described by K[k]
    Is { a: Reg, k: u32 },

    // ---------------------------------------------------------------- control
    /// pc = target
    Jump { target: u32 },
    /// if R[a] is true (or a present optional): pc = target
    JumpIf { a: Reg, target: u32 },
    /// if R[a] is false (or none): pc = target
    JumpIfNot { a: Reg, target: u32 },
    /// if R[a] is none: pc = target
    JumpIfNone { a: Reg, target: u32 },
    /// if R[a] is not none: pc = target (`a ?? b` keeps `a`)
    JumpIfSome { a: Reg, target: u32 },
    /// if not (R[a] < R[a+1]) on ints: pc = target (loop test of `for i in x..y`)
    JumpIfNotLtInt { a: Reg, target: u32 },
    /// R[a] += 1; if R[a] < R[a+1]: pc = target (the step and test that end each
    /// iteration of `for i in x..y`; R[a] < R[a+1] held, so the step cannot overflow)
    ForLoopInt { a: Reg, target: u32 },
    /// Compare-and-branch (the condition of an `if` or a loop fused with its jump by
    /// the compiler): unless R[a] < R[b] on ints, pc = target. The target is absolute
    /// and below 65,536 (the compiler keeps the two instructions otherwise).
    JumpUnlessLtInt { a: Reg, b: Reg, target: u16 },
    /// unless R[a] <= R[b] on ints: pc = target
    JumpUnlessLeInt { a: Reg, b: Reg, target: u16 },
    /// unless R[a] == R[b]: pc = target
    JumpUnlessEq { a: Reg, b: Reg, target: u16 },
    /// unless R[a] != R[b]: pc = target
    JumpUnlessNotEq { a: Reg, b: Reg, target: u16 },
    /// unless R[a] < value on ints: pc = target
    JumpUnlessLtIntImm { a: Reg, value: i16, target: u16 },
    /// unless R[a] <= value: pc = target
    JumpUnlessLeIntImm { a: Reg, value: i16, target: u16 },
    /// unless R[a] > value: pc = target
    JumpUnlessGtIntImm { a: Reg, value: i16, target: u16 },
    /// unless R[a] >= value: pc = target
    JumpUnlessGeIntImm { a: Reg, value: i16, target: u16 },
    /// unless R[a] == value: pc = target
    JumpUnlessEqIntImm { a: Reg, value: i16, target: u16 },
    /// unless R[a] != value: pc = target
    JumpUnlessNotEqIntImm { a: Reg, value: i16, target: u16 },
    /// if R[a] is not Absent: pc = target (skip a default parameter's code)
    JumpIfGiven { a: Reg, target: u32 },

    // ---------------------------------------------------------------- calls
    /// R[a] = R[a](R[a+1] … R[a+n]): call a function value
    Call { a: Reg, n: u16 },
    /// R[a] = function K[k](R[a+1] …): a direct call of a top-level function
    CallFn { a: Reg, k: u32 },
    /// R[a] = built-in b(R[a+1] … R[a+n])
    CallBuiltin { a: Reg, b: u16, n: u16 },
    /// R[a] = the method K[k] (a name and an argument count n) of R[a+1] with
    /// R[a+2] … R[a+n] as arguments, found at run time by the receiver's type (json and
    /// generic receivers)
    CallMethod { a: Reg, k: u32 },
    /// print R[a] … R[a+n-1] separated by spaces, then a newline (`print`, `log`)
    Print { a: Reg, n: u16 },
    /// return R[a]
    Return { a: Reg },
    /// R[a] = closure of function K[k], capturing what its capture list names
    Closure { a: Reg, k: u32 },

    // ---------------------------------------------------------------- data
    /// R[a] = [R[b] … R[b+c-1]] (temporaries: their values move into the list, and so
    /// for the other constructors)
    NewList { a: Reg, b: Reg, c: u16 },
    /// R[a] = map of the pairs R[b], R[b+1] … (c pairs)
    NewMap { a: Reg, b: Reg, c: u16 },
    /// R[a] = (R[b] … R[b+c-1])
    NewTuple { a: Reg, b: Reg, c: u16 },
    /// R[a] = record of shape K[k] with the values R[a+1] …
    NewRecord { a: Reg, k: u32 },
    /// R[a] = variant K[k] with the payload R[a+1] …
    NewVariant { a: Reg, k: u32 },
    /// R[a] = R[b][R[c]] (list, text, map, json, tuple)
    GetIndex { a: Reg, b: Reg, c: Reg },
    /// R[a] = R[b].get(R[c]): the value of a key of a map, or none
    MapGet { a: Reg, b: Reg, c: Reg },
    /// R[a].set(R[b], R[c]) on a map
    MapSet { a: Reg, b: Reg, c: Reg },
    /// R[a].push(R[b]) on a list
    ListPush { a: Reg, b: Reg },
    /// R[a] = R[b].length (a list, a text in characters, a map)
    Length { a: Reg, b: Reg },
    /// R[a][R[b]] = R[c]
    SetIndex { a: Reg, b: Reg, c: Reg },
    /// R[a] = field K[k] of R[a] (record, map, json, error, file …)
    GetField { a: Reg, k: u32 },
    /// field K[k] of R[a] = R[a+1]
    SetField { a: Reg, k: u32 },
    /// R[a] = field K[k] of R[b] (the common form, for constants numbered below 65,536)
    GetFieldOf { a: Reg, b: Reg, k: u16 },
    /// field K[k] of R[a] = R[b]
    SetFieldTo { a: Reg, b: Reg, k: u16 },
    /// R[a] = R[a][R[a+1]:R[a+2]] (none bounds are the ends)
    Slice { a: Reg },
    /// R[a] = payload item c of the enum value R[b]
    GetPayload { a: Reg, b: Reg, c: u16 },
    /// R[a] = R[a] is the variant K[k] (of its enum)
    IsVariant { a: Reg, k: u32 },
    /// R[a] = R[b] has length c (list patterns); with `c` high bit set: length ≥ c
    LenIs { a: Reg, b: Reg, c: u16 },
    /// R[a] = R[b][c:] (the rest of a list pattern)
    ListFrom { a: Reg, b: Reg, c: u16 },

    // ---------------------------------------------------------------- loops
    /// R[a] = iterator over R[b]: a list, map (keys), text (characters), json array
    IterStart { a: Reg, b: Reg },
    /// R[b] = next item of iterator R[a] and skip the next instruction; when done, go
    /// on to the next instruction (a `Jump` out of the loop)
    IterNext { a: Reg, b: Reg },

    // ---------------------------------------------------------------- errors
    /// from here, an error of this frame stores `Err(e)` in R[a] and jumps to target
    TryStart { a: Reg, target: u32 },
    /// the innermost `TryStart` of this frame no longer applies
    TryEnd,
    /// stop with an error of kind "runtime" and message R[a]
    Fail { a: Reg },
    /// stop with the error K[k] (`not_found()`, `error(…)` outside a request …)
    FailWith { k: u32 },
    /// unless R[a] is true, stop with a failed assertion described by K[k]; when K[k]
    /// says so, R[a+1] and R[a+2] are the two sides compared, shown in the report
    Assert { a: Reg, k: u32 },
    /// stop with an error of kind "none" naming K[k] (a value needed, none found)
    Unwrap { a: Reg, k: u32 },

    // ---------------------------------------------------------------- queries
    /// R[a] = the query of shape K[k] with its parameters R[a+1] … R[a+n]
    QueryNew { a: Reg, k: u32 },
    /// R[a] = the query R[a] followed by the steps of shape K[k], whose parameters are
    /// R[a+1] … R[a+n] (`q.where(…)` on a query value)
    QueryThen { a: Reg, k: u32 },
    /// R[a] = what the store answers to the query R[a] for terminal K[k] (the rows, a
    /// count …); a list in R[a] is already rows and stays as it is
    QueryRun { a: Reg, k: u32 },

    // ---------------------------------------------------------------- entities (data.md)
    /// R[a] = a new entity of type K[k] with the declared fields R[a+1] … in order
    NewEntity { a: Reg, k: u32 },
    /// `save` / `delete` / `restore` / `destroy` (op: [`crate::host::PersistOp`] as u8)
    /// of the entity or list of entities in R[a]
    Persist { a: Reg, op: u8 },
    /// R[a] = R[a] @ R[b]: a version of an entity, or none
    TimeTravel { a: Reg, b: Reg },
    /// R[a] = every version of the row of entity type K[k] with id R[a]
    EntityHistory { a: Reg, k: u32 },
    /// `transaction {`: a nested atomic block starts
    TxBegin,

    // ---------------------------------------------------------------- pages (web.md §2)
    /// Appends the text constant K[k] to the page being rendered, as it is (HTML)
    Emit { k: u32 },
    /// Appends R[a] to the page, displayed and HTML-escaped (`{expr}`, attribute values)
    EmitValue { a: Reg },
    /// Appends R[a] to the page as trusted HTML (`{raw(x)}`, `{children}`)
    EmitRaw { a: Reg },
    /// R[a] = the context value named K[k] (`params`, `query`, `body`, `session` …)
    LoadContext { a: Reg, k: u32 },
    /// Starts rendering into a buffer of its own (a component's children)
    CaptureBegin,
    /// R[a] = the HTML rendered since the matching `CaptureBegin`
    CaptureEnd { a: Reg },
    /// Renders component K[k] (a name) with props R[a] and children R[a+1]: a kept
    /// instance of a live view gets its state back, a new one runs the component's code
    RenderComponent { a: Reg, k: u32 },
    /// Marks the structure of the page being rendered ([`crate::host::Mark`] as u8) for
    /// live diffing; for `ItemOpen`, R[a] is the item's key (`a` = [`NO_REG`]: by position)
    Mark { a: Reg, kind: u8 },
    /// Appends the live attribute of an event handler: R[a] the handler (a closure),
    /// K[k] the event and its modifiers as written (`keydown.enter`)
    EmitHandler { a: Reg, k: u32 },
    /// Appends the live attribute of `bind`: R[a] the setter (a closure of one value),
    /// K[k] how the browser's value converts (`text`, `int`, `number`, `bool`)
    EmitBind { a: Reg, k: u32 },
    /// Adds R[a] (HTML) to the document head (`<head>` content, `<style>`)
    EmitHead { a: Reg },
    /// `validate { … }`: checks the request body against K[k]; after it, `body` is
    /// the record of the validated fields
    ValidateBody { k: u32 },
    /// `}` of a transaction block: its writes join the enclosing unit
    TxEnd,
}

/// Constants a function refers to. Plain data (no reference counts), so compiled
/// programs can be shared between threads; the VM turns value constants into values
/// once when it loads a program.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Constant {
    Int(i64),
    Number(f64),
    Text(Box<str>),
    Money {
        minor: i64,
        currency: u16,
    },
    Duration(i64),
    /// A name: a field, a method, a variable.
    Name(Symbol),
    /// A method found at run time: its name and how many values it takes, the
    /// receiver included.
    Method {
        name: Symbol,
        n_args: u16,
    },
    /// The field names of a record literal.
    Shape(Vec<Symbol>),
    /// An enum variant and its payload's size.
    Variant {
        enum_name: Symbol,
        variant: Symbol,
        arity: u16,
    },
    /// A function of the program (direct calls, closures).
    Function(u32),
    /// A type test or conversion target (`is`, json conversion).
    Type(TypeTest),
    /// An error raised as it is (`not_found()`, `error(404, …)`).
    Error {
        #[serde(deserialize_with = "static_kind")]
        kind: ErrorKind,
        message: Box<str>,
        status: Option<u16>,
    },
    /// The text of an assertion, for its failure report, and whether the two sides of
    /// its comparison are kept for it.
    Assertion {
        text: Box<str>,
        values: bool,
    },
    /// The shape of a query chain (or of the steps added to a query value).
    Query(std::sync::Arc<flin_query::QueryShape>),
    /// What a query brings back.
    Terminal(flin_query::Terminal),
    /// An entity type: its index in [`crate::program::ProgramCode::entities`].
    Entity(u32),
    /// The fields a `validate { }` block asks of a request body (web.md §5).
    Validate(std::sync::Arc<flin_query::EntityDef>),
}

/// The kind of an error raised by a constant (named apart: serde would borrow a bare
/// `&str` from its input).
pub type ErrorKind = &'static str;

/// An error kind read back from a bundle: the kinds the compiler writes.
fn static_kind<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<&'static str, D::Error> {
    let text = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(deserializer)?;
    const KINDS: &[&str] = &[
        "runtime",
        "arithmetic",
        "index",
        "none",
        "type",
        "parse",
        "validation",
        "constraint",
        "not_found",
        "limit",
        "http",
        "database",
        "assertion",
    ];
    KINDS
        .iter()
        .find(|k| **k == text)
        .copied()
        .ok_or_else(|| serde::de::Error::custom(format!("unknown error kind `{text}`")))
}

/// What `is` tests and what a json value converts to.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum TypeTest {
    Int,
    Number,
    Text,
    Bool,
    Time,
    Duration,
    Money,
    None,
    List(Box<TypeTest>),
    Map(Box<TypeTest>),
    Record(Vec<(Symbol, TypeTest)>),
    Json,
    Optional(Box<TypeTest>),
    Enum(Symbol),
    /// An uploaded file (services.md §2).
    File,
    Any,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_instruction_is_8_bytes() {
        assert_eq!(std::mem::size_of::<Op>(), 8);
    }
}
