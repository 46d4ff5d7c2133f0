//! `match` to decision code (language.md §7): each arm tests the value step by step and
//! jumps to the next arm at the first test that fails; bindings become locals of the
//! arm. The checker proved the match exhaustive; a value no arm takes is still caught
//! with an error rather than running on.

use flin_check::Ty;
use flin_syntax::Symbol;
use flin_syntax::ast::{Arm, Expr, ExprKind, Pattern, PatternKind};
use flin_vm::{Constant, Op};

use crate::compiler::ModuleCompiler;

impl ModuleCompiler<'_> {
    pub fn match_expr(&mut self, scrutinee: &Expr, arms: &[Arm], dst: u16) {
        let subject = self.b().temp();
        self.expr_to(scrutinee, subject);
        let subject_ty = self.ty(scrutinee).cloned();
        let mut to_end = Vec::new();
        for arm in arms {
            self.b().push_scope();
            let mut fails = Vec::new();
            self.pattern(&arm.pattern, subject, subject_ty.as_ref(), &mut fails);
            if let Some(guard) = &arm.guard {
                let test = self.expr_reg(guard);
                fails.push(self.emit(Op::JumpIfNot { a: test, target: 0 }));
            }
            self.expr_to(&arm.body, dst);
            to_end.push(self.emit(Op::Jump { target: 0 }));
            self.b().pop_scope();
            for at in fails {
                self.b().patch(at);
            }
        }
        let k = self.constant(Constant::Error {
            kind: "runtime",
            message: "no arm of the match took the value".into(),
            status: None,
        });
        self.emit(Op::FailWith { k });
        for at in to_end {
            self.b().patch(at);
        }
    }

    /// Tests `subject` against `pattern`, binding names; a failing test jumps to a
    /// position pushed on `fails`.
    fn pattern(
        &mut self,
        pattern: &Pattern,
        subject: u16,
        ty: Option<&Ty>,
        fails: &mut Vec<usize>,
    ) {
        let optional = matches!(ty, Some(Ty::Optional(_)));
        let inner_ty = match ty {
            Some(Ty::Optional(inner)) => Some(&**inner),
            other => other,
        };
        match &pattern.kind {
            PatternKind::Wildcard | PatternKind::Error => {}
            PatternKind::Binding(name) => {
                if optional {
                    fails.push(self.emit(Op::JumpIfNone {
                        a: subject,
                        target: 0,
                    }));
                }
                let reg = self.b().temp();
                self.emit(Op::Move { a: reg, b: subject });
                self.declare_local(name, reg);
            }
            PatternKind::Literal(literal) => {
                if matches!(literal.kind, ExprKind::None) {
                    let present = self.emit(Op::JumpIfNone {
                        a: subject,
                        target: 0,
                    });
                    fails.push(self.emit(Op::Jump { target: 0 }));
                    self.b().patch(present);
                    return;
                }
                let value = self.expr_reg(literal);
                let test = self.b().temp();
                self.emit(Op::Eq {
                    a: test,
                    b: subject,
                    c: value,
                });
                fails.push(self.emit(Op::JumpIfNot { a: test, target: 0 }));
            }
            PatternKind::Range {
                start,
                end,
                inclusive,
            } => {
                if optional {
                    fails.push(self.emit(Op::JumpIfNone {
                        a: subject,
                        target: 0,
                    }));
                }
                let low = self.expr_reg(start);
                let high = self.expr_reg(end);
                let test = self.b().temp();
                self.emit(Op::Le {
                    a: test,
                    b: low,
                    c: subject,
                });
                fails.push(self.emit(Op::JumpIfNot { a: test, target: 0 }));
                if *inclusive {
                    self.emit(Op::Le {
                        a: test,
                        b: subject,
                        c: high,
                    });
                } else {
                    self.emit(Op::Lt {
                        a: test,
                        b: subject,
                        c: high,
                    });
                }
                fails.push(self.emit(Op::JumpIfNot { a: test, target: 0 }));
            }
            PatternKind::Variant { path, args } => {
                let Some(last) = path.last() else { return };
                if optional {
                    fails.push(self.emit(Op::JumpIfNone {
                        a: subject,
                        target: 0,
                    }));
                }
                let (enum_name, payload_tys) = self.variant_info(path, inner_ty);
                let test = self.b().temp();
                self.emit(Op::Move {
                    a: test,
                    b: subject,
                });
                let arity = args.as_ref().map_or(0, Vec::len) as u16;
                let k = self.constant(Constant::Variant {
                    enum_name,
                    variant: last.sym,
                    arity,
                });
                self.emit(Op::IsVariant { a: test, k });
                fails.push(self.emit(Op::JumpIfNot { a: test, target: 0 }));
                for (idx, arg) in args.iter().flatten().enumerate() {
                    let item = self.b().temp();
                    self.emit(Op::GetPayload {
                        a: item,
                        b: subject,
                        c: idx as u16,
                    });
                    let item_ty = payload_tys.get(idx).cloned();
                    self.pattern(arg, item, item_ty.as_ref(), fails);
                }
            }
            PatternKind::Tuple(items) => {
                if optional {
                    fails.push(self.emit(Op::JumpIfNone {
                        a: subject,
                        target: 0,
                    }));
                }
                let item_tys: Vec<Ty> = match inner_ty {
                    Some(Ty::Tuple(tys)) => tys.clone(),
                    _ => Vec::new(),
                };
                for (idx, item) in items.iter().enumerate() {
                    let index = self.b().temp();
                    self.emit(Op::LoadInt {
                        a: index,
                        value: idx as i32,
                    });
                    let value = self.b().temp();
                    self.emit(Op::GetIndex {
                        a: value,
                        b: subject,
                        c: index,
                    });
                    self.pattern(item, value, item_tys.get(idx), fails);
                }
            }
            PatternKind::List { items, rest } => {
                if optional {
                    fails.push(self.emit(Op::JumpIfNone {
                        a: subject,
                        target: 0,
                    }));
                }
                let item_ty = match inner_ty {
                    Some(Ty::List(item)) => Some((**item).clone()),
                    _ => None,
                };
                let test = self.b().temp();
                let length = items.len() as u16 | if rest.is_some() { 0x8000 } else { 0 };
                self.emit(Op::LenIs {
                    a: test,
                    b: subject,
                    c: length,
                });
                fails.push(self.emit(Op::JumpIfNot { a: test, target: 0 }));
                for (idx, item) in items.iter().enumerate() {
                    let index = self.b().temp();
                    self.emit(Op::LoadInt {
                        a: index,
                        value: idx as i32,
                    });
                    let value = self.b().temp();
                    self.emit(Op::GetIndex {
                        a: value,
                        b: subject,
                        c: index,
                    });
                    self.pattern(item, value, item_ty.as_ref(), fails);
                }
                if let Some(Some(name)) = rest {
                    let reg = self.b().temp();
                    self.emit(Op::ListFrom {
                        a: reg,
                        b: subject,
                        c: items.len() as u16,
                    });
                    self.declare_local(name, reg);
                }
            }
            PatternKind::Or(alternatives) => {
                let mut matched = Vec::new();
                let count = alternatives.len();
                for (idx, alternative) in alternatives.iter().enumerate() {
                    let mut alt_fails = Vec::new();
                    self.pattern(alternative, subject, ty, &mut alt_fails);
                    if idx + 1 < count {
                        matched.push(self.emit(Op::Jump { target: 0 }));
                        for at in alt_fails {
                            self.b().patch(at);
                        }
                    } else {
                        fails.extend(alt_fails);
                    }
                }
                for at in matched {
                    self.b().patch(at);
                }
            }
        }
    }

    /// The enum of a variant pattern and its payload types.
    fn variant_info(&self, path: &[flin_syntax::ast::Name], ty: Option<&Ty>) -> (Symbol, Vec<Ty>) {
        let last = path.last().map_or_else(|| Symbol::intern(""), |n| n.sym);
        if path.len() == 1 && matches!(last.as_str(), "Ok" | "Err") {
            let payload = match ty {
                Some(Ty::Result(ok, err)) => vec![if last.as_str() == "Ok" {
                    (**ok).clone()
                } else {
                    (**err).clone()
                }],
                _ => Vec::new(),
            };
            return (Symbol::intern("Result"), payload);
        }
        let enum_name = match (path.len(), ty) {
            (2, _) => path.first().map_or(last, |n| n.sym),
            (_, Some(Ty::Enum(name))) => *name,
            _ => self
                .ctx
                .variant_owner(last)
                .map_or_else(|| Symbol::intern(""), |(e, _)| e),
        };
        // Payload types are not needed to test the value; bindings inside take it as is.
        (enum_name, Vec::new())
    }
}
