//! Entities in the compiler: each `entity` declaration as the plain [`EntityDef`] the
//! VM and the store share, and the code for entity literals (defaults filled in), `save`
//! and friends, `e @ x`, `E.history(id)` and `transaction { }`.
//!
//! A field's default is an expression evaluated when a literal leaves the field out
//! (data.md §1): it compiles to a function of no arguments in the declaring file, so it
//! is checked and compiled in its own scope and called from every literal.

use std::collections::{HashMap, HashSet};

use flin_diagnostics::FileId;
use flin_query::{Datum, EntityDef, FieldDef, FieldType, OnDelete, Rule};
use flin_syntax::Symbol;
use flin_syntax::ast::{self, Expr, ExprKind, PersistOp};
use flin_vm::{Constant, Op};

use crate::compiler::ModuleCompiler;

/// An entity as the compiler uses it: its index in the program and, per declared
/// field, the function computing its default.
#[derive(Clone, Debug, Default)]
pub struct EntityInfo {
    pub index: u32,
    pub fields: Vec<FieldInfo>,
}

#[derive(Clone, Debug)]
pub struct FieldInfo {
    pub name: Symbol,
    pub default_fn: Option<u32>,
    pub list: bool,
}

/// The plain description of an entity declaration. `enums` gives each enum's variants
/// (payload sizes), `entities` the names of all entities.
pub fn entity_def(
    decl: &ast::EntityDecl,
    enums: &HashMap<Symbol, Vec<(Symbol, u16)>>,
    entities: &HashSet<Symbol>,
) -> EntityDef {
    EntityDef {
        name: decl.name.sym.as_str().to_string(),
        fields: decl
            .fields
            .iter()
            .map(|field| field_def(field, enums, entities))
            .collect(),
    }
}

pub fn field_def(
    field: &ast::Field,
    enums: &HashMap<Symbol, Vec<(Symbol, u16)>>,
    entities: &HashSet<Symbol>,
) -> FieldDef {
    let (ty, optional) = field_type(&field.ty, enums, entities);
    let mut def = FieldDef::new(field.name.sym.as_str(), ty);
    def.optional = optional;
    def.has_default = field.default.is_some();
    def.default_value = field.default.as_ref().and_then(constant_datum);
    for decorator in &field.decorators {
        let args: Vec<Datum> = decorator.args.iter().filter_map(constant_datum).collect();
        let number = || match args.first() {
            Some(Datum::Int(i)) => Some(*i as f64),
            Some(Datum::Number(n)) => Some(*n),
            Some(Datum::Money { minor, currency }) => {
                Some(*minor as f64 / 10f64.powi(i32::from(money_digits(currency))))
            }
            _ => None,
        };
        let int = || match args.first() {
            Some(Datum::Int(i)) => Some(*i),
            _ => None,
        };
        let text = || match args.first() {
            Some(Datum::Text(t)) => Some(t.to_string()),
            _ => None,
        };
        match decorator.name.sym.as_str() {
            "required" => def.rules.push(Rule::Required),
            "unique" => def.unique = true,
            "index" => def.index = true,
            "search" => def.search = true,
            "hidden" => def.hidden = true,
            "email" => def.rules.push(Rule::Email),
            "url" => def.rules.push(Rule::Url),
            "uuid" => def.rules.push(Rule::Uuid),
            "positive" => def.rules.push(Rule::Positive),
            "non_negative" => def.rules.push(Rule::NonNegative),
            "min" => def.rules.extend(number().map(Rule::Min)),
            "max" => def.rules.extend(number().map(Rule::Max)),
            "minLength" => def.rules.extend(int().map(Rule::MinLength)),
            "maxLength" => def.rules.extend(int().map(Rule::MaxLength)),
            "pattern" => def.rules.extend(text().map(Rule::Pattern)),
            "one_of" => def.rules.push(Rule::OneOf(args.clone())),
            "types" => def.rules.push(Rule::Types(
                args.iter()
                    .filter_map(|a| match a {
                        Datum::Text(t) => Some(t.to_string()),
                        _ => None,
                    })
                    .collect(),
            )),
            "max_size" => def.rules.extend(
                text()
                    .and_then(|t| flin_syntax::units::parse_size(&t))
                    .and_then(|n| i64::try_from(n).ok())
                    .map(Rule::MaxSize),
            ),
            "on_delete" => {
                def.on_delete = match decorator.args.first().map(|a| &a.kind) {
                    Some(ExprKind::Name(name)) => match name.sym.as_str() {
                        "cascade" => OnDelete::Cascade,
                        "set_none" => OnDelete::SetNone,
                        _ => OnDelete::Restrict,
                    },
                    _ => OnDelete::Restrict,
                }
            }
            "renamed_from" => def.renamed_from = text(),
            _ => {}
        }
    }
    def
}

fn money_digits(currency: &str) -> u8 {
    flin_syntax::currency::index_of(currency)
        .and_then(flin_syntax::currency::at)
        .map_or(2, |(_, digits)| digits)
}

/// A field type as stored, and whether it is optional.
fn field_type(
    ty: &ast::Type,
    enums: &HashMap<Symbol, Vec<(Symbol, u16)>>,
    entities: &HashSet<Symbol>,
) -> (FieldType, bool) {
    match &ty.kind {
        ast::TypeKind::Optional(inner) => (field_type(inner, enums, entities).0, true),
        ast::TypeKind::SemanticText => (FieldType::SemanticText, false),
        ast::TypeKind::List(inner) => {
            let (inner, _) = field_type(inner, enums, entities);
            match inner {
                FieldType::Ref(target) => (FieldType::RefList(target), false),
                other => (FieldType::List(Box::new(other)), false),
            }
        }
        ast::TypeKind::Named { name, .. } => {
            let ty = match name.sym.as_str() {
                "text" => FieldType::Text,
                "int" => FieldType::Int,
                "number" | "float" | "decimal" => FieldType::Number,
                "bool" => FieldType::Bool,
                "time" => FieldType::Time,
                "duration" => FieldType::Duration,
                "money" => FieldType::Money,
                "file" => FieldType::File,
                other if entities.contains(&name.sym) => FieldType::Ref(other.to_string()),
                other => match enums.get(&name.sym) {
                    Some(variants) => FieldType::Enum {
                        name: other.to_string(),
                        variants: variants
                            .iter()
                            .map(|(v, _)| v.as_str().to_string())
                            .collect(),
                    },
                    None => FieldType::Text,
                },
            };
            (ty, false)
        }
        _ => (FieldType::Text, false),
    }
}

/// The value of a constant expression (a literal, `-literal`, `Enum.Variant`).
fn constant_datum(expr: &Expr) -> Option<Datum> {
    Some(match &expr.kind {
        ExprKind::Int(i) => Datum::Int(*i),
        ExprKind::Number(n) => Datum::Number(*n),
        ExprKind::Bool(b) => Datum::Bool(*b),
        ExprKind::Text(text) => Datum::Text(text.as_plain()?.into()),
        ExprKind::Money { minor, currency } => Datum::Money {
            minor: *minor,
            currency: currency.as_str().into(),
        },
        ExprKind::Duration { micros, .. } => Datum::Duration(*micros),
        ExprKind::Unary {
            op: ast::UnaryOp::Neg,
            operand,
        } => match constant_datum(operand)? {
            Datum::Int(i) => Datum::Int(i.checked_neg()?),
            Datum::Number(n) => Datum::Number(-n),
            _ => return None,
        },
        ExprKind::Member {
            object,
            member: ast::Member::Named(variant),
            optional: false,
        } if matches!(object.kind, ExprKind::Name(_)) => Datum::Enum(variant.as_str().into()),
        ExprKind::Name(name) => Datum::Enum(name.sym.as_str().into()),
        _ => return None,
    })
}

/// A function computing a field's default: `fn Entity.field() { default }`.
pub fn default_fn(entity: Symbol, field: &ast::Field, default: &Expr) -> ast::FnDecl {
    let span = default.span;
    ast::FnDecl {
        name: ast::Name {
            sym: Symbol::intern(&format!(
                "{}.{} default",
                entity.as_str(),
                field.name.sym.as_str()
            )),
            span: field.name.span,
        },
        generics: Vec::new(),
        params: Vec::new(),
        ret: None,
        body: ast::Block {
            stmts: vec![ast::Stmt {
                kind: ast::StmtKind::Expr(default.clone()),
                span,
            }],
            span,
        },
    }
}

impl ModuleCompiler<'_> {
    /// `Book { title: "x", … }`: every declared field in order, defaults filled in.
    pub fn entity_literal(&mut self, entity: Symbol, given: &[(ast::Name, Expr)], dst: u16) {
        let Some(info) = self.ctx.entity_types.get(&entity).cloned() else {
            self.needs_database(dst, "unknown entity");
            return;
        };
        let base = self.b().call_base(dst, info.fields.len() as u16);
        for (idx, field) in info.fields.iter().enumerate() {
            let reg = base + 1 + idx as u16;
            if let Some((_, value)) = given.iter().find(|(name, _)| name.sym == field.name) {
                self.expr_to(value, reg);
            } else if let Some(function) = field.default_fn {
                let k = self.constant(Constant::Function(function));
                self.emit(Op::CallFn { a: reg, k });
            } else if field.list {
                self.emit(Op::NewList {
                    a: reg,
                    b: reg,
                    c: 0,
                });
            } else {
                self.emit(Op::LoadNone { a: reg });
            }
        }
        let k = self.constant(Constant::Entity(info.index));
        self.emit(Op::NewEntity { a: base, k });
        if base != dst {
            self.emit(Op::Move { a: dst, b: base });
        }
    }

    /// `save x`, `delete x`, `restore x`, `destroy x`.
    pub fn persist(&mut self, op: PersistOp, target: &Expr) {
        let reg = self.list_reg(target);
        let op = match op {
            PersistOp::Save => 0,
            PersistOp::Delete => 1,
            PersistOp::Restore => 2,
            PersistOp::Destroy => 3,
        };
        self.emit(Op::Persist { a: reg, op });
    }

    /// `entity @ at`
    pub fn time_travel(&mut self, entity: &Expr, at: &Expr, dst: u16) {
        let base = self.b().temps(2);
        self.expr_to(entity, base);
        self.expr_to(at, base + 1);
        self.emit(Op::TimeTravel {
            a: base,
            b: base + 1,
        });
        self.emit(Op::Move { a: dst, b: base });
    }

    /// `validate { … }`: the fields as a description the host checks the body against.
    pub fn validate(&mut self, fields: &[ast::Field]) {
        let entities: HashSet<Symbol> = self.ctx.entity_types.keys().copied().collect();
        let def = EntityDef {
            name: "body".into(),
            fields: fields
                .iter()
                .map(|field| field_def(field, &self.ctx.enums, &entities))
                .collect(),
        };
        let k = self.constant(Constant::Validate(std::sync::Arc::new(def)));
        self.emit(Op::ValidateBody { k });
    }

    /// `Entity.history(id)`, when `owner` names an entity.
    pub fn entity_history(&mut self, owner: Symbol, id: &Expr, dst: u16) -> bool {
        let Some(index) = self.ctx.entity_types.get(&owner).map(|info| info.index) else {
            return false;
        };
        let reg = self.b().temp();
        self.expr_to(id, reg);
        let k = self.constant(Constant::Entity(index));
        self.emit(Op::EntityHistory { a: reg, k });
        self.emit(Op::Move { a: dst, b: reg });
        true
    }
}

/// The entity declarations of a program, in a stable order: (file, declaration).
pub fn collect<'t>(
    files: impl Iterator<Item = (FileId, &'t ast::File)>,
) -> Vec<(FileId, &'t ast::EntityDecl)> {
    let mut found = Vec::new();
    for (file, tree) in files {
        for stmt in &tree.stmts {
            if let ast::StmtKind::Entity(decl) = &stmt.kind {
                found.push((file, decl));
            }
        }
    }
    found
}
