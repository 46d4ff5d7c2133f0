//! Compiled programs: what the compiler produces and the VM runs.
//!
//! [`ProgramCode`] is plain data (no reference counts) so one compiled program can be
//! shared by every worker thread; each VM [`Program::load`]s it once, turning value
//! constants into values.

use std::rc::Rc;
use std::sync::Arc;

use flin_diagnostics::{FileId, Span};
use flin_syntax::Symbol;

use crate::opcode::{Constant, Op, Reg};
use crate::value::{Money, Str, Value};

/// Where a closure's capture comes from when the closure is made.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum CaptureFrom {
    /// A register of the frame making the closure.
    Register(Reg),
    /// A capture of the closure making the closure.
    Capture(u32),
}

/// One compiled function (a `fn`, a lambda, a file's top-level code, a test, a handler).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct FunctionCode {
    /// `None` for lambdas and top-level code.
    pub name: Option<Symbol>,
    pub file: FileId,
    pub span: Span,
    /// Parameters, in order: the first `arity` registers.
    pub arity: u16,
    pub param_names: Vec<Symbol>,
    pub n_registers: u16,
    pub code: Vec<Op>,
    /// The source span of each instruction, for runtime errors.
    pub spans: Vec<Span>,
    pub constants: Vec<Constant>,
    pub captures: Vec<CaptureFrom>,
    /// An event handler or `bind` setter made by markup: it runs as its own unit of
    /// work when the browser asks, never while the markup renders.
    pub handler: bool,
}

/// A `test "name" { … }` block.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct TestCode {
    pub name: String,
    pub function: u32,
    pub file: FileId,
    pub span: Span,
}

/// A `route METHOD { … }` block of a file under `app/` (web.md §5).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct RouteCode {
    pub file: FileId,
    /// `GET`, `POST` …
    pub method: String,
    pub function: u32,
    pub span: Span,
}

/// A scheduled job: an `every` or `cron` block (services.md §1).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct JobCode {
    /// `jobs/cleanup.flin:1`: its file from the project root and its place in the file.
    pub name: String,
    pub file: FileId,
    /// Its place among the file's jobs, from 1 (`run_job("jobs/x.flin:1")`).
    pub position: u32,
    pub schedule: Schedule,
    pub function: u32,
    pub span: Span,
}

/// When a job runs.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub enum Schedule {
    /// `every D [at "HH:MM"]`: `interval` is a function that gives `D`.
    Every { interval: u32, at: Option<String> },
    /// `cron "…"`: five fields, UTC.
    Cron(String),
}

/// A `ws { }` block of a file under `app/` (services.md §3): its handlers' functions
/// (`on message` takes the message).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct SocketCode {
    pub file: FileId,
    pub connect: Option<u32>,
    pub message: Option<u32>,
    pub close: Option<u32>,
}

/// A whole compiled program.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct ProgramCode {
    pub functions: Vec<FunctionCode>,
    /// File variables of every file, by index.
    pub globals: Vec<(FileId, Symbol)>,
    /// The top-level code of each file, by file.
    pub entries: Vec<(FileId, u32)>,
    pub tests: Vec<TestCode>,
    /// Every entity declared in the project (data.md §1).
    pub entities: Vec<flin_query::EntityDef>,
    /// Route blocks, by file.
    pub routes: Vec<RouteCode>,
    /// Files whose top-level code holds markup (pages, layouts, components).
    pub renders: Vec<FileId>,
    /// `layout "name"` (Some) or `layout none` (None) of the files that say one.
    pub layouts: Vec<(FileId, Option<String>)>,
    /// The `middleware { }` block of each `_middleware.flin`.
    pub middleware: Vec<(FileId, u32)>,
    /// Components (`components/Card.flin` is `Card`): their index in `views`.
    pub components: Vec<(String, u32)>,
    /// Every file with markup (pages, layouts, components), as a view renders it.
    pub views: Vec<ViewCode>,
    /// `every` and `cron` blocks, in file order.
    pub jobs: Vec<JobCode>,
    /// `ws` blocks, by file.
    pub sockets: Vec<SocketCode>,
}

/// A file with markup, split the way a live view runs it (web.md §2, §9): its top-level
/// code (`main`, in [`ProgramCode::entries`]) runs once when the page or instance is
/// made; its markup (`render`) runs on every render, reading the file's variables.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct ViewCode {
    pub file: FileId,
    pub main: u32,
    pub render: u32,
    /// The file's variables (indices into [`ProgramCode::globals`]): the state of a
    /// page, or of one component instance.
    pub globals: Vec<u32>,
    /// Its live values, in declaration order.
    pub live: Vec<LiveValueCode>,
    /// `on_mount { }` and `on_unmount { }` blocks, in order.
    pub on_mount: Vec<u32>,
    pub on_unmount: Vec<u32>,
    /// Whether its markup has an event attribute or `bind` (then a page is live even
    /// without live values).
    pub interactive: bool,
}

/// A top-level variable whose initializer reads the database (a query, `find`,
/// `count`, `search` …, directly or through the functions it calls), or, in a
/// component, its props: it runs again when what it reads changes (web.md §9).
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct LiveValueCode {
    /// The variable (an index into [`ProgramCode::globals`]).
    pub global: u32,
    /// A function of no argument that computes the initializer's value.
    pub function: u32,
    /// The file variables the initializer reads (through the file's functions too).
    pub reads: Vec<u32>,
    /// The entity types it reads.
    pub entities: Vec<String>,
    /// It reads `props` or `children` (a component's variable computed from its props).
    pub props: bool,
}

impl ProgramCode {
    /// The view of a file, if it has markup.
    pub fn view_of(&self, file: FileId) -> Option<&ViewCode> {
        self.views.iter().find(|v| v.file == file)
    }
}

/// A function ready to run: its code and its value constants.
#[derive(Debug)]
pub struct Function {
    pub code: Arc<ProgramCode>,
    pub index: u32,
    pub values: Vec<Value>,
    /// The instructions, copied out of the program so the dispatch loop reaches them
    /// in one step.
    pub ops: Box<[Op]>,
    pub arity: u16,
    pub n_registers: u16,
    /// Record shapes (`Constant::Shape`) by constant index, shared by every record
    /// the function makes.
    pub shapes: Vec<Option<Rc<[Symbol]>>>,
    /// The function each `Constant::Function` names, by constant index (`u32::MAX`
    /// for other constants), so a direct call finds its callee in one step.
    pub callees: Vec<u32>,
}

impl Function {
    pub fn code(&self) -> &FunctionCode {
        // `index` comes from the program it was loaded from.
        self.code
            .functions
            .get(self.index as usize)
            .unwrap_or(&EMPTY)
    }

    pub fn name(&self) -> Option<Symbol> {
        self.code().name
    }
}

static EMPTY: FunctionCode = FunctionCode {
    name: None,
    file: FileId(0),
    span: Span { start: 0, end: 0 },
    arity: 0,
    param_names: Vec::new(),
    n_registers: 0,
    code: Vec::new(),
    spans: Vec::new(),
    constants: Vec::new(),
    captures: Vec::new(),
    handler: false,
};

/// A program loaded into one VM.
#[derive(Debug)]
pub struct Program {
    pub code: Arc<ProgramCode>,
    pub functions: Vec<Rc<Function>>,
    /// The entity types, by index in `code.entities`.
    pub entities: Vec<Rc<crate::entity::EntityType>>,
    /// What each function may do ([`crate::writes`]).
    pub effects: crate::writes::Effects,
}

impl Program {
    pub fn load(code: Arc<ProgramCode>) -> Program {
        let functions = (0..code.functions.len() as u32)
            .map(|index| {
                let values = code
                    .functions
                    .get(index as usize)
                    .map(|f| f.constants.iter().map(constant_value).collect())
                    .unwrap_or_default();
                let ops = code
                    .functions
                    .get(index as usize)
                    .map(|f| f.code.clone().into_boxed_slice())
                    .unwrap_or_default();
                let (arity, n_registers) = code
                    .functions
                    .get(index as usize)
                    .map_or((0, 0), |f| (f.arity, f.n_registers));
                let shapes = code
                    .functions
                    .get(index as usize)
                    .map(|f| {
                        f.constants
                            .iter()
                            .map(|c| match c {
                                Constant::Shape(fields) => Some(Rc::from(fields.as_slice())),
                                _ => None,
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                let callees = code
                    .functions
                    .get(index as usize)
                    .map(|f| {
                        f.constants
                            .iter()
                            .map(|c| match c {
                                Constant::Function(callee) => *callee,
                                _ => u32::MAX,
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                Rc::new(Function {
                    code: code.clone(),
                    index,
                    values,
                    ops,
                    arity,
                    n_registers,
                    shapes,
                    callees,
                })
            })
            .collect();
        let entities = code
            .entities
            .iter()
            .map(|def| Rc::new(crate::entity::EntityType::new(def.clone())))
            .collect();
        let effects = crate::writes::Effects::of(&code);
        Program {
            code,
            functions,
            entities,
            effects,
        }
    }

    /// The entity type named `name`.
    pub fn entity(&self, name: &str) -> Option<&Rc<crate::entity::EntityType>> {
        self.entities.iter().find(|e| e.def.name == name)
    }

    /// Whether running the function may write the database.
    pub fn may_write(&self, index: u32) -> bool {
        self.effects
            .writes
            .get(index as usize)
            .copied()
            .unwrap_or(true)
    }

    /// Whether running the function may call a function value made elsewhere (whose
    /// effects it cannot know).
    pub fn calls_values(&self, index: u32) -> bool {
        let calls = &self.effects.calls_values;
        calls.get(index as usize).copied().unwrap_or(true)
    }

    pub fn function(&self, index: u32) -> Option<&Rc<Function>> {
        self.functions.get(index as usize)
    }
}

/// The value of a constant that is a value (others are read from the code).
fn constant_value(constant: &Constant) -> Value {
    match constant {
        Constant::Int(i) => Value::Int(*i),
        Constant::Number(n) => Value::Number(*n),
        Constant::Text(t) => Value::Text(Rc::new(Str::new(t.clone()))),
        Constant::Money { minor, currency } => {
            Money::new(*minor, *currency).map_or(Value::None, Value::Money)
        }
        Constant::Duration(d) => Value::Duration(*d),
        _ => Value::None,
    }
}

impl std::fmt::Display for ProgramCode {
    /// A listing of every function: its constants and instructions, for people working
    /// on the compiler (`flin run --bytecode`).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (index, function) in self.functions.iter().enumerate() {
            let name = function.name.map_or("<anonymous>", |n| n.as_str());
            writeln!(
                f,
                "fn {index} {name} (arity {}, {} registers)",
                function.arity, function.n_registers
            )?;
            for (k, constant) in function.constants.iter().enumerate() {
                writeln!(f, "  K{k} = {constant:?}")?;
            }
            for (pc, op) in function.code.iter().enumerate() {
                writeln!(f, "  {pc:4}  {op:?}")?;
            }
        }
        Ok(())
    }
}
