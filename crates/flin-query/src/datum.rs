//! A value as the database sees it: plain data, independent of the VM's layout.

/// A parameter value, or a field value of a stored row.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Datum {
    None,
    Bool(bool),
    Int(i64),
    Number(f64),
    Text(Box<str>),
    /// An amount in minor units and its ISO 4217 code.
    Money {
        minor: i64,
        currency: Box<str>,
    },
    /// Microseconds since the Unix epoch, UTC.
    Time(i64),
    /// Microseconds.
    Duration(i64),
    /// A variant of an enum without a payload, by name.
    Enum(Box<str>),
    /// A reference to a row, by id.
    Ref(i64),
    List(Vec<Datum>),
}
