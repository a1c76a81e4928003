//! GGUF metadata values.

/// The type tag of a GGUF metadata value (`gguf_type`, a `u32` in the file).
///
/// ```
/// use hcal_gguf::ValueType;
/// assert_eq!(ValueType::from_id(8), Some(ValueType::String));
/// assert_eq!(ValueType::String.id(), 8);
/// assert_eq!(ValueType::from_id(13), None);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ValueType {
    /// `u8` (id 0).
    U8,
    /// `i8` (id 1).
    I8,
    /// `u16` (id 2).
    U16,
    /// `i16` (id 3).
    I16,
    /// `u32` (id 4).
    U32,
    /// `i32` (id 5).
    I32,
    /// `f32` (id 6).
    F32,
    /// `bool`, one byte 0 or 1 (id 7).
    Bool,
    /// String: `u64` byte length then UTF-8 bytes, no terminator (id 8).
    String,
    /// Array: `u32` element type, `u64` count, elements (id 9).
    Array,
    /// `u64` (id 10).
    U64,
    /// `i64` (id 11).
    I64,
    /// `f64` (id 12).
    F64,
}

impl ValueType {
    const ALL: [ValueType; 13] = [
        ValueType::U8,
        ValueType::I8,
        ValueType::U16,
        ValueType::I16,
        ValueType::U32,
        ValueType::I32,
        ValueType::F32,
        ValueType::Bool,
        ValueType::String,
        ValueType::Array,
        ValueType::U64,
        ValueType::I64,
        ValueType::F64,
    ];

    /// The type for a GGUF type id, `None` if the id is not one.
    ///
    /// ```
    /// assert_eq!(hcal_gguf::ValueType::from_id(6), Some(hcal_gguf::ValueType::F32));
    /// ```
    pub fn from_id(id: u32) -> Option<Self> {
        Self::ALL.get(usize::try_from(id).ok()?).copied()
    }

    /// The GGUF type id.
    ///
    /// ```
    /// assert_eq!(hcal_gguf::ValueType::Array.id(), 9);
    /// ```
    pub fn id(self) -> u32 {
        self as u32
    }

    /// Encoded size of one value of a fixed-size type; `None` for strings and arrays.
    ///
    /// ```
    /// assert_eq!(hcal_gguf::ValueType::U64.fixed_size(), Some(8));
    /// assert_eq!(hcal_gguf::ValueType::String.fixed_size(), None);
    /// ```
    pub fn fixed_size(self) -> Option<u64> {
        Some(match self {
            ValueType::U8 | ValueType::I8 | ValueType::Bool => 1,
            ValueType::U16 | ValueType::I16 => 2,
            ValueType::U32 | ValueType::I32 | ValueType::F32 => 4,
            ValueType::U64 | ValueType::I64 | ValueType::F64 => 8,
            ValueType::String | ValueType::Array => return None,
        })
    }

    /// Smallest possible encoded size of one value (a string's length field, an
    /// array's type and count fields): what a count is checked against before
    /// anything is allocated.
    ///
    /// ```
    /// assert_eq!(hcal_gguf::ValueType::String.min_size(), 8);
    /// assert_eq!(hcal_gguf::ValueType::Array.min_size(), 12);
    /// ```
    pub fn min_size(self) -> u64 {
        match self {
            ValueType::String => 8,
            ValueType::Array => 12,
            t => t.fixed_size().unwrap_or(1),
        }
    }

    /// Lower-case name (`"u32"`, `"string"`, `"array"`, ...).
    ///
    /// ```
    /// assert_eq!(hcal_gguf::ValueType::F32.name(), "f32");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            ValueType::U8 => "u8",
            ValueType::I8 => "i8",
            ValueType::U16 => "u16",
            ValueType::I16 => "i16",
            ValueType::U32 => "u32",
            ValueType::I32 => "i32",
            ValueType::F32 => "f32",
            ValueType::Bool => "bool",
            ValueType::String => "string",
            ValueType::Array => "array",
            ValueType::U64 => "u64",
            ValueType::I64 => "i64",
            ValueType::F64 => "f64",
        }
    }
}

/// A metadata value.
///
/// ```
/// use hcal_gguf::Value;
/// let v = Value::U32(30);
/// assert_eq!(v.as_u64(), Some(30));
/// assert_eq!(v.value_type(), hcal_gguf::ValueType::U32);
/// assert_eq!(Value::String("gpt2".into()).as_str(), Some("gpt2"));
/// ```
#[derive(Clone, Debug, PartialEq)]
#[allow(missing_docs)]
pub enum Value {
    U8(u8),
    I8(i8),
    U16(u16),
    I16(i16),
    U32(u32),
    I32(i32),
    F32(f32),
    Bool(bool),
    String(String),
    Array(ArrayValue),
    U64(u64),
    I64(i64),
    F64(f64),
}

/// A metadata array: homogeneous, typed storage (arrays of arrays are allowed).
///
/// ```
/// use hcal_gguf::ArrayValue;
/// let a = ArrayValue::I32(vec![1, 3]);
/// assert_eq!(a.len(), 2);
/// assert_eq!(a.element_type(), hcal_gguf::ValueType::I32);
/// ```
#[derive(Clone, Debug, PartialEq)]
#[allow(missing_docs)]
pub enum ArrayValue {
    U8(Vec<u8>),
    I8(Vec<i8>),
    U16(Vec<u16>),
    I16(Vec<i16>),
    U32(Vec<u32>),
    I32(Vec<i32>),
    F32(Vec<f32>),
    Bool(Vec<bool>),
    String(Vec<String>),
    Array(Vec<ArrayValue>),
    U64(Vec<u64>),
    I64(Vec<i64>),
    F64(Vec<f64>),
}

impl ArrayValue {
    /// Number of elements.
    ///
    /// ```
    /// assert_eq!(hcal_gguf::ArrayValue::U8(vec![]).len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        match self {
            ArrayValue::U8(v) => v.len(),
            ArrayValue::I8(v) => v.len(),
            ArrayValue::U16(v) => v.len(),
            ArrayValue::I16(v) => v.len(),
            ArrayValue::U32(v) => v.len(),
            ArrayValue::I32(v) => v.len(),
            ArrayValue::F32(v) => v.len(),
            ArrayValue::Bool(v) => v.len(),
            ArrayValue::String(v) => v.len(),
            ArrayValue::Array(v) => v.len(),
            ArrayValue::U64(v) => v.len(),
            ArrayValue::I64(v) => v.len(),
            ArrayValue::F64(v) => v.len(),
        }
    }

    /// Whether the array has no elements.
    ///
    /// ```
    /// assert!(hcal_gguf::ArrayValue::String(vec![]).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The element type.
    ///
    /// ```
    /// assert_eq!(hcal_gguf::ArrayValue::F64(vec![]).element_type(), hcal_gguf::ValueType::F64);
    /// ```
    pub fn element_type(&self) -> ValueType {
        match self {
            ArrayValue::U8(_) => ValueType::U8,
            ArrayValue::I8(_) => ValueType::I8,
            ArrayValue::U16(_) => ValueType::U16,
            ArrayValue::I16(_) => ValueType::I16,
            ArrayValue::U32(_) => ValueType::U32,
            ArrayValue::I32(_) => ValueType::I32,
            ArrayValue::F32(_) => ValueType::F32,
            ArrayValue::Bool(_) => ValueType::Bool,
            ArrayValue::String(_) => ValueType::String,
            ArrayValue::Array(_) => ValueType::Array,
            ArrayValue::U64(_) => ValueType::U64,
            ArrayValue::I64(_) => ValueType::I64,
            ArrayValue::F64(_) => ValueType::F64,
        }
    }
}

impl Value {
    /// The value's type tag.
    ///
    /// ```
    /// assert_eq!(hcal_gguf::Value::Bool(true).value_type(), hcal_gguf::ValueType::Bool);
    /// ```
    pub fn value_type(&self) -> ValueType {
        match self {
            Value::U8(_) => ValueType::U8,
            Value::I8(_) => ValueType::I8,
            Value::U16(_) => ValueType::U16,
            Value::I16(_) => ValueType::I16,
            Value::U32(_) => ValueType::U32,
            Value::I32(_) => ValueType::I32,
            Value::F32(_) => ValueType::F32,
            Value::Bool(_) => ValueType::Bool,
            Value::String(_) => ValueType::String,
            Value::Array(_) => ValueType::Array,
            Value::U64(_) => ValueType::U64,
            Value::I64(_) => ValueType::I64,
            Value::F64(_) => ValueType::F64,
        }
    }

    /// Describes the value's type for error messages (`"u32"`, `"array of string"`).
    ///
    /// ```
    /// let v = hcal_gguf::Value::Array(hcal_gguf::ArrayValue::String(vec![]));
    /// assert_eq!(v.type_description(), "array of string");
    /// ```
    pub fn type_description(&self) -> String {
        match self {
            Value::Array(a) => format!("array of {}", a.element_type().name()),
            v => v.value_type().name().to_string(),
        }
    }

    /// Any integer value (not bool) as `u64`, if it is non-negative.
    ///
    /// ```
    /// assert_eq!(hcal_gguf::Value::I32(-1).as_u64(), None);
    /// assert_eq!(hcal_gguf::Value::U16(7).as_u64(), Some(7));
    /// ```
    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            Value::U8(v) => Some(v.into()),
            Value::U16(v) => Some(v.into()),
            Value::U32(v) => Some(v.into()),
            Value::U64(v) => Some(v),
            Value::I8(v) => u64::try_from(v).ok(),
            Value::I16(v) => u64::try_from(v).ok(),
            Value::I32(v) => u64::try_from(v).ok(),
            Value::I64(v) => u64::try_from(v).ok(),
            _ => None,
        }
    }

    /// Any integer value (not bool) as `i64`, if it fits.
    ///
    /// ```
    /// assert_eq!(hcal_gguf::Value::I8(-3).as_i64(), Some(-3));
    /// assert_eq!(hcal_gguf::Value::U64(u64::MAX).as_i64(), None);
    /// ```
    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            Value::I8(v) => Some(v.into()),
            Value::I16(v) => Some(v.into()),
            Value::I32(v) => Some(v.into()),
            Value::I64(v) => Some(v),
            _ => self.as_u64().and_then(|v| i64::try_from(v).ok()),
        }
    }

    /// A float value (`f32`, or `f64` rounded to `f32`).
    ///
    /// ```
    /// assert_eq!(hcal_gguf::Value::F32(1e-5).as_f32(), Some(1e-5));
    /// ```
    pub fn as_f32(&self) -> Option<f32> {
        match *self {
            Value::F32(v) => Some(v),
            Value::F64(v) => Some(v as f32),
            _ => None,
        }
    }

    /// A bool value.
    ///
    /// ```
    /// assert_eq!(hcal_gguf::Value::Bool(false).as_bool(), Some(false));
    /// ```
    pub fn as_bool(&self) -> Option<bool> {
        match *self {
            Value::Bool(v) => Some(v),
            _ => None,
        }
    }

    /// A string value.
    ///
    /// ```
    /// assert_eq!(hcal_gguf::Value::U8(1).as_str(), None);
    /// ```
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// An array value.
    ///
    /// ```
    /// let v = hcal_gguf::Value::Array(hcal_gguf::ArrayValue::U8(vec![1]));
    /// assert_eq!(v.as_array().map(|a| a.len()), Some(1));
    /// ```
    pub fn as_array(&self) -> Option<&ArrayValue> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }
}

impl std::fmt::Display for Value {
    /// Scalars print plainly, strings quoted (debug-escaped), arrays as
    /// `[type; len]` followed by up to the first 8 elements.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::U8(v) => write!(f, "{v}"),
            Value::I8(v) => write!(f, "{v}"),
            Value::U16(v) => write!(f, "{v}"),
            Value::I16(v) => write!(f, "{v}"),
            Value::U32(v) => write!(f, "{v}"),
            Value::I32(v) => write!(f, "{v}"),
            Value::F32(v) => write!(f, "{v:e}"),
            Value::Bool(v) => write!(f, "{v}"),
            Value::String(s) => write!(f, "{s:?}"),
            Value::U64(v) => write!(f, "{v}"),
            Value::I64(v) => write!(f, "{v}"),
            Value::F64(v) => write!(f, "{v:e}"),
            Value::Array(a) => {
                write!(f, "[{}; {}]", a.element_type().name(), a.len())?;
                let head = |n: usize| n.min(8);
                let items: Vec<String> = match a {
                    ArrayValue::U8(v) => v[..head(v.len())].iter().map(|x| x.to_string()).collect(),
                    ArrayValue::I8(v) => v[..head(v.len())].iter().map(|x| x.to_string()).collect(),
                    ArrayValue::U16(v) => v[..head(v.len())].iter().map(|x| x.to_string()).collect(),
                    ArrayValue::I16(v) => v[..head(v.len())].iter().map(|x| x.to_string()).collect(),
                    ArrayValue::U32(v) => v[..head(v.len())].iter().map(|x| x.to_string()).collect(),
                    ArrayValue::I32(v) => v[..head(v.len())].iter().map(|x| x.to_string()).collect(),
                    ArrayValue::F32(v) => v[..head(v.len())].iter().map(|x| x.to_string()).collect(),
                    ArrayValue::Bool(v) => v[..head(v.len())].iter().map(|x| x.to_string()).collect(),
                    ArrayValue::String(v) => v[..head(v.len())].iter().map(|x| format!("{x:?}")).collect(),
                    ArrayValue::Array(v) => v[..head(v.len())]
                        .iter()
                        .map(|x| format!("[{}; {}]", x.element_type().name(), x.len()))
                        .collect(),
                    ArrayValue::U64(v) => v[..head(v.len())].iter().map(|x| x.to_string()).collect(),
                    ArrayValue::I64(v) => v[..head(v.len())].iter().map(|x| x.to_string()).collect(),
                    ArrayValue::F64(v) => v[..head(v.len())].iter().map(|x| x.to_string()).collect(),
                };
                write!(f, " {}", items.join(", "))?;
                if a.len() > 8 {
                    write!(f, ", ...")?;
                }
                Ok(())
            }
        }
    }
}
