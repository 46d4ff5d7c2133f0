//! Entity instances in the VM (data.md): an entity's type, its identity and version as
//! the database last gave them, and its field values. The database row is the source of
//! truth (DESIGN.md); the VM's value is the state a program works on between saves.
//!
//! A reference field holds the referenced entity once it is loaded, or its id (an int)
//! until the program reads it; reading loads it through the host.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use flin_query::{EntityDef, FieldType};
use flin_syntax::Symbol;

use crate::error::RuntimeError;
use crate::value::Value;
use crate::vm::Vm;

/// An entity type: its declaration as plain data and its field names as symbols.
#[derive(Debug)]
pub struct EntityType {
    pub name: Symbol,
    pub def: EntityDef,
    pub fields: Rc<[Symbol]>,
}

impl EntityType {
    pub fn new(def: EntityDef) -> EntityType {
        EntityType {
            name: Symbol::intern(&def.name),
            fields: def.fields.iter().map(|f| Symbol::intern(&f.name)).collect(),
            def,
        }
    }

    pub fn field_index(&self, name: Symbol) -> Option<usize> {
        self.fields.iter().position(|f| *f == name)
    }
}

/// The automatic fields (data.md §1), as the database last set them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EntityMeta {
    /// `None` before the first save.
    pub id: Option<i64>,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub deleted_at: Option<i64>,
    /// For a version out of history: when it was current.
    pub valid_from: Option<i64>,
    pub valid_to: Option<i64>,
}

#[derive(Debug)]
pub struct EntityObj {
    pub ty: Rc<EntityType>,
    pub meta: Cell<EntityMeta>,
    /// The declared fields, in declaration order.
    pub values: RefCell<Vec<Value>>,
    /// Reference fields to show in full in JSON (`.with(author)` on the query that
    /// loaded it), one bit per field index.
    pub expanded: Cell<u64>,
    /// A field was set since the entity was loaded or last saved: a live value holding
    /// it is an edit in progress and is not re-run (web.md §9).
    pub dirty: Cell<bool>,
}

impl EntityObj {
    pub fn id(&self) -> Option<i64> {
        self.meta.get().id
    }
}

/// A new entity value (registered with the cycle collector: entities can refer to each
/// other).
pub fn new_entity(ty: Rc<EntityType>, meta: EntityMeta, values: Vec<Value>) -> Value {
    let value = Value::Entity(Rc::new(EntityObj {
        ty,
        meta: Cell::new(meta),
        values: RefCell::new(values),
        expanded: Cell::new(0),
        dirty: Cell::new(false),
    }));
    crate::cycles::register(&value);
    value
}

/// `Book#3`, `Book#new`.
pub fn display(entity: &EntityObj) -> String {
    match entity.id() {
        Some(id) => format!("{}#{id}", entity.ty.name),
        None => format!("{}#new", entity.ty.name),
    }
}

/// Identity by id (language.md §4); an unsaved entity equals only itself.
pub fn equal(a: &Rc<EntityObj>, b: &Rc<EntityObj>) -> bool {
    if Rc::ptr_eq(a, b) {
        return true;
    }
    a.ty.name == b.ty.name && a.id().is_some() && a.id() == b.id()
}

fn time(t: i64) -> Value {
    Value::Time(t)
}

/// `entity.name`: an automatic field, a declared field (loading a reference on first
/// read), or `history`.
pub fn get_field(
    vm: &mut Vm<'_>,
    entity: &Rc<EntityObj>,
    name: Symbol,
) -> Result<Value, RuntimeError> {
    if let Some(index) = entity.ty.field_index(name) {
        let current = entity
            .values
            .borrow()
            .get(index)
            .cloned()
            .unwrap_or(Value::None);
        let target = entity.ty.def.fields.get(index).and_then(|f| match &f.ty {
            FieldType::Ref(target) => Some(target.clone()),
            _ => None,
        });
        if let (Some(target), Value::Int(id)) = (target, &current) {
            let loaded = vm.host.load(&target, *id)?;
            if let Ok(mut values) = entity.values.try_borrow_mut() {
                if let Some(slot) = values.get_mut(index) {
                    *slot = loaded.clone();
                }
            }
            return Ok(loaded);
        }
        return Ok(current);
    }
    let meta = entity.meta.get();
    Ok(match name.as_str() {
        "id" => meta.id.map_or(Value::None, Value::Int),
        "version" => Value::Int(meta.version),
        "created_at" => time(meta.created_at),
        "updated_at" => time(meta.updated_at),
        "deleted_at" => meta.deleted_at.map_or(Value::None, time),
        "valid_from" => meta.valid_from.map_or(Value::None, time),
        "valid_to" => meta.valid_to.map_or(Value::None, time),
        "history" => match meta.id {
            Some(id) => vm.host.history(&entity.ty.def.name, id)?,
            None => Value::list(Vec::new()),
        },
        other => {
            return Err(RuntimeError::type_error(format!(
                "{} has no field `{other}`",
                entity.ty.name
            )));
        }
    })
}

/// `entity.name = value` on a declared field.
pub fn set_field(entity: &EntityObj, name: Symbol, value: Value) -> Result<(), RuntimeError> {
    let Some(index) = entity.ty.field_index(name) else {
        let automatic = matches!(
            name.as_str(),
            "id" | "version" | "created_at" | "updated_at" | "deleted_at"
        );
        return Err(RuntimeError::type_error(if automatic {
            format!("`{name}` of {} is set by the database", entity.ty.name)
        } else {
            format!("{} has no field `{name}`", entity.ty.name)
        }));
    };
    let mut values = entity
        .values
        .try_borrow_mut()
        .map_err(|_| RuntimeError::runtime("the entity is being read"))?;
    if let Some(slot) = values.get_mut(index) {
        *slot = value;
    }
    entity.dirty.set(true);
    Ok(())
}

/// The JSON of an entity (web.md §5): its fields (not `@hidden`), `id`, `version`,
/// `created_at`, `updated_at`; a reference as `{"id": n}`, in full after `.with(field)`
/// on the query that loaded it. The one mapping for `to_json` and API responses.
pub fn to_json(entity: &EntityObj) -> serde_json::Value {
    let meta = entity.meta.get();
    let mut object = serde_json::Map::new();
    object.insert(
        "id".into(),
        meta.id
            .map_or(serde_json::Value::Null, serde_json::Value::from),
    );
    let values = entity.values.borrow();
    let expanded = entity.expanded.get();
    let reference = |id: Option<i64>| serde_json::json!({ "id": id });
    for (index, (field, value)) in entity.ty.def.fields.iter().zip(values.iter()).enumerate() {
        if field.hidden {
            continue;
        }
        let json = match (value, field.ty.target()) {
            // `.with(author)` on the query that loaded it: the reference in full.
            (Value::Entity(other), _) if index < 64 && expanded & (1 << index) != 0 => {
                to_json(other)
            }
            (Value::Entity(other), _) => reference(other.id()),
            // A reference not loaded yet is its id.
            (Value::Int(id), Some(_)) => reference(Some(*id)),
            (other, _) => crate::json::to_json_value(other),
        };
        object.insert(field.name.clone(), json);
    }
    object.insert("version".into(), serde_json::Value::from(meta.version));
    object.insert(
        "created_at".into(),
        crate::json::to_json_value(&Value::Time(meta.created_at)),
    );
    object.insert(
        "updated_at".into(),
        crate::json::to_json_value(&Value::Time(meta.updated_at)),
    );
    serde_json::Value::Object(object)
}
