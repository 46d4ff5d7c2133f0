//! Which functions may write the database (web.md §7, "side effects doubled"): a
//! request whose code can never write runs on a reader connection beside other
//! requests; one that may write runs on the writer from the start, so it runs once.
//!
//! Read from the bytecode, so it holds for a bundle as for source. A function writes
//! when it has a `Persist` instruction, or refers to a function that writes (a call, a
//! closure it makes, a function value it loads), or renders a component whose code
//! writes. Event handlers and `bind` setters made by markup are the exception: they
//! run as units of their own when the browser asks, never while the markup renders.
//! A closure that came from elsewhere (a function prop, a parameter) is counted where
//! it was made; code that calls such values is flagged, so a handler that does runs
//! on the writer too.

use crate::opcode::{Constant, Op};
use crate::program::ProgramCode;

/// What running each function of a program may do.
#[derive(Debug, Default)]
pub struct Effects {
    /// It may write the database.
    pub writes: Vec<bool>,
    /// It may call a function value made elsewhere (`Op::Call`).
    pub calls_values: Vec<bool>,
}

impl Effects {
    pub fn of(code: &ProgramCode) -> Effects {
        let n = code.functions.len();
        // Who refers to each function: a writer makes its referrers writers.
        let mut referrers: Vec<Vec<u32>> = vec![Vec::new(); n];
        let mut writes = vec![false; n];
        let mut calls_values = vec![false; n];
        for (index, function) in code.functions.iter().enumerate() {
            let (Some(write), Some(call)) = (writes.get_mut(index), calls_values.get_mut(index))
            else {
                continue;
            };
            let mut refer = |callee: u32| {
                let is_handler = code
                    .functions
                    .get(callee as usize)
                    .is_some_and(|f| f.handler);
                if let (false, Some(list)) = (is_handler, referrers.get_mut(callee as usize)) {
                    list.push(index as u32);
                }
            };
            for constant in &function.constants {
                if let Constant::Function(callee) = constant {
                    refer(*callee);
                }
            }
            for op in &function.code {
                match op {
                    Op::Persist { .. } => *write = true,
                    Op::Call { .. } => *call = true,
                    Op::RenderComponent { k, .. } => {
                        let Some(Constant::Name(name)) = function.constants.get(*k as usize) else {
                            continue;
                        };
                        let Some(view) = code
                            .components
                            .iter()
                            .find(|(n, _)| n.as_str() == name.as_str())
                            .and_then(|(_, v)| code.views.get(*v as usize))
                        else {
                            continue;
                        };
                        let parts = [view.main, view.render];
                        for callee in parts.iter().chain(&view.on_mount).chain(&view.on_unmount) {
                            refer(*callee);
                        }
                    }
                    _ => {}
                }
            }
        }
        spread(&mut writes, &referrers);
        spread(&mut calls_values, &referrers);
        Effects {
            writes,
            calls_values,
        }
    }
}

/// Marks every function that reaches a marked one.
fn spread(marked: &mut [bool], referrers: &[Vec<u32>]) {
    let mut work: Vec<u32> = (0..marked.len() as u32)
        .zip(marked.iter())
        .filter(|(_, m)| **m)
        .map(|(i, _)| i)
        .collect();
    while let Some(callee) = work.pop() {
        for &caller in referrers
            .get(callee as usize)
            .map_or(&[][..], |v| v.as_slice())
        {
            if let Some(flag) = marked.get_mut(caller as usize)
                && !*flag
            {
                *flag = true;
                work.push(caller);
            }
        }
    }
}
