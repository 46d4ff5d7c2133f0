//! Query chains (data.md §4) compiled into query plans: `Book.where(…).order(…).limit(n)`
//! becomes one [`QueryShape`] constant and the instructions that compute its parameters,
//! and a terminal (`.count`, `.first`, `.sum(pages)` …) becomes a request to the store.
//!
//! Inside `where`, bare names are the entity's fields. Every sub-expression that does not
//! mention a field (a variable, `now - 7.days`, `w.lower`) is a parameter: evaluated
//! once, before the query runs, in the enclosing scope. The checker has already refused
//! conditions that cannot run in the database, so every condition reaching here
//! translates.

use std::collections::HashSet;
use std::sync::Arc;

use flin_check::Ty;
use flin_query::{
    ArithOp, CmpOp, Cond, Deleted, Operand, OrderKey, QueryShape, Terminal, TextMatch,
};
use flin_syntax::Symbol;
use flin_syntax::ast::{self, Arg, BinaryOp, Expr, ExprKind, Member, UnaryOp};
use flin_syntax::visit::{self, Visitor};
use flin_vm::{Constant, Op};

use crate::compiler::ModuleCompiler;

/// Where a chain starts: an entity name, or a query value computed by other code.
enum Start<'e> {
    Entity,
    Value(&'e Expr),
}

/// A chain being compiled: its shape so far and the expressions of its parameters, in
/// parameter order.
struct Chain<'e> {
    start: Start<'e>,
    shape: QueryShape,
    params: Vec<&'e Expr>,
    fields: EntityFields,
}

/// The field names of an entity, and which of them hold lists (`tags: [Tag]`).
#[derive(Clone, Debug, Default)]
pub struct EntityFields {
    pub fields: HashSet<Symbol>,
    pub lists: HashSet<Symbol>,
}

/// The steps that make a query from a query; everything else on a query is a terminal
/// or a list method.
const STEPS: &[&str] = &[
    "all",
    "where",
    "order",
    "limit",
    "offset",
    "with",
    "with_deleted",
    "only_deleted",
];

/// Entity fields every entity has (data.md §1).
const AUTO_FIELDS: &[&str] = &["id", "version", "created_at", "updated_at", "deleted_at"];

impl<'a> ModuleCompiler<'a> {
    /// The entity `expr` names, when it is an entity name used as one (`Book` in
    /// `Book.where(…)`), not a variable.
    pub fn entity_named(&mut self, expr: &Expr) -> Option<Symbol> {
        match &expr.kind {
            ExprKind::Name(name)
                if self.resolve_var(name.sym).is_none()
                    && self.ctx.entities.contains_key(&name.sym) =>
            {
                Some(name.sym)
            }
            _ => None,
        }
    }

    /// The entity of a query-typed expression.
    fn query_entity(&mut self, expr: &Expr) -> Option<Symbol> {
        match self.ty(expr) {
            Some(Ty::Query(entity)) => Some(*entity),
            _ => self.entity_named(expr),
        }
    }

    /// Compiles `expr` into `dst` when it is a query step or terminal (`Book.all`,
    /// `q.where(…)`, `Book.find(7)`, `q.count` …); `false` when it is not, leaving the
    /// caller to compile it.
    pub fn query_expr(&mut self, expr: &Expr, dst: u16) -> bool {
        let Some((object, member, args)) = member_call(expr) else {
            return false;
        };
        let Some(entity) = self.query_entity(object) else {
            return self.group_count(object, member, args, dst);
        };
        let args_list = args.unwrap_or(&[]);
        // With a function argument, `count`, `group_by`, `min` … are the list methods.
        if args_list
            .iter()
            .any(|a| matches!(a.value.kind, ExprKind::Lambda(_)))
        {
            return false;
        }
        if STEPS.contains(&member) {
            let chain = self.chain(expr, entity);
            self.make_query(chain, dst);
            return true;
        }
        let terminal = match (member, args_list) {
            ("count" | "length", []) => Terminal::Count,
            ("exists", []) => Terminal::Exists,
            ("first", []) => Terminal::First,
            ("last", []) => Terminal::Last,
            ("sum" | "avg" | "min" | "max" | "group_by", [field]) => {
                let Some(field) = field_name(&field.value) else {
                    return false;
                };
                match member {
                    "sum" => Terminal::Sum(field),
                    "avg" => Terminal::Avg(field),
                    "min" => Terminal::Min(field),
                    "max" => Terminal::Max(field),
                    _ => Terminal::GroupRows(field),
                }
            }
            ("find", [id]) if self.entity_named(object).is_some() => {
                let mut chain = self.chain(object, entity);
                let param = chain.shape.param();
                chain.params.push(&id.value);
                chain.shape.filter.push(Cond::Compare(
                    CmpOp::Eq,
                    Operand::Field("id".into()),
                    Operand::Param(param),
                ));
                self.run_chain(chain, Terminal::First, dst);
                return true;
            }
            _ => return false,
        };
        let chain = self.chain(object, entity);
        self.run_chain(chain, terminal, dst);
        true
    }

    /// `q.group_by(status).count`: rows counted per value of a field.
    fn group_count(&mut self, object: &Expr, member: &str, args: Option<&[Arg]>, dst: u16) -> bool {
        if !matches!(member, "count" | "length") || args.is_some_and(|a| !a.is_empty()) {
            return false;
        }
        let Some((inner, "group_by", Some([field]))) = member_call(object) else {
            return false;
        };
        let (Some(entity), Some(field)) = (self.query_entity(inner), field_name(&field.value))
        else {
            return false;
        };
        let chain = self.chain(inner, entity);
        self.run_chain(chain, Terminal::GroupCount(field), dst);
        true
    }

    /// `search Q in E by f [using m] [where (c)] [limit n]` (search.md §2): the
    /// candidate rows as a query of `E` with the search's `where`, then the built-in
    /// `$search` asks the store for the hits.
    pub fn search(&mut self, search: &ast::Search, dst: u16) {
        let entity = search.entity.sym;
        let fields = self.ctx.entities.get(&entity).cloned().unwrap_or_default();
        let mut chain = Chain {
            start: Start::Entity,
            shape: QueryShape::all(entity.as_str()),
            params: Vec::new(),
            fields,
        };
        if let Some(filter) = &search.filter {
            let cond = chain.cond(filter);
            chain.shape.filter.push(cond);
        }
        let base = self.b().temps(8);
        let rows = self.query_into_temp(chain);
        self.emit(Op::Move {
            a: base + 1,
            b: rows,
        });
        self.load_text(search.field.as_str(), base + 2);
        self.expr_to(&search.query, base + 3);
        let (mode, weights) = match &search.mode {
            None => ("default", None),
            Some(ast::SearchMode::Keyword(_)) => ("keyword", None),
            Some(ast::SearchMode::Semantic(_)) => ("semantic", None),
            Some(ast::SearchMode::Hybrid { weights, .. }) => ("hybrid", Some(weights)),
        };
        self.load_text(mode, base + 4);
        match weights {
            Some(Some((keyword, semantic))) => {
                self.expr_to(keyword, base + 5);
                self.expr_to(semantic, base + 6);
            }
            _ => {
                let (keyword, semantic) = (
                    self.constant(Constant::Number(0.7)),
                    self.constant(Constant::Number(0.3)),
                );
                self.emit(Op::LoadConst {
                    a: base + 5,
                    k: keyword,
                });
                self.emit(Op::LoadConst {
                    a: base + 6,
                    k: semantic,
                });
            }
        }
        match &search.limit {
            Some(limit) => self.expr_to(limit, base + 7),
            None => {
                self.emit(Op::LoadInt {
                    a: base + 7,
                    value: 10,
                });
            }
        }
        self.builtin_call("", "$search", base, 7);
        self.emit(Op::Move { a: dst, b: base });
    }

    /// After a query-typed value is compiled into `reg`: runs it for its rows where it is
    /// used as a list (a list method, `for`, `[i]`, printing).
    pub fn rows_if_query(&mut self, expr: &Expr, reg: u16) {
        if matches!(self.ty(expr), Some(Ty::Query(_))) {
            let k = self.constant(Constant::Terminal(Terminal::Rows));
            self.emit(Op::QueryRun { a: reg, k });
        }
    }

    /// The chain ending at `expr` (a query of `entity`): its steps gathered from the
    /// innermost out.
    fn chain<'e>(&mut self, expr: &'e Expr, entity: Symbol) -> Chain<'e> {
        let fields = self.ctx.entities.get(&entity).cloned().unwrap_or_default();
        if self.entity_named(expr).is_some() {
            return Chain {
                start: Start::Entity,
                shape: QueryShape::all(entity.as_str()),
                params: Vec::new(),
                fields,
            };
        }
        let step = member_call(expr).filter(|(object, member, _)| {
            STEPS.contains(member) && self.query_entity(object) == Some(entity)
        });
        let Some((object, member, args)) = step else {
            return Chain {
                start: Start::Value(expr),
                shape: QueryShape::all(entity.as_str()),
                params: Vec::new(),
                fields,
            };
        };
        let mut chain = self.chain(object, entity);
        chain.step(member, args.unwrap_or(&[]));
        chain
    }

    /// A query value of the chain in `dst`.
    fn make_query(&mut self, chain: Chain<'_>, dst: u16) {
        let reg = self.query_into_temp(chain);
        self.emit(Op::Move { a: dst, b: reg });
    }

    /// The chain's query, then what `terminal` asks of it, in `dst`.
    fn run_chain(&mut self, chain: Chain<'_>, terminal: Terminal, dst: u16) {
        let reg = self.query_into_temp(chain);
        let k = self.constant(Constant::Terminal(terminal));
        self.emit(Op::QueryRun { a: reg, k });
        self.emit(Op::Move { a: dst, b: reg });
    }

    fn query_into_temp(&mut self, chain: Chain<'_>) -> u16 {
        let n = chain.params.len() as u16;
        let base = self.b().temps(n + 1);
        for (idx, param) in chain.params.iter().enumerate() {
            self.expr_to(param, base + 1 + idx as u16);
        }
        let has_steps = chain.shape != QueryShape::all(chain.shape.entity.clone());
        let shape = Arc::new(chain.shape);
        match chain.start {
            Start::Entity => {
                let k = self.constant(Constant::Query(shape));
                self.emit(Op::QueryNew { a: base, k });
            }
            Start::Value(value) => {
                self.expr_to(value, base);
                if has_steps {
                    let k = self.constant(Constant::Query(shape));
                    self.emit(Op::QueryThen { a: base, k });
                }
            }
        }
        base
    }
}

impl<'e> Chain<'e> {
    fn step(&mut self, member: &str, args: &'e [Arg]) {
        match (member, args) {
            ("where", [cond]) => {
                let cond = self.cond(&cond.value);
                self.shape.filter.push(cond);
            }
            ("order", [field, rest @ ..]) => {
                let descending = rest.first().is_some_and(|dir| {
                    matches!(&dir.value.kind, ExprKind::Text(t) if t.as_plain().as_deref() == Some("desc"))
                });
                if let Some(field) = field_name(&field.value) {
                    self.shape.order.push(OrderKey { field, descending });
                }
            }
            ("limit", [n]) => {
                let param = self.param(&n.value);
                self.shape.limit = Some(param);
            }
            ("offset", [n]) => {
                let param = self.param(&n.value);
                self.shape.offset = Some(param);
            }
            ("with", fields) => {
                for field in fields {
                    if let Some(field) = field_name(&field.value) {
                        self.shape.with.push(field);
                    }
                }
            }
            ("with_deleted", _) => self.shape.deleted = Deleted::With,
            ("only_deleted", _) => self.shape.deleted = Deleted::Only,
            // `all`, and forms the checker has already reported.
            _ => {}
        }
    }

    fn param(&mut self, expr: &'e Expr) -> flin_query::Param {
        let param = self.shape.param();
        self.params.push(expr);
        param
    }

    fn is_field(&self, name: &ast::Name) -> bool {
        self.fields.fields.contains(&name.sym) || AUTO_FIELDS.contains(&name.as_str())
    }

    fn mentions_field(&self, expr: &Expr) -> bool {
        struct Finder<'c, 'e> {
            chain: &'c Chain<'e>,
            found: bool,
        }
        impl Visitor for Finder<'_, '_> {
            fn visit_expr(&mut self, expr: &Expr) {
                match &expr.kind {
                    ExprKind::Name(name) if self.chain.is_field(name) => self.found = true,
                    ExprKind::Lambda(_) => {}
                    _ => visit::walk_expr(self, expr),
                }
            }
        }
        let mut finder = Finder {
            chain: self,
            found: false,
        };
        finder.visit_expr(expr);
        finder.found
    }

    /// A `where` condition.
    fn cond(&mut self, expr: &'e Expr) -> Cond {
        if !self.mentions_field(expr) {
            return Cond::Is(Operand::Param(self.param(expr)));
        }
        match &expr.kind {
            ExprKind::Unary {
                op: UnaryOp::Not,
                operand,
            } => Cond::Not(Box::new(self.cond(operand))),
            ExprKind::Binary {
                op: BinaryOp::And,
                lhs,
                rhs,
            } => Cond::And(Box::new(self.cond(lhs)), Box::new(self.cond(rhs))),
            ExprKind::Binary {
                op: BinaryOp::Or,
                lhs,
                rhs,
            } => Cond::Or(Box::new(self.cond(lhs)), Box::new(self.cond(rhs))),
            ExprKind::Binary {
                op: op @ (BinaryOp::Eq | BinaryOp::NotEq),
                lhs,
                rhs,
            } if matches!(rhs.kind, ExprKind::None) || matches!(lhs.kind, ExprKind::None) => {
                let side = if matches!(rhs.kind, ExprKind::None) {
                    lhs
                } else {
                    rhs
                };
                Cond::IsNone {
                    operand: self.operand(side),
                    negated: *op == BinaryOp::NotEq,
                }
            }
            ExprKind::Binary { op, lhs, rhs } if comparison(*op).is_some() => {
                let op = comparison(*op).unwrap_or(CmpOp::Eq);
                let left = self.operand(lhs);
                let right = self.operand(rhs);
                Cond::Compare(op, left, right)
            }
            ExprKind::Binary {
                op: BinaryOp::In,
                lhs,
                rhs,
            } => {
                let operand = self.operand(lhs);
                Cond::In(operand, self.param(rhs))
            }
            ExprKind::Call { callee, args } => self.call_cond(callee, args),
            _ => Cond::Is(self.operand(expr)),
        }
    }

    /// `title.contains(w)`, `title.lower.starts_with(p)`, `tags.contains(t)`.
    fn call_cond(&mut self, callee: &'e Expr, args: &'e [Arg]) -> Cond {
        let (
            ExprKind::Member {
                object,
                member: Member::Named(method),
                ..
            },
            [arg],
        ) = (&callee.kind, args)
        else {
            return Cond::Is(self.operand(callee));
        };
        let how = match method.as_str() {
            "starts_with" => TextMatch::StartsWith,
            "ends_with" => TextMatch::EndsWith,
            _ => TextMatch::Contains,
        };
        if how == TextMatch::Contains {
            if let ExprKind::Name(field) = &object.kind {
                if self.is_field(field) && self.fields.lists.contains(&field.sym) {
                    let param = self.param(&arg.value);
                    return Cond::ListContains(field.as_str().into(), param);
                }
            }
        }
        let text = self.operand(object);
        Cond::Text(how, text, self.param(&arg.value))
    }

    /// One side of a comparison.
    fn operand(&mut self, expr: &'e Expr) -> Operand {
        if !self.mentions_field(expr) {
            return Operand::Param(self.param(expr));
        }
        match &expr.kind {
            ExprKind::Name(name) => Operand::Field(name.as_str().into()),
            ExprKind::Member {
                object,
                member: Member::Named(name),
                ..
            } if name.as_str() == "lower" => Operand::Lower(Box::new(self.operand(object))),
            ExprKind::Member {
                object,
                member: Member::Named(name),
                ..
            } if name.as_str() == "upper" => Operand::Upper(Box::new(self.operand(object))),
            ExprKind::Binary { op, lhs, rhs } => {
                let op = match op {
                    BinaryOp::Add => ArithOp::Add,
                    BinaryOp::Sub => ArithOp::Sub,
                    BinaryOp::Mul => ArithOp::Mul,
                    BinaryOp::Div => ArithOp::Div,
                    _ => ArithOp::Rem,
                };
                let left = self.operand(lhs);
                let right = self.operand(rhs);
                Operand::Arith(op, Box::new(left), Box::new(right))
            }
            ExprKind::Unary { operand, .. } => Operand::Neg(Box::new(self.operand(operand))),
            // The checker refuses every other form over a field.
            _ => Operand::Param(self.param(expr)),
        }
    }
}

fn comparison(op: BinaryOp) -> Option<CmpOp> {
    Some(match op {
        BinaryOp::Eq => CmpOp::Eq,
        BinaryOp::NotEq => CmpOp::NotEq,
        BinaryOp::Lt => CmpOp::Lt,
        BinaryOp::Le => CmpOp::Le,
        BinaryOp::Gt => CmpOp::Gt,
        BinaryOp::Ge => CmpOp::Ge,
        _ => return None,
    })
}

/// `object.member` or `object.member(args)`.
fn member_call(expr: &Expr) -> Option<(&Expr, &str, Option<&[Arg]>)> {
    match &expr.kind {
        ExprKind::Member {
            object,
            member: Member::Named(name),
            optional: false,
        } => Some((object, name.as_str(), None)),
        ExprKind::Call { callee, args } => match &callee.kind {
            ExprKind::Member {
                object,
                member: Member::Named(name),
                optional: false,
            } => Some((object, name.as_str(), Some(args.as_slice()))),
            _ => None,
        },
        _ => None,
    }
}

/// A bare field name given as an argument (`order(published)`, `sum(pages)`).
fn field_name(expr: &Expr) -> Option<Box<str>> {
    match &expr.kind {
        ExprKind::Name(name) => Some(name.as_str().into()),
        _ => None,
    }
}
