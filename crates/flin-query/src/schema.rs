//! Entity descriptions as plain data (data.md §1): what the compiler reads from `entity`
//! declarations, the VM carries with entity values and the store turns into tables.
//! Serializable, so the store can keep the schema it applied and compare it at start-up.

use serde::{Deserialize, Serialize};

use crate::Datum;

/// One `entity` declaration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EntityDef {
    pub name: String,
    /// Declared fields, in declaration order (the automatic fields are not listed).
    pub fields: Vec<FieldDef>,
}

/// One field of an entity.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FieldDef {
    pub name: String,
    pub ty: FieldType,
    /// `T?`: may be `none`.
    pub optional: bool,
    /// Has a default (`= expr`): the value the compiler evaluates when a literal leaves
    /// the field out. `default_value` is that default when it is a constant, used to
    /// fill existing rows when the field is added later (data.md §8).
    pub has_default: bool,
    #[serde(default)]
    pub default_value: Option<Datum>,
    #[serde(default)]
    pub rules: Vec<Rule>,
    #[serde(default)]
    pub unique: bool,
    #[serde(default)]
    pub index: bool,
    #[serde(default)]
    pub search: bool,
    #[serde(default)]
    pub hidden: bool,
    #[serde(default)]
    pub on_delete: OnDelete,
    #[serde(default)]
    pub renamed_from: Option<String>,
}

/// The stored type of a field.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum FieldType {
    Text,
    /// `semantic text`: a text with an embedding kept for it (search.md).
    SemanticText,
    Int,
    Number,
    Bool,
    Time,
    Duration,
    Money,
    File,
    /// An enum without payloads, stored by variant name; the variants allowed.
    Enum {
        name: String,
        variants: Vec<String>,
    },
    /// A reference to a row of another entity (a foreign key).
    Ref(String),
    /// `[Entity]`: many-to-many, kept in a join table.
    RefList(String),
    /// `[text]`, `[int]`: a stored list of scalars.
    List(Box<FieldType>),
}

/// A decorator that checks a value before it is saved (data.md §1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Rule {
    Required,
    Email,
    Url,
    Uuid,
    Min(f64),
    Max(f64),
    Positive,
    NonNegative,
    MinLength(i64),
    MaxLength(i64),
    Pattern(String),
    OneOf(Vec<Datum>),
    Types(Vec<String>),
    MaxSize(i64),
}

/// What destroying a referenced row does to the rows that reference it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum OnDelete {
    #[default]
    Restrict,
    Cascade,
    SetNone,
}

impl EntityDef {
    pub fn field(&self, name: &str) -> Option<&FieldDef> {
        self.fields.iter().find(|field| field.name == name)
    }
}

impl FieldDef {
    /// A plain field: required, no decorators.
    pub fn new(name: impl Into<String>, ty: FieldType) -> FieldDef {
        FieldDef {
            name: name.into(),
            ty,
            optional: false,
            has_default: false,
            default_value: None,
            rules: Vec::new(),
            unique: false,
            index: false,
            search: false,
            hidden: false,
            on_delete: OnDelete::Restrict,
            renamed_from: None,
        }
    }

    /// Whether a literal must give the field (data.md §1).
    pub fn is_required(&self) -> bool {
        !self.optional && !self.has_default && !self.ty.is_list()
    }
}

impl FieldType {
    pub fn is_list(&self) -> bool {
        matches!(self, FieldType::RefList(_) | FieldType::List(_))
    }

    /// The entity a reference or reference list points to.
    pub fn target(&self) -> Option<&str> {
        match self {
            FieldType::Ref(target) | FieldType::RefList(target) => Some(target),
            _ => None,
        }
    }

    /// The name of the type as a FLIN program writes it.
    pub fn describe(&self) -> String {
        match self {
            FieldType::Text => "text".into(),
            FieldType::SemanticText => "semantic text".into(),
            FieldType::Int => "int".into(),
            FieldType::Number => "number".into(),
            FieldType::Bool => "bool".into(),
            FieldType::Time => "time".into(),
            FieldType::Duration => "duration".into(),
            FieldType::Money => "money".into(),
            FieldType::File => "file".into(),
            FieldType::Enum { name, .. } => name.clone(),
            FieldType::Ref(target) => target.clone(),
            FieldType::RefList(target) => format!("[{target}]"),
            FieldType::List(inner) => format!("[{}]", inner.describe()),
        }
    }
}
