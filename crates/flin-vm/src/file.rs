//! The `file` value (services.md §2): an uploaded file as the program sees it, with
//! `.name .size .type .extension .hash .url`. It is a record whose first field is the
//! marker `$file` (as `$response` marks a response), so field access, equality and
//! copying need nothing new; JSON and the store see its four stored parts
//! (`{name, size, type, hash}`), and its `.url` is made when the value is.
//!
//! Invariant: the VM knows nothing of HTTP or of the secret key. The host that serves
//! files sets, per worker thread, how a URL is signed ([`set_url_signer`]); without one
//! (scripts, tests) the URL is the unsigned path.

use std::cell::RefCell;
use std::rc::Rc;

use flin_syntax::Symbol;

use crate::value::Value;

/// The marker field of a file record.
pub const MARKER: &str = "$file";

/// How this thread signs file URLs: `(hash, name) -> "/_flin/files/…?s=…"`.
pub type UrlSigner = Rc<dyn Fn(&str, &str) -> String>;

thread_local! {
    static SIGNER: RefCell<Option<UrlSigner>> = const { RefCell::new(None) };
}

/// Sets how file URLs are made on this thread (a web worker sets it once at start).
pub fn set_url_signer(signer: Option<UrlSigner>) {
    SIGNER.with(|slot| *slot.borrow_mut() = signer);
}

/// The stored parts of a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileParts {
    /// The name as the client sent it (sanitised for URLs and downloads only).
    pub name: String,
    pub size: i64,
    /// The type read from the bytes (`image/png`), not the one the client declared.
    pub content_type: String,
    /// SHA-256 of the bytes, lower-case hex: where the blob is stored.
    pub hash: String,
}

impl FileParts {
    /// As stored in a row and sent in JSON (without the URL).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "name": self.name,
            "size": self.size,
            "type": self.content_type,
            "hash": self.hash,
        })
    }

    /// Reads the stored form back; `None` when `json` is not a file.
    pub fn from_json(json: &serde_json::Value) -> Option<FileParts> {
        let object = json.as_object()?;
        let hash = object.get("hash")?.as_str()?;
        if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        Some(FileParts {
            name: object.get("name")?.as_str()?.to_string(),
            size: object.get("size")?.as_i64()?,
            content_type: object.get("type")?.as_str()?.to_string(),
            hash: hash.to_ascii_lowercase(),
        })
    }

    /// Reads the stored text of a row's file column.
    pub fn from_stored(text: &str) -> Option<FileParts> {
        FileParts::from_json(&serde_json::from_str(text).ok()?)
    }

    /// The extension of the name, lower case, without the dot (`""` when none).
    pub fn extension(&self) -> String {
        match self.name.rsplit_once('.') {
            Some((stem, ext)) if !stem.is_empty() && !ext.is_empty() => ext.to_lowercase(),
            _ => String::new(),
        }
    }

    /// The URL that serves it: signed by this thread's signer, if any.
    pub fn url(&self) -> String {
        let signed = SIGNER.with(|slot| slot.borrow().as_ref().map(|s| s(&self.hash, &self.name)));
        signed.unwrap_or_else(|| format!("/_flin/files/{}/{}", self.hash, self.name))
    }

    /// The `file` value.
    pub fn to_value(&self) -> Value {
        let shape: Rc<[Symbol]> = [MARKER, "name", "size", "type", "extension", "hash", "url"]
            .iter()
            .map(|n| Symbol::intern(n))
            .collect();
        Value::record(
            shape,
            vec![
                Value::Bool(true),
                Value::text(self.name.as_str()),
                Value::Int(self.size),
                Value::text(self.content_type.as_str()),
                Value::text(self.extension()),
                Value::text(self.hash.as_str()),
                Value::text(self.url()),
            ],
        )
    }
}

/// The parts of `value` when it is a `file`.
pub fn parts(value: &Value) -> Option<FileParts> {
    let Value::Record(record) = value else {
        if let Value::Cell(cell) = value {
            return parts(&cell.borrow());
        }
        return None;
    };
    if record.shape.first().is_none_or(|f| f.as_str() != MARKER) {
        return None;
    }
    let text = |name: &str| match record.get(Symbol::intern(name)) {
        Some(Value::Text(t)) => Some(t.as_str().to_string()),
        _ => None,
    };
    let size = match record.get(Symbol::intern("size")) {
        Some(Value::Int(n)) => n,
        _ => return None,
    };
    Some(FileParts {
        name: text("name")?,
        size,
        content_type: text("type")?,
        hash: text("hash")?,
    })
}

/// A file in JSON (services.md §4): `{"name", "size", "type", "hash", "url"}`.
pub fn to_json(value: &Value) -> Option<serde_json::Value> {
    let parts = parts(value)?;
    let mut json = parts.to_json();
    if let Some(object) = json.as_object_mut() {
        object.insert("url".into(), serde_json::Value::String(parts.url()));
    }
    Some(json)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_file_reads_back_from_its_stored_form_and_shows_its_parts() {
        let parts = FileParts {
            name: "Report.PDF".into(),
            size: 12,
            content_type: "application/pdf".into(),
            hash: "a".repeat(64),
        };
        let stored = parts.to_json().to_string();
        assert_eq!(FileParts::from_stored(&stored), Some(parts.clone()));
        assert_eq!(parts.extension(), "pdf");
        let value = parts.to_value();
        assert_eq!(super::parts(&value), Some(parts.clone()));
        let json = to_json(&value).unwrap();
        assert_eq!(
            json["url"],
            format!("/_flin/files/{}/Report.PDF", "a".repeat(64))
        );
        set_url_signer(Some(Rc::new(|hash: &str, _name: &str| {
            format!("/x/{hash}")
        })));
        assert_eq!(parts.url(), format!("/x/{}", "a".repeat(64)));
        set_url_signer(None);
        assert_eq!(FileParts::from_stored("plain text"), None);
        assert_eq!(
            FileParts::from_stored("{\"hash\":\"../x\",\"name\":\"a\",\"size\":1,\"type\":\"t\"}"),
            None
        );
    }
}
