//! Fallible host allocations: a size that comes from a user (a shape on the
//! command line, a tensor in a model file) must turn into an error when the
//! host cannot hold it, not into the allocator's abort.

use crate::{Error, Result};

/// Backend name [`Error::OutOfMemory`] carries for host (not device) memory.
pub const HOST_BACKEND: &str = "host";

/// An empty vector with room for exactly `len` elements, or
/// [`Error::OutOfMemory`] (backend [`HOST_BACKEND`]) naming `what` and the bytes asked
/// for, when the host cannot give that much. Fill it with `extend` or `push`
/// up to `len` without reallocating.
///
/// ```
/// let mut v: Vec<u16> = hcal_core::host_vec_with_capacity(3, "ids").unwrap();
/// v.extend([1, 2, 3]);
/// assert_eq!(v.capacity(), 3);
/// let err = hcal_core::host_vec_with_capacity::<u64>(usize::MAX / 4, "scores of row 7").unwrap_err();
/// assert!(err.to_string().starts_with("backend host: out of memory allocating"), "{err}");
/// assert!(err.to_string().contains("scores of row 7"), "{err}");
/// ```
///
/// # Errors
/// [`Error::OutOfMemory`] when the allocator refuses, or when `len` elements
/// exceed what `usize` bytes address (then `bytes` saturates at `usize::MAX`).
pub fn host_vec_with_capacity<T>(len: usize, what: &str) -> Result<Vec<T>> {
    let mut v = Vec::new();
    // The allocator's reason (refused, or capacity overflow) adds nothing
    // to the size asked for, which is saturated when it overflows.
    v.try_reserve_exact(len).map_err(|_| Error::OutOfMemory {
        backend: HOST_BACKEND.into(),
        bytes: len.saturating_mul(size_of::<T>()),
        detail: what.to_string(),
    })?;
    Ok(v)
}

/// `len` copies of `value` in a host vector, or [`Error::OutOfMemory`] as
/// [`host_vec_with_capacity`] says: what `vec![value; len]` does, without
/// aborting the process when the host cannot hold it.
///
/// ```
/// assert_eq!(hcal_core::host_vec(3, 0.5f32, "weights").unwrap(), [0.5; 3]);
/// let err = hcal_core::host_vec(1usize << 62, 0u8, "input A of MatMul").unwrap_err();
/// assert!(matches!(err, hcal_core::Error::OutOfMemory { bytes, .. } if bytes == 1 << 62));
/// ```
///
/// # Errors
/// [`Error::OutOfMemory`].
pub fn host_vec<T: Clone>(len: usize, value: T, what: &str) -> Result<Vec<T>> {
    let mut v = host_vec_with_capacity(len, what)?;
    v.resize(len, value);
    Ok(v)
}

/// A host copy of `data`, or [`Error::OutOfMemory`] (see [`host_vec`]).
///
/// ```
/// assert_eq!(hcal_core::host_copy(&[1u8, 2], "readback").unwrap(), [1, 2]);
/// ```
///
/// # Errors
/// [`Error::OutOfMemory`].
pub fn host_copy<T: Clone>(data: &[T], what: &str) -> Result<Vec<T>> {
    let mut v = host_vec_with_capacity(data.len(), what)?;
    v.extend_from_slice(data);
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_size_beyond_the_address_space_is_an_error_with_saturated_bytes() {
        let err = host_vec(usize::MAX / 2, 0u32, "x").unwrap_err();
        assert_eq!(err, Error::OutOfMemory { backend: HOST_BACKEND.into(), bytes: usize::MAX, detail: "x".into() });
        assert!(host_copy(&[0u8; 0], "empty").unwrap().is_empty());
    }
}
