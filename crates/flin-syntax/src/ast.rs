//! The syntax tree of one FLIN file, with a span on every node.
//!
//! One statement type covers everything a file can hold (declarations, route and service
//! blocks, markup, plain statements); where a construct may stand (an `entity` only at the
//! top level, say) is checked by the parser and reported, not encoded in the types, so a
//! misplaced construct still parses and later phases see the whole file.
//!
//! Names are interned [`Symbol`]s with their span. Text literals keep their decoded pieces
//! and the interpolated expressions between them.

use flin_diagnostics::Span;

use crate::Symbol;
use crate::lexer::DurationUnit;

/// A parsed file.
#[derive(Clone, Debug, PartialEq)]
pub struct File {
    pub stmts: Vec<Stmt>,
    pub span: Span,
}

/// A name as written, with where it was written.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Name {
    pub sym: Symbol,
    pub span: Span,
}

impl Name {
    pub fn as_str(&self) -> &'static str {
        self.sym.as_str()
    }
}

impl std::fmt::Debug for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}@{:?}", self.sym.as_str(), self.span)
    }
}

/// `{ stmt … }`
#[derive(Clone, Debug, PartialEq)]
pub struct Block {
    pub stmts: Vec<Stmt>,
    pub span: Span,
}

// ---------------------------------------------------------------- statements

#[derive(Clone, PartialEq)]
pub struct Stmt {
    pub kind: StmtKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum StmtKind {
    /// An expression whose value is used as the block's value or dropped.
    Expr(Expr),
    /// `x = e`, `x: T = e`, `a.b[i] = e`, `x += e` …
    Assign(Assign),
    /// `x++`, `x--`
    Step {
        target: Expr,
        op: StepOp,
    },
    If(If),
    /// `for x in xs { }`, `for x, i in xs { }`
    For(For),
    While {
        cond: Expr,
        body: Block,
    },
    Break,
    Continue,
    Return(Option<Expr>),
    /// `save e`, `delete e`, `restore e`, `destroy e`
    Persist {
        op: PersistOp,
        target: Expr,
    },
    /// `transaction { }`
    Transaction(Block),
    /// `assert cond`
    Assert(Expr),
    /// A bare block `{ … }`.
    Block(Block),

    // ---- declarations (top level only) ----
    Entity(EntityDecl),
    Enum(EnumDecl),
    TypeAlias {
        name: Name,
        ty: Type,
    },
    Fn(FnDecl),
    /// `test "name" { }`
    Test {
        name: Text,
        body: Block,
    },

    // ---- web and services (web.md, services.md) ----
    /// `route GET { }`
    Route {
        method: Method,
        method_span: Span,
        body: Block,
    },
    /// `validate { field: type @decorators … }`
    Validate(Vec<Field>),
    /// `middleware { }`
    Middleware(Block),
    /// `guard auth`, `guard role("admin")`
    Guard(Guard),
    /// `guard_definition plan(min: int) { }`
    GuardDefinition {
        name: Name,
        params: Vec<Param>,
        body: Block,
    },
    /// `layout "admin"` or `layout none`
    Layout(Option<Text>),
    /// `ws { on connect { } on message(msg) { } … }`
    Ws(Vec<WsHandler>),
    /// `every 1.hours [at "03:30"] { }`
    Every {
        interval: Expr,
        at: Option<Text>,
        body: Block,
    },
    /// `cron "*/15 * * * *" { }`
    Cron {
        schedule: Text,
        body: Block,
    },
    /// `on_mount { }`, `on_unmount { }`
    Lifecycle {
        event: Lifecycle,
        body: Block,
    },

    /// Markup at the top level of a page, component or layout.
    Markup(Markup),
    /// Something that could not be parsed; its error was reported.
    Error,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Assign {
    pub target: Expr,
    /// `x: T = e`
    pub ty: Option<Type>,
    pub op: AssignOp,
    pub value: Expr,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AssignOp {
    Set,
    Add,
    Sub,
    Mul,
    Div,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StepOp {
    Increment,
    Decrement,
}

#[derive(Clone, Debug, PartialEq)]
pub struct If {
    pub cond: Expr,
    pub then_block: Block,
    pub else_branch: Option<Else>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Else {
    If(Box<If>, Span),
    Block(Block),
}

#[derive(Clone, Debug, PartialEq)]
pub struct For {
    pub item: Name,
    pub index: Option<Name>,
    pub iter: Expr,
    pub body: Block,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PersistOp {
    Save,
    Delete,
    Restore,
    Destroy,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    pub fn parse(text: &str) -> Option<Method> {
        Some(match text {
            "GET" => Method::Get,
            "POST" => Method::Post,
            "PUT" => Method::Put,
            "PATCH" => Method::Patch,
            "DELETE" => Method::Delete,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lifecycle {
    Mount,
    Unmount,
}

// ---------------------------------------------------------------- declarations

/// `entity Book { title: text @required … }`
#[derive(Clone, Debug, PartialEq)]
pub struct EntityDecl {
    pub name: Name,
    pub fields: Vec<Field>,
}

/// `name: Type [@decorator …] [= default]` in an entity or a `validate` block.
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    pub name: Name,
    pub ty: Type,
    pub decorators: Vec<Decorator>,
    pub default: Option<Expr>,
    pub span: Span,
}

/// `@maxLength(200)`, `@required`
#[derive(Clone, Debug, PartialEq)]
pub struct Decorator {
    pub name: Name,
    pub args: Vec<Expr>,
    pub span: Span,
}

/// `enum Shape { Dot, Circle(number) }`
#[derive(Clone, Debug, PartialEq)]
pub struct EnumDecl {
    pub name: Name,
    pub variants: Vec<Variant>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Variant {
    pub name: Name,
    pub payload: Vec<Type>,
    pub span: Span,
}

/// `fn name<T>(a: T, b = 1) -> R { }`
#[derive(Clone, Debug, PartialEq)]
pub struct FnDecl {
    pub name: Name,
    pub generics: Vec<Name>,
    pub params: Vec<Param>,
    pub ret: Option<Type>,
    pub body: Block,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    pub name: Name,
    pub ty: Option<Type>,
    pub default: Option<Expr>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Guard {
    pub name: Name,
    /// `None` for `guard auth`, `Some` for `guard role("admin")`.
    pub args: Option<Vec<Arg>>,
}

/// `on message(msg) { }`
#[derive(Clone, Debug, PartialEq)]
pub struct WsHandler {
    pub event: Name,
    pub param: Option<Name>,
    pub body: Block,
    pub span: Span,
}

// ---------------------------------------------------------------- types

#[derive(Clone, PartialEq)]
pub struct Type {
    pub kind: TypeKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum TypeKind {
    /// `int`, `Book`, `Result<T, E>`
    Named {
        name: Name,
        args: Vec<Type>,
    },
    /// `semantic text`
    SemanticText,
    /// `T?`
    Optional(Box<Type>),
    /// `[T]`
    List(Box<Type>),
    /// `[K: V]`
    Map(Box<Type>, Box<Type>),
    /// `{name: text, age: int}`
    Record(Vec<(Name, Type)>),
    /// `(A, B)`
    Tuple(Vec<Type>),
    /// `(A, B) -> R`
    Function {
        params: Vec<Type>,
        ret: Box<Type>,
    },
    Error,
}

// ---------------------------------------------------------------- expressions

#[derive(Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    Int(i64),
    Number(f64),
    /// `12.50 EUR`: the amount in the currency's minor units (1250) and the canonical
    /// currency code (`CFA` is written `XOF`).
    Money {
        minor: i64,
        currency: Symbol,
    },
    /// `1.5.hours`: the length in microseconds and the unit it was written in.
    Duration {
        micros: i64,
        unit: DurationUnit,
    },
    Text(Text),
    Bool(bool),
    None,
    Name(Name),
    /// `[a, b]`
    List(Vec<Expr>),
    /// `{ "a": 1 }`, `[:]`
    Map(Vec<(Expr, Expr)>),
    /// `{ name: "Ada" }`
    Record(Vec<(Name, Expr)>),
    /// `(a, b)`
    Tuple(Vec<Expr>),
    /// `Book { title: "x" }`
    EntityLit {
        entity: Name,
        fields: Vec<(Name, Expr)>,
    },
    Unary {
        op: UnaryOp,
        operand: Box<Expr>,
    },
    Binary {
        op: BinaryOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    /// `c ? a : b` and `if c then a else b`
    Conditional {
        cond: Box<Expr>,
        then_value: Box<Expr>,
        else_value: Box<Expr>,
    },
    /// `x is T`
    Is {
        value: Box<Expr>,
        ty: Type,
    },
    /// `a..b`, `a..=b`
    Range {
        start: Box<Expr>,
        end: Box<Expr>,
        inclusive: bool,
    },
    Call {
        callee: Box<Expr>,
        args: Vec<Arg>,
    },
    /// `a.b`, `a?.b`, `t.0`
    Member {
        object: Box<Expr>,
        member: Member,
        optional: bool,
    },
    /// `a[i]`
    Index {
        object: Box<Expr>,
        index: Box<Expr>,
    },
    /// `a[i:j]`
    Slice {
        object: Box<Expr>,
        start: Option<Box<Expr>>,
        end: Option<Box<Expr>>,
    },
    /// `b @ -1`, `b @ "2026-03-01"` (data.md §5)
    TimeTravel {
        entity: Box<Expr>,
        at: Box<Expr>,
    },
    /// `x => x * 2`, `(a, b) => { … }`, `fn(x) { … }`
    Lambda(Box<Lambda>),
    Match {
        scrutinee: Box<Expr>,
        arms: Vec<Arm>,
    },
    /// `try e`
    Try(Box<Expr>),
    /// `search q in E by f …` (search.md §2)
    Search(Box<Search>),
    /// `response { status: 201, body: n }`
    Response(Vec<(Name, Expr)>),
    /// A `{ … }` block used as a value (a lambda or match-arm body).
    Block(Block),
    /// Something that could not be parsed; its error was reported.
    Error,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnaryOp {
    Not,
    Neg,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinaryOp {
    Pipe,
    Or,
    Coalesce,
    And,
    Eq,
    NotEq,
    In,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

impl BinaryOp {
    pub fn as_str(self) -> &'static str {
        match self {
            BinaryOp::Pipe => "|>",
            BinaryOp::Or => "||",
            BinaryOp::Coalesce => "??",
            BinaryOp::And => "&&",
            BinaryOp::Eq => "==",
            BinaryOp::NotEq => "!=",
            BinaryOp::In => "in",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Rem => "%",
        }
    }
}

/// A call argument, positional or named (`page(n: 2)`).
#[derive(Clone, Debug, PartialEq)]
pub struct Arg {
    pub name: Option<Name>,
    pub value: Expr,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Member {
    Named(Name),
    /// `.0` of a tuple
    Index(u32, Span),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Lambda {
    pub params: Vec<Param>,
    pub ret: Option<Type>,
    pub body: Expr,
}

/// A text literal: its decoded pieces with the interpolated expressions between them.
/// `parts` alternate freely; a text without interpolation has one `Str` part (or none
/// when empty).
#[derive(Clone, PartialEq)]
pub struct Text {
    pub parts: Vec<TextPart>,
    pub span: Span,
}

impl Text {
    /// The text's value when it has no interpolation.
    pub fn as_plain(&self) -> Option<String> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                TextPart::Str(text) => out.push_str(text),
                TextPart::Interp(_) => return None,
            }
        }
        Some(out)
    }
}

#[derive(Clone, PartialEq)]
pub enum TextPart {
    Str(String),
    Interp(Expr),
}

/// A plain text prints as its value (`"paid"`); one with interpolation as its parts.
impl std::fmt::Debug for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.as_plain() {
            Some(plain) => write!(f, "{plain:?}"),
            None => f.debug_list().entries(&self.parts).finish(),
        }
    }
}

impl std::fmt::Debug for TextPart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TextPart::Str(text) => write!(f, "{text:?}"),
            TextPart::Interp(expr) => std::fmt::Debug::fmt(expr, f),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Arm {
    pub pattern: Pattern,
    pub guard: Option<Expr>,
    pub body: Expr,
    pub span: Span,
}

#[derive(Clone, PartialEq)]
pub struct Pattern {
    pub kind: PatternKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum PatternKind {
    /// `_`
    Wildcard,
    /// A literal: an int, number, text, bool, `none`, money or duration (negative
    /// numbers as `Unary(Neg)`).
    Literal(Expr),
    /// `1..=5`
    Range {
        start: Expr,
        end: Expr,
        inclusive: bool,
    },
    /// A lower-case name binds the value.
    Binding(Name),
    /// `Dot`, `Circle(r)`, `Shape.Rect(w, h)`, `Ok(v)`
    Variant {
        path: Vec<Name>,
        args: Option<Vec<Pattern>>,
    },
    /// `(a, _)`
    Tuple(Vec<Pattern>),
    /// `[first, ..rest]`; `rest` is `Some(None)` for a bare `..`.
    List {
        items: Vec<Pattern>,
        rest: Option<Option<Name>>,
    },
    /// `"due" | "late"`
    Or(Vec<Pattern>),
    Error,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Search {
    pub query: Expr,
    pub entity: Name,
    pub field: Name,
    pub mode: Option<SearchMode>,
    pub filter: Option<Expr>,
    pub limit: Option<Expr>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum SearchMode {
    Keyword(Span),
    Semantic(Span),
    /// `hybrid(0.3, 0.7)`: keyword and semantic weights, or the defaults.
    Hybrid {
        weights: Option<(Expr, Expr)>,
        span: Span,
    },
}

// ---------------------------------------------------------------- markup

#[derive(Clone, PartialEq)]
pub struct Markup {
    pub kind: MarkupKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum MarkupKind {
    Element(Element),
    /// Text between tags, as written (HTML entities are left as they are). Text that is
    /// only blanks and holds a line break is source layout and is not kept.
    Text(String),
    /// The raw content of `<style>` or `<script>`.
    Raw(String),
    /// `{expr}`
    Expr(Expr),
    /// `{if c}…{else if d}…{else}…{/if}`
    If {
        branches: Vec<MarkupBranch>,
        else_body: Option<Vec<Markup>>,
    },
    /// `{for x, i in xs key k}…{empty}…{/for}`
    For(Box<MarkupFor>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct MarkupBranch {
    pub cond: Expr,
    pub body: Vec<Markup>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct MarkupFor {
    pub item: Name,
    pub index: Option<Name>,
    pub iter: Expr,
    pub key: Option<Expr>,
    pub body: Vec<Markup>,
    pub empty: Option<Vec<Markup>>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Element {
    pub name: Name,
    /// `PascalCase` tags are components; lower-case ones are HTML.
    pub is_component: bool,
    pub attrs: Vec<Attribute>,
    pub children: Vec<Markup>,
    /// Written `<x />` (or a void element such as `<br>`): no children, no closing tag.
    pub self_closing: bool,
}

/// `class="a {b}"`, `value={x}`, `disabled`, `class:active={on}`, `keydown.enter={…}`
#[derive(Clone, Debug, PartialEq)]
pub struct Attribute {
    /// `class` in `class:active`; `None` for a plain attribute.
    pub namespace: Option<Name>,
    pub name: Name,
    /// `.enter`, `.debounce(300)`
    pub modifiers: Vec<Modifier>,
    pub value: AttrValue,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Modifier {
    pub name: Name,
    pub arg: Option<i64>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum AttrValue {
    /// `disabled`
    Present,
    /// `class="card {kind}"`, or an unquoted `type=text`
    Text(Text),
    /// `value={x}`, `click={save b; editing = false}`: one or more statements.
    Code(Block),
}

/// Nodes print as `@start..end Kind(…)`: one line less per node than the derived form,
/// which keeps tree snapshots readable.
macro_rules! debug_with_span {
    ($($node:ident),*) => {$(
        impl std::fmt::Debug for $node {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "@{:?} ", self.span)?;
                std::fmt::Debug::fmt(&self.kind, f)
            }
        }
    )*};
}

debug_with_span!(Stmt, Type, Expr, Pattern, Markup);
