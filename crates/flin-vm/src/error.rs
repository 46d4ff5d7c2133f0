//! Runtime errors (language.md §9, §14): a kind, a message, the fields of a validation
//! error, and the FLIN stack where it happened.

use flin_diagnostics::{Diagnostic, FileId, Span};
use flin_syntax::Symbol;

use crate::value::ErrorValue;

/// One frame of the FLIN stack: the function and the place in it.
#[derive(Clone, Debug, PartialEq)]
pub struct TraceEntry {
    pub function: Option<Symbol>,
    pub file: FileId,
    pub span: Span,
}

/// Caller frames drawn under a runtime error; deeper ones are counted in a note.
const MAX_CALLERS_SHOWN: usize = 12;

#[derive(Clone, Debug, PartialEq)]
pub struct RuntimeError {
    /// "arithmetic", "index", "none", "type", "parse", "validation", "constraint",
    /// "not_found", "limit" or "runtime" (language.md §14).
    pub kind: &'static str,
    pub message: String,
    /// For validation errors: field → message.
    pub fields: Vec<(String, String)>,
    /// An HTTP status chosen by the program (`error(409, …)`).
    pub status: Option<u16>,
    /// Innermost first.
    pub trace: Vec<TraceEntry>,
}

impl RuntimeError {
    pub fn new(kind: &'static str, message: impl Into<String>) -> RuntimeError {
        RuntimeError {
            kind,
            message: message.into(),
            fields: Vec::new(),
            status: None,
            trace: Vec::new(),
        }
    }

    pub fn arithmetic(message: impl Into<String>) -> RuntimeError {
        RuntimeError::new("arithmetic", message)
    }

    pub fn index(message: impl Into<String>) -> RuntimeError {
        RuntimeError::new("index", message)
    }

    pub fn none(message: impl Into<String>) -> RuntimeError {
        RuntimeError::new("none", message)
    }

    pub fn type_error(message: impl Into<String>) -> RuntimeError {
        RuntimeError::new("type", message)
    }

    pub fn limit(message: impl Into<String>) -> RuntimeError {
        RuntimeError::new("limit", message)
    }

    /// A unit of work that ran out of time or steps: a server answers 504 (other
    /// limits, such as call depth, are the program's error: 500).
    pub fn timeout(message: impl Into<String>) -> RuntimeError {
        let mut err = RuntimeError::new("limit", message);
        err.status = Some(504);
        err
    }

    /// A unit of work that needed more memory than it may hold
    /// (`server.request_memory`): a server answers 503 and lives on.
    pub fn memory(limit: usize) -> RuntimeError {
        let mut err = RuntimeError::new(
            "limit",
            format!(
                "this needed more than {} MB of memory, the most one request (server.request_memory) or script may hold",
                limit / (1024 * 1024)
            ),
        );
        err.status = Some(503);
        err
    }

    /// Out of time, steps or memory: the unit of work ends here, whatever `try` it
    /// runs in.
    pub fn ends_unit(&self) -> bool {
        self.kind == "limit" && matches!(self.status, Some(503 | 504))
    }

    pub fn runtime(message: impl Into<String>) -> RuntimeError {
        RuntimeError::new("runtime", message)
    }

    /// The error as a FLIN value (`e` in `Err(e)`).
    pub fn to_value(&self) -> ErrorValue {
        ErrorValue {
            kind: self.kind,
            message: self.message.clone(),
            fields: self.fields.clone(),
        }
    }

    pub fn from_value(value: &ErrorValue) -> RuntimeError {
        RuntimeError {
            kind: value.kind,
            message: value.message.clone(),
            fields: value.fields.clone(),
            status: None,
            trace: Vec::new(),
        }
    }

    /// The error as a diagnostic: the message at the innermost FLIN line, each caller as
    /// a note ("called from here").
    pub fn to_diagnostic(&self) -> Option<Diagnostic> {
        let innermost = self.trace.first()?;
        let code: &'static str = self.kind;
        let mut diagnostic =
            Diagnostic::error(code, innermost.file, innermost.span, self.message.clone())
                .with_label(match innermost.function {
                    Some(name) => format!("in `{name}`"),
                    None => "here".to_string(),
                });
        // Deep recursion leaves thousands of identical frames: a run of them is shown
        // once with its count, and only the innermost callers are shown at all.
        let mut shown = 0;
        let mut callers = self.trace.iter().skip(1).peekable();
        while let Some(caller) = callers.next() {
            let mut repeats = 1;
            while callers.next_if(|next| *next == caller).is_some() {
                repeats += 1;
            }
            if shown == MAX_CALLERS_SHOWN {
                let rest = repeats + callers.count();
                diagnostic = diagnostic.with_help(format!("{rest} more callers are not shown"));
                break;
            }
            shown += 1;
            let mut label = match caller.function {
                Some(name) => format!("called from `{name}`"),
                None => "called from here".to_string(),
            };
            if repeats > 1 {
                label.push_str(&format!(" ({repeats} times)"));
            }
            diagnostic = diagnostic.with_secondary(caller.file, caller.span, label);
        }
        if !self.fields.is_empty() {
            let names: Vec<String> = self.fields.iter().map(|(f, _)| format!("`{f}`")).collect();
            let help = format!(
                "failing fields: {}; nothing was saved (`try` turns the error into a value whose `.fields` maps each field to its message)",
                names.join(", ")
            );
            diagnostic.help = Some(match diagnostic.help.take() {
                Some(before) => format!("{before}; {help}"),
                None => help,
            });
        }
        Some(diagnostic)
    }
}

impl std::fmt::Display for RuntimeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} error: {}", self.kind, self.message)
    }
}

impl std::error::Error for RuntimeError {}
