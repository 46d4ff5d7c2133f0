//! Freeing reference cycles. Values are reference counted, so a cycle (a closure kept
//! in a variable it captures, a list holding a record that holds the list) would never
//! be freed, and a server would leak a little with every request that made one.
//!
//! Every cycle passes through a container that was changed after it was made (a cell,
//! list, map or record: closures, enums and tuples never change), so those are the
//! candidates: each is registered, weakly, when it is made. A collection is the
//! synchronous trial deletion of Bacon and Rajan (as CPython's collector does it): take
//! the graph reachable from the live candidates, subtract from each node's reference
//! count the references coming from inside the graph; a node with references left is
//! held from outside (a register, a global, native code) and keeps everything it reaches
//! alive; the rest is garbage, and emptying its mutable containers breaks the cycles so
//! reference counting frees them.
//!
//! Native code holding values needs no registration: its references are counted, so it
//! only ever makes more things live. A container borrowed at the time of a collection is
//! treated as held from outside.
//!
//! The registry is per thread (a VM and its values never leave their thread). The VM
//! collects when enough new containers were registered since the last collection; the
//! runtime collects at the end of each unit of work (minor collections, see
//! [`Registry`]).

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::{Rc, Weak};

use crate::entity::EntityObj;
use crate::value::{Key, Record, Value};

/// A container that could be part of a cycle, held weakly.
enum Candidate {
    Cell(Weak<RefCell<Value>>),
    List(Weak<RefCell<Vec<Value>>>),
    Map(Weak<RefCell<crate::value::Entries>>),
    Record(Weak<Record>),
    Entity(Weak<EntityObj>),
}

impl Candidate {
    fn upgrade(&self) -> Option<Value> {
        Some(match self {
            Candidate::Cell(w) => Value::Cell(w.upgrade()?),
            Candidate::List(w) => Value::List(w.upgrade()?),
            Candidate::Map(w) => Value::Map(w.upgrade()?),
            Candidate::Record(w) => Value::Record(w.upgrade()?),
            Candidate::Entity(w) => Value::Entity(w.upgrade()?),
        })
    }

    fn is_alive(&self) -> bool {
        match self {
            Candidate::Cell(w) => w.strong_count() > 0,
            Candidate::List(w) => w.strong_count() > 0,
            Candidate::Map(w) => w.strong_count() > 0,
            Candidate::Record(w) => w.strong_count() > 0,
            Candidate::Entity(w) => w.strong_count() > 0,
        }
    }
}

/// Registrations between collections the VM asks for, at the least.
const MIN_THRESHOLD: usize = 100_000;

/// Minor collections between two full ones, at the most.
const MINORS_PER_FULL: usize = 1_000;

/// Survivors (old candidates) that make a full collection worth it, at the least.
const MIN_OLD: usize = 10_000;

/// Candidates in two generations. Most containers die young (within their unit of
/// work); those that survive a collection (a live page's state, held for minutes) are
/// old. A minor collection looks for cycles from the young only: a cycle made of new
/// containers, or one that a new container closes, is found; so a unit of work does
/// not pay for every open page's state on its thread. A full collection (from the old
/// too) runs when the old have doubled since the last one, or after enough minor ones,
/// and finds the cycles made only of old containers (a page closed with a cycle in its
/// state).
struct Registry {
    young: Vec<Candidate>,
    old: Vec<Candidate>,
    /// Collect (from the VM, mid-unit) when this many young are registered.
    threshold: usize,
    minors: usize,
    /// How many old survived the last full collection.
    old_at_full: usize,
}

thread_local! {
    static REGISTRY: RefCell<Registry> = const {
        RefCell::new(Registry {
            young: Vec::new(),
            old: Vec::new(),
            threshold: MIN_THRESHOLD,
            minors: 0,
            old_at_full: 0,
        })
    };
}

/// Registers a new container (called by the constructors in `value.rs`).
pub fn register(value: &Value) {
    let candidate = match value {
        Value::Cell(rc) => Candidate::Cell(Rc::downgrade(rc)),
        Value::List(rc) => Candidate::List(Rc::downgrade(rc)),
        Value::Map(rc) => Candidate::Map(Rc::downgrade(rc)),
        Value::Record(rc) => Candidate::Record(Rc::downgrade(rc)),
        Value::Entity(rc) => Candidate::Entity(Rc::downgrade(rc)),
        _ => return,
    };
    REGISTRY.with(|registry| {
        if let Ok(mut registry) = registry.try_borrow_mut() {
            registry.young.push(candidate);
        }
    });
}

/// Whether enough containers were made since the last collection to collect again.
pub fn wanted() -> bool {
    REGISTRY.with(|registry| {
        registry
            .try_borrow()
            .is_ok_and(|r| r.young.len() >= r.threshold)
    })
}

/// What one collection did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Collected {
    /// Containers of the graph examined.
    pub examined: usize,
    /// Objects found unreachable (their mutable containers were emptied).
    pub freed: usize,
}

/// How many containers are registered (alive or not yet pruned).
pub fn registered() -> usize {
    REGISTRY.with(|registry| {
        registry
            .try_borrow()
            .map_or(0, |r| r.young.len() + r.old.len())
    })
}

/// Frees every cycle no one holds any more (a full collection).
pub fn collect() -> Collected {
    collect_from(true)
}

/// Frees the cycles the containers made since the last collection are part of (a minor
/// collection), or every cycle when a full collection is due. What a unit of work runs
/// when it ends.
pub fn collect_young() -> Collected {
    let full = REGISTRY.with(|registry| {
        registry.try_borrow().is_ok_and(|r| {
            r.minors >= MINORS_PER_FULL
                || (r.old.len() >= MIN_OLD && r.old.len() >= 2 * r.old_at_full)
        })
    });
    collect_from(full)
}

fn collect_from(full: bool) -> Collected {
    let roots: Vec<Value> = REGISTRY.with(|registry| {
        let Ok(mut registry) = registry.try_borrow_mut() else {
            return Vec::new();
        };
        registry.young.retain(Candidate::is_alive);
        if full {
            registry.old.retain(Candidate::is_alive);
        }
        let young = registry.young.iter();
        let old = registry.old.iter().filter(|_| full);
        young.chain(old).filter_map(Candidate::upgrade).collect()
    });
    let mut graph = Graph::default();
    for root in roots {
        graph.insert(root);
    }
    graph.explore();
    let garbage = graph.garbage();
    let freed = garbage.len();
    // Emptying a container drops what it held; keep it all until the graph is gone so
    // nothing is dropped while the graph is still being read.
    let mut trash: Vec<Value> = Vec::new();
    for index in garbage {
        if let Some(node) = graph.nodes.get(index) {
            empty(&node.value, &mut trash);
        }
    }
    let examined = graph.nodes.len();
    drop(graph);
    drop(trash);
    REGISTRY.with(|registry| {
        if let Ok(mut registry) = registry.try_borrow_mut() {
            let registry = &mut *registry;
            // The young that survived are old now.
            registry.young.retain(Candidate::is_alive);
            registry.old.append(&mut registry.young);
            if full {
                registry.old.retain(Candidate::is_alive);
                registry.old_at_full = registry.old.len();
                registry.minors = 0;
            } else {
                registry.minors += 1;
            }
            registry.threshold = MIN_THRESHOLD;
        }
    });
    Collected { examined, freed }
}

struct Node {
    /// The graph's own reference to the object (counted out of its references).
    value: Value,
    /// Nodes it refers to, one entry per reference.
    edges: Vec<usize>,
    /// Its children could not be read (borrowed right now): treat it as held.
    opaque: bool,
}

#[derive(Default)]
struct Graph {
    nodes: Vec<Node>,
    index: HashMap<usize, usize, foldhash::fast::FixedState>,
}

impl Graph {
    /// The node of `value`, added if new; `None` for values that hold nothing.
    fn insert(&mut self, value: Value) -> Option<usize> {
        let address = address(&value)?;
        if let Some(index) = self.index.get(&address) {
            return Some(*index);
        }
        let index = self.nodes.len();
        self.nodes.push(Node {
            value,
            edges: Vec::new(),
            opaque: false,
        });
        self.index.insert(address, index);
        Some(index)
    }

    /// Adds every node reachable from the ones present, with the edges between them.
    fn explore(&mut self) {
        let mut next = 0;
        let mut children = Vec::new();
        while next < self.nodes.len() {
            children.clear();
            let readable = match self.nodes.get(next) {
                Some(node) => children_of(&node.value, &mut children),
                None => break,
            };
            let mut edges = Vec::with_capacity(children.len());
            for child in children.drain(..) {
                if let Some(index) = self.insert(child) {
                    edges.push(index);
                }
            }
            if let Some(node) = self.nodes.get_mut(next) {
                node.edges = edges;
                node.opaque = !readable;
            }
            next += 1;
        }
    }

    /// The nodes no outside reference reaches.
    fn garbage(&self) -> Vec<usize> {
        // References from outside = all references − the graph's own − those from
        // other nodes.
        let mut outside: Vec<isize> = self
            .nodes
            .iter()
            .map(|node| strong_count(&node.value) as isize - 1)
            .collect();
        for node in &self.nodes {
            for edge in &node.edges {
                if let Some(count) = outside.get_mut(*edge) {
                    *count -= 1;
                }
            }
        }
        let mut live = vec![false; self.nodes.len()];
        let mut stack: Vec<usize> = (0..self.nodes.len())
            .filter(|i| {
                outside.get(*i).is_some_and(|c| *c > 0)
                    || self.nodes.get(*i).is_some_and(|n| n.opaque)
            })
            .collect();
        while let Some(index) = stack.pop() {
            match live.get_mut(index) {
                Some(seen) if !*seen => *seen = true,
                _ => continue,
            }
            if let Some(node) = self.nodes.get(index) {
                stack.extend(node.edges.iter().copied());
            }
        }
        live.iter()
            .enumerate()
            .filter(|(_, live)| !**live)
            .map(|(index, _)| index)
            .collect()
    }
}

/// The identity of a heap object that can hold values.
fn address(value: &Value) -> Option<usize> {
    Some(match value {
        Value::List(rc) => Rc::as_ptr(rc) as *const () as usize,
        Value::Map(rc) => Rc::as_ptr(rc) as *const () as usize,
        Value::Record(rc) => Rc::as_ptr(rc) as *const () as usize,
        Value::Tuple(rc) => Rc::as_ptr(rc) as *const () as usize,
        Value::Enum(rc) => Rc::as_ptr(rc) as *const () as usize,
        Value::Func(rc) => Rc::as_ptr(rc) as *const () as usize,
        Value::Cell(rc) => Rc::as_ptr(rc) as *const () as usize,
        Value::Iter(rc) => Rc::as_ptr(rc) as *const () as usize,
        Value::Query(rc) => Rc::as_ptr(rc) as *const () as usize,
        Value::Entity(rc) => Rc::as_ptr(rc) as *const () as usize,
        _ => return None,
    })
}

fn strong_count(value: &Value) -> usize {
    match value {
        Value::List(rc) => Rc::strong_count(rc),
        Value::Map(rc) => Rc::strong_count(rc),
        Value::Record(rc) => Rc::strong_count(rc),
        Value::Tuple(rc) => Rc::strong_count(rc),
        Value::Enum(rc) => Rc::strong_count(rc),
        Value::Func(rc) => Rc::strong_count(rc),
        Value::Cell(rc) => Rc::strong_count(rc),
        Value::Iter(rc) => Rc::strong_count(rc),
        Value::Query(rc) => Rc::strong_count(rc),
        Value::Entity(rc) => Rc::strong_count(rc),
        _ => 0,
    }
}

/// Pushes the values `value` holds that can hold values in turn; `false` when they
/// cannot be read now (borrowed for writing).
fn children_of(value: &Value, out: &mut Vec<Value>) -> bool {
    let keep = |v: &&Value| address(v).is_some();
    match value {
        Value::List(rc) => match rc.try_borrow() {
            Ok(items) => out.extend(items.iter().filter(keep).cloned()),
            Err(_) => return false,
        },
        Value::Map(rc) => match rc.try_borrow() {
            Ok(entries) => {
                for (Key(key), item) in entries.iter() {
                    out.extend([key, item].into_iter().filter(keep).cloned());
                }
            }
            Err(_) => return false,
        },
        Value::Record(rc) => match rc.values.try_borrow() {
            Ok(values) => out.extend(values.iter().filter(keep).cloned()),
            Err(_) => return false,
        },
        Value::Tuple(items) => out.extend(items.iter().filter(keep).cloned()),
        Value::Enum(e) => out.extend(e.payload.iter().filter(keep).cloned()),
        Value::Func(closure) => out.extend(closure.captures.iter().filter(keep).cloned()),
        Value::Cell(rc) => match rc.try_borrow() {
            Ok(inner) => out.extend(std::iter::once(&*inner).filter(keep).cloned()),
            Err(_) => return false,
        },
        Value::Iter(rc) => match rc.try_borrow() {
            Ok(state) => state.held(out),
            Err(_) => return false,
        },
        Value::Query(query) => out.extend(query.params.iter().filter(keep).cloned()),
        Value::Entity(rc) => match rc.values.try_borrow() {
            Ok(values) => out.extend(values.iter().filter(keep).cloned()),
            Err(_) => return false,
        },
        _ => {}
    }
    true
}

/// Moves what a garbage container holds into `trash`.
fn empty(value: &Value, trash: &mut Vec<Value>) {
    match value {
        Value::List(rc) => {
            if let Ok(mut items) = rc.try_borrow_mut() {
                trash.append(&mut items);
            }
        }
        Value::Map(rc) => {
            if let Ok(mut entries) = rc.try_borrow_mut() {
                for (Key(key), item) in std::mem::take(&mut *entries) {
                    trash.push(key);
                    trash.push(item);
                }
            }
        }
        Value::Record(rc) => {
            if let Ok(mut values) = rc.values.try_borrow_mut() {
                for slot in values.iter_mut() {
                    trash.push(std::mem::replace(slot, Value::None));
                }
            }
        }
        Value::Cell(rc) => {
            if let Ok(mut inner) = rc.try_borrow_mut() {
                trash.push(std::mem::replace(&mut *inner, Value::None));
            }
        }
        Value::Entity(rc) => {
            if let Ok(mut values) = rc.values.try_borrow_mut() {
                for slot in values.iter_mut() {
                    trash.push(std::mem::replace(slot, Value::None));
                }
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cell_holding_a_closure_that_captures_it_is_freed() {
        let function = Rc::new(crate::program::Function {
            code: std::sync::Arc::new(crate::program::ProgramCode::default()),
            index: 0,
            values: Vec::new(),
            ops: Box::new([]),
            arity: 0,
            n_registers: 0,
            shapes: Vec::new(),
            callees: Vec::new(),
        });
        let cell = Value::cell(Value::None);
        let closure = Value::Func(Rc::new(crate::value::Closure {
            function,
            captures: vec![cell.clone()],
        }));
        if let Value::Cell(rc) = &cell {
            *rc.borrow_mut() = closure;
        }
        let weak = match &cell {
            Value::Cell(rc) => Rc::downgrade(rc),
            _ => return,
        };
        // Held: nothing is freed.
        assert_eq!(collect().freed, 0);
        assert!(weak.upgrade().is_some());
        drop(cell);
        // Only the cycle holds it now.
        assert!(weak.upgrade().is_some());
        let collected = collect();
        assert_eq!(
            collected.freed, 2,
            "the cell and the closure: {collected:?}"
        );
        assert!(weak.upgrade().is_none());
    }

    #[test]
    fn a_list_in_a_record_in_the_list_is_freed_but_not_while_held() {
        let list = Value::list(Vec::new());
        let record = Value::record(
            Rc::from(vec![flin_syntax::Symbol::intern("items")]),
            vec![list.clone()],
        );
        if let Value::List(rc) = &list {
            rc.borrow_mut().push(record.clone());
        }
        drop(list);
        let weak = match &record {
            Value::Record(rc) => Rc::downgrade(rc),
            _ => return,
        };
        assert_eq!(collect().freed, 0);
        drop(record);
        assert_eq!(collect().freed, 2);
        assert!(weak.upgrade().is_none());
    }
}
