//! [`Shape`]: the name of a type in the small type language of method signatures, so that the host
//! can match interfaces on signatures ("`name() -> string`") without knowing the plugin's types.
//!
//! The language: `string`, `bool`, `char`, `null`, the Rust numeric names (`u64`, `i32`, `f64`),
//! `[T]` for sequences, `[T; N]` for sequences of exactly N (Rust's arrays), `T?` for optional
//! values, `{string: T}` for maps, `(A, B)` for tuples and `any` for free-form JSON. A plugin's own
//! types name themselves (`Point`).

use std::collections::{BTreeMap, HashMap, VecDeque};

/// A type that can appear in a method signature.
///
/// Implemented for the standard types. Derive it for your own argument and result types; the
/// shape is the type's name (`#[shape(name = "...")]` picks another):
///
/// ```
/// use quack_core::Shape;
///
/// #[derive(serde::Deserialize, Shape)]
/// struct Point { x: f64, y: f64 }
///
/// #[derive(serde::Serialize, Shape)]
/// enum Side { Left, Right }
///
/// assert_eq!(<Vec<Point> as Shape>::shape(), "[Point]");
/// assert_eq!(<Option<Side> as Shape>::shape(), "Side?");
/// ```
///
/// Or implement it by hand, e.g. for a type whose name you want to keep apart from its Rust name:
///
/// ```
/// struct Point { x: f64, y: f64 }
/// impl quack_core::Shape for Point {
///     fn shape() -> String { "Point".into() }
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no `Shape`, so it cannot be a method's argument or result",
    label = "add `#[derive(Shape)]` to `{Self}`",
    note = "`use quack_core::Shape;` and `#[derive(Shape)]` on the struct or enum: its shape (its name in method signatures, shown by `host inspect`) is its name"
)]
pub trait Shape {
    /// The type's name in the signature language.
    fn shape() -> String;
}

macro_rules! named_shapes {
    ($($ty:ty => $name:expr),* $(,)?) => {
        $(impl Shape for $ty {
            fn shape() -> String {
                $name.to_owned()
            }
        })*
    };
}

named_shapes! {
    u8 => "u8", u16 => "u16", u32 => "u32", u64 => "u64", u128 => "u128", usize => "u64",
    i8 => "i8", i16 => "i16", i32 => "i32", i64 => "i64", i128 => "i128", isize => "i64",
    f32 => "f32", f64 => "f64", bool => "bool", char => "char",
    String => "string", str => "string", () => "null",
    serde_json::Value => "any",
}

impl<T: Shape + ?Sized> Shape for &T {
    fn shape() -> String {
        T::shape()
    }
}

impl<T: Shape + ?Sized> Shape for Box<T> {
    fn shape() -> String {
        T::shape()
    }
}

impl<T: Shape> Shape for Vec<T> {
    fn shape() -> String {
        format!("[{}]", T::shape())
    }
}

impl<T: Shape> Shape for [T] {
    fn shape() -> String {
        format!("[{}]", T::shape())
    }
}

/// An array is a list of exactly `N` values in JSON (`[1, 2]` for a `[u64; 2]`; serde refuses
/// another length), so its shape keeps the length: `[u64; 2]`, not the `[u64]` of a list of any
/// length, and an interface that wants one does not match the other.
impl<T: Shape, const N: usize> Shape for [T; N] {
    fn shape() -> String {
        format!("[{}; {N}]", T::shape())
    }
}

impl<T: Shape> Shape for VecDeque<T> {
    fn shape() -> String {
        format!("[{}]", T::shape())
    }
}

impl<T: Shape> Shape for Option<T> {
    fn shape() -> String {
        format!("{}?", T::shape())
    }
}

impl<V: Shape, S> Shape for HashMap<String, V, S> {
    fn shape() -> String {
        format!("{{string: {}}}", V::shape())
    }
}

impl<V: Shape> Shape for BTreeMap<String, V> {
    fn shape() -> String {
        format!("{{string: {}}}", V::shape())
    }
}

impl Shape for serde_json::Map<String, serde_json::Value> {
    fn shape() -> String {
        "{string: any}".to_owned()
    }
}

macro_rules! tuple_shapes {
    ($(($($name:ident),+)),* $(,)?) => {
        $(impl<$($name: Shape),+> Shape for ($($name,)+) {
            fn shape() -> String {
                let parts: Vec<String> = vec![$($name::shape()),+];
                format!("({})", parts.join(", "))
            }
        })*
    };
}

tuple_shapes!((A), (A, B), (A, B, C), (A, B, C, D));

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_shapes_read_like_signatures() {
        assert_eq!(<Vec<u64>>::shape(), "[u64]");
        assert_eq!(<Option<Vec<String>>>::shape(), "[string]?");
        assert_eq!(<HashMap<String, f64>>::shape(), "{string: f64}");
        assert_eq!(<(u64, bool)>::shape(), "(u64, bool)");
        assert_eq!(<&str>::shape(), "string");
    }

    #[test]
    fn an_array_is_a_list_of_its_length() {
        assert_eq!(<[u64; 2]>::shape(), "[u64; 2]");
        assert_eq!(<Vec<[f64; 3]>>::shape(), "[[f64; 3]]");
        assert_eq!(<Option<[[u8; 2]; 4]>>::shape(), "[[u8; 2]; 4]?");
        assert_ne!(<[u64; 2]>::shape(), <Vec<u64>>::shape());
    }
}
