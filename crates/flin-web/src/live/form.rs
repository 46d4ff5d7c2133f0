//! Forms with a `submit` handler work without JavaScript (web.md §9): the page renders
//! each such form with `method="post"` and a hidden field naming its handler, signed
//! for that page; the browser posts the form to the page's path; the server runs the
//! page's code, renders it (which names its handlers again, the same way) and runs the
//! handler named, with `event.form` from the posted fields, then answers `303` back to
//! the page (or where the handler redirects). A post without the field runs the page's
//! `route POST` block, if it has one.

use std::rc::Rc;

use flin_vm::Value;
use flin_vm::value::{Entries, Key};

use crate::unit::{RequestData, Site};

/// The handler a form posted to its page names, when its signed field is valid.
pub fn posted_handler(site: &Site, request: &RequestData) -> Option<String> {
    let field = fields(request)
        .into_iter()
        .find(|(name, _)| name == super::FORM_FIELD)
        .map(|(_, value)| value)?;
    site.signer.read_form_field(&request.path, &field)
}

/// The posted fields of an urlencoded form (the texts of a multipart one).
pub fn fields(request: &RequestData) -> Vec<(String, String)> {
    if let Some(uploads) = &request.uploads {
        return uploads.texts();
    }
    let urlencoded = request.headers.iter().any(|(k, v)| {
        k == "content-type"
            && v.to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
    });
    if !urlencoded {
        return Vec::new();
    }
    crate::json::form_pairs(&String::from_utf8_lossy(&request.body))
}

/// `event` of a posted form: its fields as `event.form` (FLIN's own fields left out).
pub fn event_of(request: &RequestData) -> Value {
    let form: Vec<(String, String)> = fields(request)
        .into_iter()
        .filter(|(name, _)| !name.starts_with("_flin_"))
        .collect();
    event_value("", "", false, &form)
}

/// An `event` value: `value`, `key`, `checked` and `form` (web.md §2).
pub fn event_value(value: &str, key: &str, checked: bool, form: &[(String, String)]) -> Value {
    let entries: Entries = form
        .iter()
        .map(|(k, v)| (Key(Value::text(k.as_str())), Value::text(v.as_str())))
        .collect();
    let shape: Rc<[flin_syntax::Symbol]> = ["value", "key", "checked", "form"]
        .iter()
        .map(|name| flin_syntax::Symbol::intern(name))
        .collect();
    Value::record(
        shape,
        vec![
            Value::text(value),
            Value::text(key),
            Value::Bool(checked),
            Value::map(entries),
        ],
    )
}
