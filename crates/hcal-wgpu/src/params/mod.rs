//! The parameter block of every kernel family, one `#[repr(C)]` struct each.
//!
//! Each struct is declared once, in this module's files by kernel family
//! (`products`, `elementwise`, `movement`), with `params_struct!`, which also
//! writes its WGSL declaration from the same field list; a shader pulls it in
//! with `// #include <XxxParams>` (see `pipeline::with_includes`) and binds
//! it as `var<storage, read> params: XxxParams` at binding 0 (storage, not
//! uniform, so `array<u32, N>` members keep a 4-byte stride and the layout is
//! plain `repr(C)`). Every member is a `u32`, an `f32` or an array of them, so
//! there is no padding; the test `params_structs_match_their_wgsl_mirrors`
//! checks each size and member offset against naga's layout of the WGSL
//! struct as every kernel compiles it. All counts, dims, strides and offsets are in elements (f32 unless
//! a field says otherwise); flags are 0 or 1 unless a field says otherwise.

use bytemuck::Pod;

/// Batch dims a matmul parameter block holds.
pub(crate) const MATMUL_BATCH_RANK: usize = 6;
/// Dims the elementwise blocks (binary, reduce, transpose) hold.
pub(crate) const MAX_DIMS: usize = 8;

/// A WGSL type name for a params member type: `u32`, `f32`, or `[T; N]` as
/// `array<T, N>`.
macro_rules! wgsl_type {
    ([$elem:ident; $len:expr]) => {
        format!("array<{}, {}>", stringify!($elem), $len)
    };
    ($elem:ident) => {
        stringify!($elem).to_string()
    };
}

/// Declare a kernel family's parameter block: the `#[repr(C)]` Rust struct
/// (`Pod`, so it is uploaded as bytes) and, from the same field list, its
/// WGSL declaration ([`ParamsStruct::wgsl`]), so the two cannot drift apart.
macro_rules! params_struct {
    ($(#[$meta:meta])* $name:ident { $($(#[$fmeta:meta])* pub(crate) $field:ident: $ty:tt,)* }) => {
        $(#[$meta])*
        #[repr(C)]
        #[derive(Clone, Copy, Debug, Default, PartialEq, Pod, Zeroable)]
        pub(crate) struct $name {
            $($(#[$fmeta])* pub(crate) $field: $ty,)*
        }

        impl ParamsStruct for $name {
            const NAME: &'static str = stringify!($name);

            fn members() -> Vec<Member> {
                vec![$(Member {
                    name: stringify!($field),
                    wgsl_type: wgsl_type!($ty),
                    offset: std::mem::offset_of!($name, $field),
                }),*]
            }
        }
    };
}

/// One member of a params struct.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Member {
    /// Field name, the same in Rust and WGSL.
    pub(crate) name: &'static str,
    /// Its WGSL type (`u32`, `f32`, `array<u32, 8>`).
    pub(crate) wgsl_type: String,
    /// Its byte offset in the Rust struct.
    pub(crate) offset: usize,
}

/// A parameter block declared with `params_struct!`.
pub(crate) trait ParamsStruct: Pod {
    /// The struct's name in Rust and WGSL.
    const NAME: &'static str;

    /// Members in declaration order.
    fn members() -> Vec<Member>;

    /// The WGSL declaration: `struct Name { field: type, ... }`.
    fn wgsl() -> String {
        let fields: String = Self::members().iter().map(|m| format!("    {}: {},\n", m.name, m.wgsl_type)).collect();
        format!(
            "// Generated from `{}` in crates/hcal-wgpu/src/params/.\nstruct {} {{\n{fields}}}\n",
            Self::NAME,
            Self::NAME
        )
    }
}

// The blocks, by kernel family (declared after the macros, which they use).
mod elementwise;
mod movement;
mod products;

pub(crate) use elementwise::*;
pub(crate) use movement::*;
pub(crate) use products::*;

/// `(name, WGSL declaration)` of every params struct, for the shader loader.
pub(crate) fn wgsl_declarations() -> Vec<(&'static str, String)> {
    fn decl<T: ParamsStruct>() -> (&'static str, String) {
        (T::NAME, T::wgsl())
    }
    vec![
        decl::<MatmulParams>(),
        decl::<AttentionParams>(),
        decl::<SoftmaxParams>(),
        decl::<NormParams>(),
        decl::<BinaryParams>(),
        decl::<UnaryParams>(),
        decl::<WhereParams>(),
        decl::<ReduceParams>(),
        decl::<AlongAxisParams>(),
        decl::<TransposeParams>(),
        decl::<RotaryParams>(),
        decl::<ConvertParams>(),
        decl::<PeakParams>(),
        decl::<MoveParams>(),
        decl::<SplitParams>(),
        // Indexing and KV caches.
        decl::<GatherParams>(),
        decl::<ScatterParams>(),
        decl::<QkvCacheParams>(),
    ]
}

/// `(name, size, members)` of every params struct, for the layout test.
#[cfg(test)]
fn layouts() -> Vec<(&'static str, usize, Vec<Member>)> {
    fn layout<T: ParamsStruct>() -> (&'static str, usize, Vec<Member>) {
        (T::NAME, size_of::<T>(), T::members())
    }
    vec![
        layout::<MatmulParams>(),
        layout::<AttentionParams>(),
        layout::<SoftmaxParams>(),
        layout::<NormParams>(),
        layout::<BinaryParams>(),
        layout::<UnaryParams>(),
        layout::<WhereParams>(),
        layout::<ReduceParams>(),
        layout::<AlongAxisParams>(),
        layout::<TransposeParams>(),
        layout::<RotaryParams>(),
        layout::<ConvertParams>(),
        layout::<PeakParams>(),
        layout::<MoveParams>(),
        layout::<SplitParams>(),
        // Indexing and KV caches.
        layout::<GatherParams>(),
        layout::<ScatterParams>(),
        layout::<QkvCacheParams>(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::family_sources;

    /// Every params struct is bound by some kernel, and naga lays out the
    /// WGSL declaration each kernel compiles exactly as Rust lays out the
    /// struct: same size, same members in the same order at the same offsets.
    #[test]
    fn params_structs_match_their_wgsl_mirrors() {
        let layouts = layouts();
        let mut checked = vec![0usize; layouts.len()];
        // Plain kernels as compiled, templates in every expansion (and the
        // plain kernels with f16 forms in both storage forms, among them).
        let plain = family_sources().iter().filter(|(_, s)| !s.starts_with("// TEMPLATE") && !s.contains("// F16"));
        let sources = plain.map(|(n, s)| (n.to_string(), s.clone())).chain(crate::template_expansions());
        for (shader, text) in sources {
            let module = naga::front::wgsl::parse_str(&text)
                .unwrap_or_else(|e| panic!("{shader} does not parse:\n{}", e.emit_to_string(&text)));
            let mut binds_params = false;
            for (_, var) in module.global_variables.iter() {
                if var.name.as_deref() == Some("params") {
                    binds_params = true;
                    let name = module.types[var.ty].name.as_deref().unwrap_or_default();
                    assert!(layouts.iter().any(|l| l.0 == name), "{shader}: params is a {name}, not a params struct");
                    assert_eq!(var.space, naga::AddressSpace::Storage { access: naga::StorageAccess::LOAD });
                }
            }
            assert!(binds_params, "{shader} binds no params");
            for (_, ty) in module.types.iter() {
                let Some(i) = layouts.iter().position(|l| Some(l.0) == ty.name.as_deref()) else { continue };
                let (name, size, members) = &layouts[i];
                let naga::TypeInner::Struct { members: wgsl, span } = &ty.inner else {
                    panic!("{shader}: {name} is no struct")
                };
                assert_eq!(*span as usize, *size, "{shader}: size of {name}");
                let wgsl: Vec<(&str, usize)> =
                    wgsl.iter().map(|m| (m.name.as_deref().unwrap_or_default(), m.offset as usize)).collect();
                let rust: Vec<(&str, usize)> = members.iter().map(|m| (m.name, m.offset)).collect();
                assert_eq!(wgsl, rust, "{shader}: members of {name} (name, byte offset)");
                checked[i] += 1;
            }
        }
        for (l, n) in layouts.iter().zip(checked) {
            assert!(n > 0, "no shader binds {}", l.0);
        }
    }

    #[test]
    fn a_declaration_reads_like_hand_written_wgsl() {
        let text = SoftmaxParams::wgsl();
        assert!(text.contains("struct SoftmaxParams {\n    lanes: u32,\n    len: u32,\n    inner: u32,\n"), "{text}");
        assert!(BinaryParams::wgsl().contains("    shape: array<u32, 8>,\n"));
    }
}
