//! Entities kept outside the database by reference (web.md §7): a session stores an
//! entity as `{"$entity": "Note", "$id": 3}` and reads it back as the current row, or
//! `none` once the row is destroyed or soft-deleted. So what the session holds never
//! goes stale.

use crate::entity::EntityObj;
use crate::host::Host;
use crate::{RuntimeError, Value};

/// The JSON that stands for a saved entity.
pub fn to_json(entity: &EntityObj) -> Option<serde_json::Value> {
    let id = entity.id()?;
    Some(serde_json::json!({ "$entity": entity.ty.def.name.as_str(), "$id": id }))
}

/// The entity a reference names, if `json` is one.
pub fn of_json(json: &serde_json::Value) -> Option<(&str, i64)> {
    let object = json.as_object()?;
    if object.len() != 2 {
        return None;
    }
    Some((
        object.get("$entity")?.as_str()?,
        object.get("$id")?.as_i64()?,
    ))
}

/// The current row of `entity` with this id, `none` when it is gone or soft-deleted.
pub fn current(host: &mut dyn Host, entity: &str, id: i64) -> Result<Value, RuntimeError> {
    // An entity type the program no longer declares names nothing.
    let value = match host.load(entity, id) {
        Ok(value) => value,
        Err(err) if err.kind == "database" => return Err(err),
        Err(_) => return Ok(Value::None),
    };
    match &value {
        Value::Entity(found) if found.meta.get().deleted_at.is_some() => Ok(Value::None),
        _ => Ok(value),
    }
}

/// Replaces the references among a map's values (the `session`) by their current
/// entities, in place.
pub fn read_in_map(host: &mut dyn Host, map: &Value) -> Result<(), RuntimeError> {
    let Value::Map(entries) = map else {
        return Ok(());
    };
    let wanted: Vec<(crate::value::Key, String, i64)> = entries
        .borrow()
        .iter()
        .filter_map(|(key, value)| match value {
            Value::Json(json) => {
                of_json(json).map(|(entity, id)| (key.clone(), entity.to_string(), id))
            }
            _ => None,
        })
        .collect();
    for (key, entity, id) in wanted {
        let value = current(host, &entity, id)?;
        entries.borrow_mut().insert(key, value);
    }
    Ok(())
}
