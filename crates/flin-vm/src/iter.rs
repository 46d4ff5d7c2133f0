//! The state of a `for` loop: what it walks and where it is.
//!
//! A list is walked by position, so items pushed during the loop are visited; a map by
//! a snapshot of its keys; a text by characters.

use std::cell::RefCell;
use std::rc::Rc;

use crate::error::RuntimeError;
use crate::value::{Key, Str, Value};

#[derive(Debug)]
pub enum IterState {
    List {
        items: Rc<RefCell<Vec<Value>>>,
        next: usize,
    },
    Values {
        items: Vec<Value>,
        next: usize,
    },
    Text {
        text: Rc<Str>,
        byte: usize,
    },
}

impl IterState {
    /// The values the loop holds on to (for the cycle collector).
    pub fn held(&self, out: &mut Vec<Value>) {
        match self {
            IterState::List { items, .. } => out.push(Value::List(items.clone())),
            IterState::Values { items, .. } => out.extend(items.iter().cloned()),
            IterState::Text { .. } => {}
        }
    }

    pub fn new(source: &Value) -> Result<IterState, RuntimeError> {
        Ok(match source {
            Value::List(items) => IterState::List {
                items: items.clone(),
                next: 0,
            },
            Value::Map(entries) => IterState::Values {
                items: entries.borrow().keys().map(|Key(k)| k.clone()).collect(),
                next: 0,
            },
            Value::Tuple(items) => IterState::Values {
                items: items.as_ref().clone(),
                next: 0,
            },
            Value::Text(text) => IterState::Text {
                text: text.clone(),
                byte: 0,
            },
            Value::Json(json) => match json.as_ref() {
                serde_json::Value::Array(items) => IterState::Values {
                    items: items
                        .iter()
                        .map(|item| Value::Json(Rc::new(item.clone())))
                        .collect(),
                    next: 0,
                },
                serde_json::Value::Object(fields) => IterState::Values {
                    items: fields.keys().map(|k| Value::text(k.as_str())).collect(),
                    next: 0,
                },
                serde_json::Value::Null => IterState::Values {
                    items: Vec::new(),
                    next: 0,
                },
                other => {
                    return Err(RuntimeError::type_error(format!(
                        "cannot loop over the json value {other}"
                    )));
                }
            },
            Value::Cell(cell) => return IterState::new(&cell.borrow()),
            Value::None => {
                return Err(RuntimeError::none(
                    "cannot loop over `none`: a list is needed",
                ));
            }
            other => {
                return Err(RuntimeError::type_error(format!(
                    "cannot loop over {}",
                    other.type_name()
                )));
            }
        })
    }

    pub fn advance(&mut self) -> Option<Value> {
        match self {
            IterState::List { items, next } => {
                let item = items.borrow().get(*next).cloned()?;
                *next += 1;
                Some(item)
            }
            IterState::Values { items, next } => {
                let item = items.get(*next).cloned()?;
                *next += 1;
                Some(item)
            }
            IterState::Text { text, byte } => {
                let ch = text.as_str().get(*byte..)?.chars().next()?;
                *byte += ch.len_utf8();
                Some(Value::text(ch.to_string()))
            }
        }
    }
}
