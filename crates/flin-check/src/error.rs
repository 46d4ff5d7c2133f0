//! The checker's errors and warnings as data, and the one place that turns them into
//! text (STYLE.md, house rule 6): lowercase messages that say what is wrong in the
//! user's terms, a label naming the span, and a `help:` line with the fix.
//!
//! Codes: E03xx names and types, E04xx entities, queries and data, E05xx web and
//! services. Each code is listed in docs/architecture.md.

use flin_diagnostics::{Diagnostic, FileId, Span};
use flin_syntax::Symbol;

use crate::suggest::did_you_mean;
use crate::ty::Ty;

/// A place in another file (or this one), for "first declared here".
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Place {
    pub file: FileId,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum CheckError {
    // ---- names
    UnknownName {
        span: Span,
        name: Symbol,
        candidates: Vec<Symbol>,
    },
    NotAValue {
        span: Span,
        name: Symbol,
    },
    UnknownType {
        span: Span,
        name: Symbol,
        candidates: Vec<Symbol>,
    },
    TypeArity {
        span: Span,
        name: Symbol,
        expected: usize,
        found: usize,
    },
    Duplicate {
        span: Span,
        name: Symbol,
        what: &'static str,
        first: Place,
    },
    ShadowsBuiltin {
        span: Span,
        name: Symbol,
    },
    UnknownField {
        span: Span,
        field: Symbol,
        owner: String,
        candidates: Vec<Symbol>,
    },
    UnknownMethod {
        span: Span,
        method: Symbol,
        ty: Ty,
        candidates: Vec<Symbol>,
    },
    UnknownVariant {
        span: Span,
        variant: Symbol,
        owner: Symbol,
        candidates: Vec<Symbol>,
        declared: Option<Place>,
    },
    UnknownComponent {
        span: Span,
        name: Symbol,
        candidates: Vec<Symbol>,
    },
    UnknownProp {
        span: Span,
        prop: Symbol,
        component: Symbol,
        candidates: Vec<Symbol>,
    },
    UnknownLayout {
        span: Span,
        name: String,
        candidates: Vec<Symbol>,
    },

    // ---- types
    Mismatch {
        span: Span,
        expected: Ty,
        found: Ty,
        what: &'static str,
    },
    NotAFamily {
        span: Span,
        found: Ty,
        wanted: &'static str,
    },
    OperatorTypes {
        span: Span,
        op: &'static str,
        left: Ty,
        right: Ty,
    },
    MaybeNone {
        span: Span,
        what: String,
        ty: Ty,
    },
    NotCallable {
        span: Span,
        ty: Ty,
    },
    ArgCount {
        span: Span,
        callee: String,
        expected: usize,
        found: usize,
    },
    UnknownArgName {
        span: Span,
        callee: String,
        name: Symbol,
        candidates: Vec<Symbol>,
    },
    NeedsAnnotation {
        span: Span,
        name: String,
        hint: &'static str,
    },
    NotIterable {
        span: Span,
        ty: Ty,
    },
    NotIndexable {
        span: Span,
        ty: Ty,
    },
    NotAssignable {
        span: Span,
        what: &'static str,
    },
    CannotInfer {
        span: Span,
        what: String,
    },
    GenericUsedAsConcrete {
        span: Span,
        param: Symbol,
        ty: Ty,
    },
    ConditionNotBool {
        span: Span,
        found: Ty,
    },
    ReturnOutsideFunction {
        span: Span,
    },
    BreakOutsideLoop {
        span: Span,
        word: &'static str,
    },
    /// In a `where`, a field hides a variable of the same name.
    FieldShadowsVariable {
        span: Span,
        name: Symbol,
        entity: Symbol,
    },

    // ---- match
    NonExhaustive {
        span: Span,
        missing: Vec<String>,
    },
    UnreachableArm {
        span: Span,
    },
    PatternMismatch {
        span: Span,
        expected: Ty,
        what: String,
    },

    // ---- entities and data
    FieldTypeNotStorable {
        span: Span,
        field: Symbol,
        ty: Ty,
    },
    UnknownDecorator {
        span: Span,
        name: Symbol,
        candidates: Vec<Symbol>,
    },
    DecoratorArgs {
        span: Span,
        name: Symbol,
        expected: &'static str,
    },
    DecoratorNotApplicable {
        span: Span,
        name: Symbol,
        ty: Ty,
        applies_to: &'static str,
    },
    MissingFields {
        span: Span,
        entity: Symbol,
        fields: Vec<Symbol>,
        /// Where each missing field is declared.
        declared: Vec<Place>,
    },
    AutoFieldSet {
        span: Span,
        field: Symbol,
    },
    NotAnEntity {
        span: Span,
        what: &'static str,
        ty: Ty,
    },
    VersionZero {
        span: Span,
    },
    BadDate {
        span: Span,
        text: String,
    },
    UntranslatableQuery {
        span: Span,
        reason: String,
        help: String,
    },
    NotSearchable {
        span: Span,
        entity: Symbol,
        field: Symbol,
    },
    BadOrderDirection {
        span: Span,
    },

    // ---- web and services
    BindNotAssignable {
        span: Span,
    },
    BadTimeOfDay {
        span: Span,
        text: String,
    },
    /// `every 3.hours at "03:30"`: `at` needs an interval in days.
    AtNeedsDays {
        span: Span,
    },
    BadCron {
        span: Span,
        reason: String,
    },
    UnknownGuard {
        span: Span,
        name: Symbol,
        candidates: Vec<Symbol>,
    },
    UnknownWsEvent {
        span: Span,
        name: Symbol,
    },
    ContextOnly {
        span: Span,
        name: Symbol,
        place: &'static str,
    },
}

impl CheckError {
    pub fn span(&self) -> Span {
        use CheckError::*;
        match self {
            UnknownName { span, .. }
            | NotAValue { span, .. }
            | UnknownType { span, .. }
            | TypeArity { span, .. }
            | Duplicate { span, .. }
            | ShadowsBuiltin { span, .. }
            | UnknownField { span, .. }
            | UnknownMethod { span, .. }
            | UnknownVariant { span, .. }
            | UnknownComponent { span, .. }
            | UnknownProp { span, .. }
            | UnknownLayout { span, .. }
            | Mismatch { span, .. }
            | NotAFamily { span, .. }
            | OperatorTypes { span, .. }
            | MaybeNone { span, .. }
            | NotCallable { span, .. }
            | ArgCount { span, .. }
            | UnknownArgName { span, .. }
            | NeedsAnnotation { span, .. }
            | NotIterable { span, .. }
            | NotIndexable { span, .. }
            | NotAssignable { span, .. }
            | CannotInfer { span, .. }
            | GenericUsedAsConcrete { span, .. }
            | ConditionNotBool { span, .. }
            | ReturnOutsideFunction { span }
            | BreakOutsideLoop { span, .. }
            | FieldShadowsVariable { span, .. }
            | NonExhaustive { span, .. }
            | UnreachableArm { span }
            | PatternMismatch { span, .. }
            | FieldTypeNotStorable { span, .. }
            | UnknownDecorator { span, .. }
            | DecoratorArgs { span, .. }
            | DecoratorNotApplicable { span, .. }
            | MissingFields { span, .. }
            | AutoFieldSet { span, .. }
            | NotAnEntity { span, .. }
            | VersionZero { span }
            | BadDate { span, .. }
            | UntranslatableQuery { span, .. }
            | NotSearchable { span, .. }
            | BadOrderDirection { span }
            | BindNotAssignable { span }
            | BadTimeOfDay { span, .. }
            | BadCron { span, .. }
            | AtNeedsDays { span }
            | UnknownGuard { span, .. }
            | UnknownWsEvent { span, .. }
            | ContextOnly { span, .. } => *span,
        }
    }

    /// Turns the error into the diagnostic the user reads.
    pub fn into_diagnostic(self, file: FileId) -> Diagnostic {
        use CheckError::*;
        let span = self.span();
        let error = |code: &'static str, message: String, label: &str| {
            Diagnostic::error(code, file, span, message).with_label(label)
        };
        let suggest = |name: &Symbol, candidates: &[Symbol]| {
            did_you_mean(name.as_str(), candidates).map(|c| format!("did you mean `{c}`?"))
        };
        let with = |d: Diagnostic, help: Option<String>| match help {
            Some(help) => d.with_help(help),
            None => d,
        };
        match self {
            UnknownName { name, candidates, .. } => with(
                error("E0310", format!("unknown name `{name}`"), "not declared here"),
                suggest(&name, &candidates).or(Some(format!("declare it first (`{name} = …`), or check the spelling"))),
            ),
            NotAValue { name, .. } => error("E0316", format!("`{name}` is a type, not a value"), "a type here")
                .with_help(format!("read its rows with `{name}.all` or `{name}.find(id)`, or make one with `{name} {{ … }}`; for an enum, name a variant: `{name}.Variant`")),
            UnknownType { name, candidates, .. } => with(
                error("E0301", format!("unknown type `{name}`"), "not a type"),
                suggest(&name, &candidates)
                    .or(Some("types are int, number, text, bool, time, duration, money, file, json, or an entity, enum or type you declare".into())),
            ),
            TypeArity { name, expected, found, .. } => error(
                "E0311",
                format!("`{name}` takes {expected} type argument{}, found {found}", plural(expected)),
                "wrong number of type arguments",
            ),
            Duplicate { name, what, first, .. } => error("E0303", format!("`{name}` is declared twice"), &format!("second {what} named `{name}`"))
                .with_secondary(first.file, first.span, "first declared here")
                .with_help("rename one of them; names of entities, enums, types and functions must be unique where both are visible"),
            ShadowsBuiltin { name, .. } => Diagnostic::warning("W0304", file, span, format!("`{name}` hides the built-in function of that name"))
                .with_label("shadows a built-in")
                .with_help("calls to `{name}` in this project now reach this declaration; rename it to keep the built-in".replace("{name}", name.as_str())),
            UnknownField { field, owner, candidates, .. } => with(
                error("E0302", format!("unknown field `{field}` on {owner}"), &format!("not a field of {owner}")),
                suggest(&field, &candidates),
            ),
            UnknownMethod { method, ty, candidates, .. } => with(
                error("E0312", format!("`{ty}` has no field or method `{method}`"), "not found"),
                suggest(&method, &candidates),
            ),
            UnknownVariant { variant, owner, candidates, declared, .. } => {
                let d = with(
                    error("E0313", format!("enum `{owner}` has no variant `{variant}`"), "not a variant"),
                    suggest(&variant, &candidates),
                );
                match declared {
                    Some(place) => d.with_secondary(place.file, place.span, format!("`{owner}` is declared here")),
                    None => d,
                }
            }
            UnknownComponent { name, candidates, .. } => with(
                error("E0314", format!("unknown component `<{name}>`"), "no component of this name"),
                suggest(&name, &candidates).or(Some(format!("components are found by file name: create `components/{name}.flin`"))),
            ),
            UnknownProp { prop, component, candidates, .. } => with(
                error("E0317", format!("component `<{component}>` has no prop `{prop}`"), "not read by the component"),
                suggest(&prop, &candidates).or(Some(format!(
                    "a component's props are the `props.NAME` it reads; `<{component}>` reads {}",
                    if candidates.is_empty() {
                        "none".to_string()
                    } else {
                        candidates.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ")
                    }
                ))),
            ),
            UnknownLayout { name, candidates, .. } => with(
                error("E0315", format!("unknown layout \"{name}\""), "no layout of this name"),
                did_you_mean(&name, &candidates)
                    .map(|c| format!("did you mean \"{c}\"?"))
                    .or(Some(format!("layouts are found by file name: create `layouts/{name}.flin`"))),
            ),
            Mismatch { expected, found, what, .. } => error(
                "E0320",
                format!("expected `{expected}`, found `{found}`"),
                &format!("{what} is `{found}`"),
            )
            .with_help(mismatch_help(&expected, &found)),
            NotAFamily { found, wanted, .. } => error("E0321", format!("expected {wanted}, found `{found}`"), &format!("this is `{found}`")),
            OperatorTypes { op, left, right, .. } => error(
                "E0322",
                format!("`{op}` cannot combine `{left}` and `{right}`"),
                "these operands do not fit",
            )
            .with_help(operator_help(op, &left, &right)),
            MaybeNone { what, ty, .. } => error("E0323", format!("{what} may be `none`"), &format!("this is `{ty}`"))
                .with_help("check it first (`if x { … }`), give a fallback (`x ?? value`), or use `?.`"),
            NotCallable { ty, .. } => error("E0324", format!("`{ty}` is not a function"), "called here"),
            ArgCount { callee, expected, found, .. } => error(
                "E0325",
                format!("`{callee}` takes {expected} argument{}, found {found}", plural(expected)),
                "wrong number of arguments",
            ),
            UnknownArgName { callee, name, candidates, .. } => with(
                error("E0326", format!("`{callee}` has no parameter `{name}`"), "no such parameter"),
                suggest(&name, &candidates),
            ),
            NeedsAnnotation { name, hint, .. } => error("E0327", format!("cannot tell the type of {name}"), "type unknown here")
                .with_help(hint),
            NotIterable { ty, .. } => error("E0328", format!("cannot loop over `{ty}`"), "not a list, query, map or range")
                .with_help("`for` takes a list, a query, a map or a range such as `0..10`"),
            NotIndexable { ty, .. } => error("E0329", format!("`{ty}` cannot be indexed"), "indexed here")
                .with_help("`[ ]` reads lists, texts, maps and json values"),
            NotAssignable { what, .. } => error("E0330", format!("cannot assign to {what}"), "not assignable"),
            CannotInfer { what, .. } => error("E0331", format!("cannot infer the type of {what}"), "type unknown")
                .with_help("add a type annotation, as `xs: [int] = []`"),
            GenericUsedAsConcrete { param, ty, .. } => error(
                "E0332",
                format!("`{param}` is a type parameter, but the body uses it as `{ty}`"),
                "not generic",
            )
            .with_help(format!("write `{ty}` instead of `{param}`, or keep the body generic")),
            ConditionNotBool { found, .. } => error("E0333", format!("a condition must be `bool`, found `{found}`"), "not a condition")
                .with_help("compare it (`x > 0`, `s != \"\"`), or test an optional for `none` with `if x`"),
            ReturnOutsideFunction { .. } => error("E0334", "`return` outside of a function".into(), "nothing to return from")
                .with_help("a script, route or handler ends with its last statement; `return` belongs in a `fn`"),
            BreakOutsideLoop { word, .. } => error("E0335", format!("`{word}` outside of a loop"), "no loop here"),
            FieldShadowsVariable { name, entity, .. } => Diagnostic::warning(
                "W0413",
                file,
                span,
                format!("inside `where`, `{name}` is the field of {entity}, not the variable `{name}`"),
            )
            .with_label("the field")
            .with_help(format!("to compare with the variable, give it another name (`{name}_value = {name}`) and use that")),
            NonExhaustive { missing, .. } => error(
                "E0340",
                format!("`match` does not cover {}", missing.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(", ")),
                "some values have no arm",
            )
            .with_help(format!("add an arm for {}, or a final `_ -> …`", missing.join(", "))),
            UnreachableArm { .. } => Diagnostic::warning("W0341", file, span, "this arm can never be reached")
                .with_label("earlier arms cover it")
                .with_help("remove it, or move it before the arm that covers it"),
            PatternMismatch { expected, what, .. } => {
                error("E0342", format!("{what} cannot match a value of type `{expected}`"), &format!("the value is `{expected}`"))
            }
            FieldTypeNotStorable { field, ty, .. } => error(
                "E0401",
                format!("field `{field}` has type `{ty}`, which an entity cannot store"),
                "not storable",
            )
            .with_help("entity fields are text, int, number, bool, time, duration, money, file, semantic text, an enum, another entity, [Entity], [text] or [int], or optionals of these"),
            UnknownDecorator { name, candidates, .. } => with(
                error("E0402", format!("unknown decorator `@{name}`"), "not a decorator"),
                suggest(&name, &candidates),
            ),
            DecoratorArgs { name, expected, .. } => error("E0403", format!("`@{name}` takes {expected}"), "wrong arguments"),
            DecoratorNotApplicable { name, ty, applies_to, .. } => error(
                "E0404",
                format!("`@{name}` does not apply to a `{ty}` field"),
                "not for this type",
            )
            .with_help(format!("`@{name}` applies to {applies_to}")),
            MissingFields { entity, fields, declared, .. } => declared.iter().fold(error(
                "E0405",
                format!(
                    "`{entity}` needs {} {}",
                    if fields.len() == 1 { "the field" } else { "the fields" },
                    fields.iter().map(|f| format!("`{f}`")).collect::<Vec<_>>().join(", ")
                ),
                "required fields missing",
            )
            .with_help(format!("give {}, or make the field optional (`?`) or give it a default", fields.iter().map(|f| format!("`{f}: …`")).collect::<Vec<_>>().join(", "))),
                |d, place| d.with_secondary(place.file, place.span, "required here"),
            ),
            AutoFieldSet { field, .. } => error("E0406", format!("`{field}` is set by the database"), "automatic field")
                .with_help("`id`, `version`, `created_at`, `updated_at` and `deleted_at` are kept by FlinDB; leave them out"),
            NotAnEntity { what, ty, .. } => error("E0407", format!("{what} takes an entity, found `{ty}`"), "not an entity"),
            VersionZero { .. } => error("E0408", "`@ 0` is not a version".into(), "versions count from 1")
                .with_help("`@ 1` is the first version, `@ -1` the one before the current"),
            BadDate { text, .. } => error("E0409", format!("\"{text}\" is not a date or time"), "not a date")
                .with_help("write a date as \"2026-03-01\", or a time as \"2026-03-01T09:15:00Z\""),
            UntranslatableQuery { reason, help, .. } => {
                error("E0410", format!("this condition cannot run in the database: {reason}"), "not translatable").with_help(help)
            }
            NotSearchable { entity, field, .. } => error(
                "E0411",
                format!("`{entity}.{field}` is not searchable"),
                "no search index",
            )
            .with_help(format!("mark it `{field}: text @search` for keyword search, or `{field}: semantic text` for search by meaning")),
            BadOrderDirection { .. } => error("E0412", "the order direction must be \"asc\" or \"desc\"".into(), "not a direction"),
            BindNotAssignable { .. } => error("E0501", "`bind` needs a variable or a field".into(), "not assignable")
                .with_help("bind a page variable (`bind={draft}`) or an entity field (`bind={book.title}`)"),
            BadTimeOfDay { text, .. } => error("E0502", format!("\"{text}\" is not a time of day"), "not HH:MM")
                .with_help("write the time in UTC as \"HH:MM\", as \"03:30\""),
            BadCron { reason, .. } => error("E0503", format!("invalid cron schedule: {reason}"), "not a cron expression")
                .with_help("write five fields: minute hour day-of-month month day-of-week, as \"*/15 9-17 * * MON-FRI\""),
            AtNeedsDays { .. } => error("E0507", "`at` needs an interval in whole days".into(), "not days")
                .with_help("write `every 1.days at \"03:30\"`, or drop `at` to run every interval from the server's start"),
            UnknownGuard { name, candidates, .. } => with(
                error("E0504", format!("unknown guard `{name}`"), "not a guard"),
                suggest(&name, &candidates).or(Some(
                    "built-in guards are auth, role(…), rate_limit(n, seconds), api_key and same_origin; declare others with `guard_definition`".into(),
                )),
            ),
            UnknownWsEvent { name, .. } => error("E0505", format!("unknown WebSocket event `{name}`"), "not an event")
                .with_help("handlers are `on connect`, `on message(msg)` and `on close`"),
            ContextOnly { name, place, .. } => error("E0506", format!("`{name}` is only available {place}"), "not available here"),
        }
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn mismatch_help(expected: &Ty, found: &Ty) -> String {
    match (expected, found) {
        (Ty::Int, Ty::Number) => "use `.round`, `.floor` or `.ceil` to turn a number into an int".into(),
        (Ty::Int, Ty::Text) | (Ty::Number, Ty::Text) => "convert the text with `to_int(…)` or `to_number(…)`, which give `none` when it is not a number".into(),
        (Ty::Text, _) => "convert it with `to_text(…)`, or interpolate it: \"{value}\"".into(),
        (inner, Ty::Optional(value)) if **value == *inner => {
            "the value may be `none`: check it first (`if x { … }`) or give a fallback (`x ?? value`)".into()
        }
        (Ty::Map(..), Ty::Record(fields)) if fields.is_empty() => {
            "an empty map is written `[:]` (`{}` is an empty record)".into()
        }
        _ => format!("give a `{expected}` here"),
    }
}

fn operator_help(op: &str, left: &Ty, right: &Ty) -> String {
    match (left, right) {
        (Ty::Money, Ty::Money) if op == "*" || op == "/" => "money multiplies and divides by numbers, not by money".into(),
        (Ty::Optional(_), _) | (_, Ty::Optional(_)) => "one side may be `none`: check it first or give a fallback with `??`".into(),
        _ if op == "+" => "`+` adds numbers, money, durations and times of the same kind, or joins text with anything".into(),
        _ => "arithmetic takes two numbers (an int widens to a number), or money, durations and times as language.md §3 lists".into(),
    }
}
