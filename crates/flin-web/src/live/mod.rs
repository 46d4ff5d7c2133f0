//! Live pages (web.md §2 "Live updates", §3, §9): a page rendered on the server stays
//! live in the browser. The client runtime (`client.js`, served at `/_flin/live.js`)
//! opens one WebSocket (`/_flin/live`, `socket.rs`) and sends the page's view token;
//! the server *mounts* a view (`view.rs`): it runs the page's code again and holds its
//! state and its last render in memory, on one VM worker. Events run their handler
//! against that state as a unit of work; live values re-run when what they read
//! changes (a handler's variables, or any commit to an entity type they read, told by
//! the hub, `hub.rs`); the page re-renders and only the holes that changed go back
//! (`tree.rs`). The view token and form fields are signed (`token.rs`); forms with a
//! `submit` handler also work without JavaScript (`form.rs`).
//!
//! Invariant: a view's values are the VM's (`Rc`): a view lives on one worker thread
//! and all its work runs there, one event at a time; the async side only moves
//! messages.

pub mod assets;
pub mod form;
pub mod hub;
pub mod socket;
pub mod token;
pub mod tree;
pub mod view;

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

use flin_vm::{RuntimeError, Value, Vm};

use crate::render::{Handler, Instance, PageRender};

/// The hidden field naming a form's `submit` handler (posts without JavaScript).
pub const FORM_FIELD: &str = "_flin_handler";

/// The name a bound element without one posts under (`_flin_bind_<handler>`).
pub const BIND_FIELD: &str = "_flin_bind_";

/// Limits of live pages (`[live]` in flin.toml).
#[derive(Clone, Debug)]
pub struct LiveSettings {
    /// The largest event message, in bytes (`live.max_event`, 64 KB).
    pub max_event: usize,
    /// Events a view takes per second; more are refused with a notice.
    pub events_per_second: u32,
    /// A socket silent this long is closed (the client's heartbeat is every 25 s).
    pub silence: std::time::Duration,
}

impl Default for LiveSettings {
    fn default() -> LiveSettings {
        LiveSettings {
            max_event: 64 * 1024,
            events_per_second: 50,
            silence: std::time::Duration::from_secs(60),
        }
    }
}

/// The instances from the page down to `id`, outermost first (the page itself, `""`,
/// is not one).
pub fn chain_of(instances: &HashMap<String, Instance>, id: &str) -> Vec<String> {
    let mut chain = Vec::new();
    let mut at = id.to_string();
    let mut seen = HashSet::new();
    while !at.is_empty() && seen.insert(at.clone()) {
        let parent = instances.get(&at).map(|i| i.parent.clone());
        chain.push(at);
        match parent {
            Some(parent) => at = parent,
            None => break,
        }
    }
    chain.reverse();
    chain
}

/// Runs a handler (or a `bind` setter with its value) with the state of the component
/// instance it belongs to: that instance's variables (and those of the instances around
/// it) are loaded into the VM, and saved back after, whatever the outcome.
pub fn call_handler(
    vm: &mut Vm<'_>,
    page: &Rc<RefCell<PageRender>>,
    instances: &mut HashMap<String, Instance>,
    handler: &Handler,
    args: &[Value],
) -> Result<Value, RuntimeError> {
    let code = vm.program.code.clone();
    let chain = chain_of(instances, &handler.instance);
    for id in &chain {
        let Some(instance) = instances.get(id) else {
            continue;
        };
        if let Some(view) = instance.view.and_then(|v| code.views.get(v as usize)) {
            vm.put_globals(&view.globals, instance.state.clone());
        }
    }
    page.borrow_mut().handler_instance = instances
        .get(&*handler.instance)
        .map(|i| (i.props.clone(), i.children.clone()));
    let result = vm.call_value(&handler.callee, args);
    page.borrow_mut().handler_instance = None;
    // Innermost first: an instance of the same component around this one does not
    // take this one's values.
    let mut saved = HashSet::new();
    for id in chain.iter().rev() {
        let Some(instance) = instances.get_mut(id) else {
            continue;
        };
        if let Some(view) = instance.view.and_then(|v| code.views.get(v as usize)) {
            if saved.insert(view.file) {
                instance.state = vm.take_globals(&view.globals);
            }
        }
    }
    result
}
