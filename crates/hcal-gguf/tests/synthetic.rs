//! The reader against small GGUF files written here: a valid file read back, and
//! every malformed-file path an error (naming what is wrong), never a panic.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use half::f16;
use hcal_gguf::{ArrayValue, GgmlType, Gguf, GgufError, Value};

/// A minimal GGUF writer.
#[derive(Default, Clone)]
struct W {
    buf: Vec<u8>,
}

impl W {
    fn u32(&mut self, v: u32) -> &mut Self {
        self.buf.extend_from_slice(&v.to_le_bytes());
        self
    }
    fn u64(&mut self, v: u64) -> &mut Self {
        self.buf.extend_from_slice(&v.to_le_bytes());
        self
    }
    fn raw(&mut self, b: &[u8]) -> &mut Self {
        self.buf.extend_from_slice(b);
        self
    }
    fn str(&mut self, s: &str) -> &mut Self {
        self.u64(s.len() as u64).raw(s.as_bytes())
    }
    fn header(&mut self, tensors: u64, kvs: u64) -> &mut Self {
        self.raw(b"GGUF").u32(3).u64(tensors).u64(kvs)
    }
    fn kv_u32(&mut self, k: &str, v: u32) -> &mut Self {
        self.str(k).u32(4).u32(v)
    }
    fn kv_f32(&mut self, k: &str, v: f32) -> &mut Self {
        self.str(k).u32(6).raw(&v.to_le_bytes())
    }
    fn kv_str(&mut self, k: &str, v: &str) -> &mut Self {
        self.str(k).u32(8).str(v)
    }
    fn kv_strs(&mut self, k: &str, v: &[&str]) -> &mut Self {
        self.str(k).u32(9).u32(8).u64(v.len() as u64);
        for s in v {
            self.str(s);
        }
        self
    }
    fn tensor(&mut self, name: &str, dims: &[u64], ty: u32, offset: u64) -> &mut Self {
        self.str(name).u32(dims.len() as u32);
        for &d in dims {
            self.u64(d);
        }
        self.u32(ty).u64(offset)
    }
    fn pad(&mut self, align: usize) -> &mut Self {
        while self.buf.len() % align != 0 {
            self.buf.push(0);
        }
        self
    }
}

fn write(bytes: &[u8]) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let p = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "hcal-gguf-{}-{}.gguf",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&p, bytes).unwrap();
    p
}

fn open(bytes: &[u8]) -> Result<Gguf, GgufError> {
    let p = write(bytes);
    let r = Gguf::open(&p);
    let _ = std::fs::remove_file(&p);
    r
}

fn err(bytes: &[u8]) -> String {
    match open(bytes) {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.to_string(),
    }
}

/// The Q8_0 block of tensor `b`: d = 0.5, q = 0..32 minus 16.
fn q8_block() -> Vec<u8> {
    let mut b = f16::from_f32(0.5).to_le_bytes().to_vec();
    b.extend((0..32).map(|i| (i as i8 - 16) as u8));
    b
}

/// A valid file: 4 metadata entries, an F32 [2, 4] tensor and a Q8_0 [32] tensor.
fn valid() -> Vec<u8> {
    let mut w = W::default();
    w.header(2, 5)
        .kv_str("general.architecture", "test")
        .kv_u32("general.alignment", 32)
        .kv_strs("test.words", &["a", "bc", "héllo"])
        .kv_f32("test.eps", 1e-5);
    // Nested array: [[1u8, 2u8], []] (arrays of arrays are legal GGUF).
    w.str("test.nested").u32(9).u32(9).u64(2);
    w.u32(0).u64(2).raw(&[1, 2]);
    w.u32(0).u64(0);
    w.tensor("a", &[4, 2], 0, 0).tensor("b", &[32], 8, 32).pad(32);
    for i in 0..8 {
        w.raw(&(i as f32).to_le_bytes());
    }
    w.raw(&q8_block());
    w.buf
}

#[test]
fn valid_file_reads_back() {
    let g = open(&valid()).unwrap();
    assert_eq!(g.version(), 3);
    assert_eq!(g.alignment(), 32);
    assert_eq!(g.get_str("general.architecture").unwrap(), "test");
    assert_eq!(g.get_str_array("test.words").unwrap(), ["a", "bc", "héllo"]);
    assert_eq!(g.get_f32("test.eps").unwrap(), 1e-5);
    assert_eq!(
        g.metadata("test.nested"),
        Some(&Value::Array(ArrayValue::Array(vec![ArrayValue::U8(vec![1, 2]), ArrayValue::U8(vec![])])))
    );
    assert!(matches!(g.get_u32("test.eps"), Err(GgufError::WrongType { .. })));
    assert!(matches!(g.get_u32("nope"), Err(GgufError::MissingKey { .. })));
    assert_eq!(g.tensors().len(), 2);
    let a = g.tensor("a").unwrap();
    assert_eq!((a.dims(), a.shape(), a.ggml_type(), a.n_bytes()), (&[4u64, 2][..], vec![2, 4], GgmlType::F32, 32));
    assert_eq!(g.tensor_f32(a).unwrap(), (0..8).map(|i| i as f32).collect::<Vec<_>>());
    let b = g.tensor("b").unwrap();
    assert_eq!((b.ggml_type(), b.n_bytes(), b.file_offset()), (GgmlType::Q8_0, 34, g.data_offset() + 32));
    assert_eq!(g.tensor_bytes(b).unwrap(), q8_block());
    assert_eq!(g.tensor_f32(b).unwrap(), (0..32).map(|i| (i - 16) as f32 * 0.5).collect::<Vec<_>>());
}

#[test]
fn bad_magic() {
    let mut f = valid();
    f[..4].copy_from_slice(b"GGML");
    let e = err(&f);
    assert!(e.contains("offset 0") && e.contains("bad magic"), "{e}");
}

#[test]
fn version_2_rejected() {
    let mut f = valid();
    f[4..8].copy_from_slice(&2u32.to_le_bytes());
    let e = err(&f);
    assert!(e.contains("unsupported GGUF version 2") && e.contains("only version 3"), "{e}");
}

#[test]
fn truncated_header() {
    let e = err(&valid()[..10]);
    assert!(e.contains("at offset 8") && e.contains("tensor count"), "{e}");
    let e = err(b"GG");
    assert!(e.contains("magic"), "{e}");
    let e = err(b"");
    assert!(e.contains("magic"), "{e}");
}

#[test]
fn string_length_past_eof() {
    let mut w = W::default();
    w.header(0, 1).u64(1000).raw(b"general.architecture").u32(8);
    let e = err(&w.buf);
    assert!(e.contains("at offset 32") && e.contains("key of metadata entry 0") && e.contains("1000 bytes"), "{e}");
    // A string value whose length is u64::MAX.
    let mut w = W::default();
    w.header(0, 1).str("k").u32(8).u64(u64::MAX);
    let e = err(&w.buf);
    assert!(e.contains("value of `k`"), "{e}");
}

#[test]
fn huge_counts_rejected_before_allocating() {
    let mut w = W::default();
    w.header(1 << 60, 0);
    let e = err(&w.buf);
    assert!(e.contains("1152921504606846976 tensor infos") && e.contains("offset 8"), "{e}");
    let mut w = W::default();
    w.header(0, u64::MAX);
    assert!(err(&w.buf).contains("18446744073709551615 metadata entries"));
    // An array of 2^62 strings.
    let mut w = W::default();
    w.header(0, 1).str("big").u32(9).u32(8).u64(1 << 62);
    let e = err(&w.buf);
    assert!(e.contains("array `big` of 4611686018427387904 string elements"), "{e}");
    // An array of u64::MAX u64s (count × size overflows).
    let mut w = W::default();
    w.header(0, 1).str("big").u32(9).u32(10).u64(u64::MAX);
    assert!(err(&w.buf).contains("array `big`"));
}

#[test]
fn tensor_offset_past_eof() {
    let mut w = W::default();
    w.header(1, 0).tensor("t", &[8], 0, 64).pad(32).raw(&[0; 32]);
    let e = err(&w.buf);
    assert!(e.contains("data of tensor `t`") && e.contains("needs 32 bytes"), "{e}");
    // Offset near u64::MAX (overflowing data_offset + offset).
    let mut w = W::default();
    w.header(1, 0).tensor("t", &[8], 0, u64::MAX - 31).pad(32);
    assert!(err(&w.buf).contains("data of tensor `t`"));
}

#[test]
fn misaligned() {
    let mut w = W::default();
    w.header(1, 0).tensor("t", &[4], 0, 16).pad(32).raw(&[0; 64]);
    let e = err(&w.buf);
    assert!(e.contains("data offset 16 is not a multiple of the alignment 32"), "{e}");
    let mut w = W::default();
    w.header(0, 1).kv_u32("general.alignment", 24);
    let e = err(&w.buf);
    assert!(e.contains("`general.alignment` must be a u32 power of two, found u32 24"), "{e}");
    let mut w = W::default();
    w.header(0, 1).kv_f32("general.alignment", 32.0);
    assert!(err(&w.buf).contains("general.alignment"));
}

#[test]
fn custom_alignment_moves_the_data_section() {
    let mut w = W::default();
    w.header(1, 1).kv_u32("general.alignment", 64).tensor("t", &[2], 0, 0).pad(64);
    let at = w.buf.len() as u64;
    w.raw(&1f32.to_le_bytes()).raw(&2f32.to_le_bytes());
    let g = open(&w.buf).unwrap();
    assert_eq!((g.alignment(), g.data_offset()), (64, at));
    assert_eq!(g.tensor_f32(&g.tensors()[0]).unwrap(), [1.0, 2.0]);
}

#[test]
fn malformed_fields() {
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (
            {
                let mut w = W::default();
                w.header(0, 1).str("k").u32(13);
                w.buf
            },
            "unknown value type id 13",
        ),
        (
            {
                let mut w = W::default();
                w.header(0, 1).str("k").u32(7).raw(&[2]);
                w.buf
            },
            "bool byte is 2",
        ),
        (
            {
                let mut w = W::default();
                w.header(0, 1).str("k").u32(9).u32(7).u64(1).raw(&[9]);
                w.buf
            },
            "bool byte is 9",
        ),
        (
            {
                let mut w = W::default();
                w.header(0, 1).u64(2).raw(&[0xC3, 0x28]).u32(4).u32(0);
                w.buf
            },
            "not valid UTF-8",
        ),
        (
            {
                let mut w = W::default();
                w.header(0, 2).kv_u32("k", 1).kv_u32("k", 2);
                w.buf
            },
            "duplicate metadata key `k`",
        ),
        (
            {
                let mut w = W::default();
                w.header(1, 0).tensor("t", &[1, 1, 1, 1, 1], 0, 0).pad(32).raw(&[0; 32]);
                w.buf
            },
            "5 dimensions",
        ),
        (
            {
                let mut w = W::default();
                w.header(1, 0).tensor("t", &[], 0, 0).pad(32).raw(&[0; 32]);
                w.buf
            },
            "0 dimensions",
        ),
        (
            {
                let mut w = W::default();
                w.header(1, 0).tensor("t", &[1 << 40, 1 << 40], 0, 0).pad(32);
                w.buf
            },
            "element count",
        ),
        (
            {
                let mut w = W::default();
                w.header(1, 0).tensor("t", &[u64::MAX], 0, 0).pad(32);
                w.buf
            },
            "beyond ggml's i64",
        ),
        (
            {
                let mut w = W::default();
                w.header(1, 0).tensor("t", &[32], 4, 0).pad(32).raw(&[0; 64]);
                w.buf
            },
            "unknown ggml type id 4",
        ),
        (
            {
                let mut w = W::default();
                w.header(1, 0).tensor("t", &[16], 3, 0).pad(32).raw(&[0; 64]);
                w.buf
            },
            "not a multiple of the Q4_1 block size 32",
        ),
        (
            {
                let mut w = W::default();
                w.header(2, 0).tensor("t", &[4], 0, 0).tensor("t", &[4], 0, 32).pad(32).raw(&[0; 64]);
                w.buf
            },
            "duplicate tensor name `t`",
        ),
    ];
    for (bytes, want) in cases {
        let e = err(&bytes);
        assert!(e.contains(want) && e.contains("offset"), "expected `{want}` in: {e}");
    }
}

#[test]
fn deeply_nested_arrays_rejected() {
    let mut w = W::default();
    w.header(0, 1).str("deep").u32(9);
    for _ in 0..100 {
        w.u32(9).u64(1);
    }
    w.u32(0).u64(0);
    assert!(err(&w.buf).contains("nested deeper"));
}

/// Every prefix of a valid file is an error (or, past the header, still valid); no
/// byte value at any header position makes the reader panic.
#[test]
fn every_truncation_and_byte_corruption_is_handled() {
    let f = valid();
    let g = open(&f).unwrap();
    let data_end = g.tensors().iter().map(|t| t.file_offset() + t.n_bytes()).max().unwrap() as usize;
    assert_eq!(data_end, f.len());
    for n in 0..f.len() {
        assert!(open(&f[..n]).is_err(), "prefix of {n} bytes accepted");
    }
    let header_len = g.data_offset() as usize;
    for i in 0..header_len {
        for v in [0x00, 0x01, 0x7F, 0x80, 0xFF] {
            let mut c = f.clone();
            c[i] = v;
            let _ = open(&c); // Ok or Err, never a panic
        }
    }
}

#[test]
fn tensor_bytes_rechecks_the_file_length() {
    let f = valid();
    let p = write(&f);
    let g = Gguf::open(&p).unwrap();
    std::fs::write(&p, &f[..f.len() - 10]).unwrap();
    let e = g.tensor_bytes(g.tensor("b").unwrap()).unwrap_err().to_string();
    assert!(e.contains("data of tensor `b`"), "{e}");
    let _ = std::fs::remove_file(&p);
}
