//! The loader against a plugin that answers malformed on purpose (the
//! "chaos" plugin, `tests/plugins/chaos.c`, whose answers follow a byte
//! script): each malformed answer the `plugin_abi` fuzz target explores is
//! pinned here as a script and the error it must give. One test, because the
//! script is the plugin's global state.

// Resolving and calling the chaos plugin's script setter is a C call.
#![allow(unsafe_code)]

mod common;

use std::path::Path;

use hcal_core::{Backend, BackendExt, DType, DeviceType, Error, Op, OpSignature, Support, TensorDesc, UnaryOp};
use hcal_plugin::PluginBackend;

/// `void hcal_chaos_set_script(const uint8_t *bytes, size_t len)`.
type SetScript = unsafe extern "C" fn(*const u8, usize);

/// Open the chaos plugin with `script` as its answers.
fn open(library: &libloading::Library, path: &Path, script: &[u8]) -> Result<PluginBackend, Error> {
    // SAFETY: the symbol has the C signature SetScript mirrors; `library`
    // stays loaded across the call; the setter copies `script`.
    unsafe {
        let set: libloading::Symbol<'_, SetScript> = library.get(b"hcal_chaos_set_script\0").expect("the setter");
        set(script.as_ptr(), script.len());
    }
    hcal_plugin::open(path, "")
}

fn err_text(r: Result<PluginBackend, Error>) -> String {
    match r {
        Ok(b) => panic!("opened {b:?}, expected an error"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn every_malformed_answer_is_an_error_naming_it() {
    let Some(path) = common::plugin("chaos", hcal_plugin::test_plugins::chaos(), "chaos") else { return };
    // SAFETY: this repository's test plugin; it has no initializers.
    let library = unsafe { libloading::Library::new(path) }.expect("load the chaos plugin");
    // Byte 1 of each script is get_api's answer, then create's, get_info's
    // and last_error's (see chaos.c); 0 behaves.
    let refusals: [(&[u8], &str); 11] = [
        (&[1], "returned NULL"),
        (&[2, 0], "built for hcal plugin ABI 2"),
        (&[3, 5], "function table is 5 bytes"),
        (&[4], "NULL name"),
        (&[5], "name is not UTF-8"),
        (&[6], "invalid plugin name \"Bad Name!\""),
        (&[7], "invalid plugin name \"\""),
        (&[8, 3], "NULL pointers for last_error"),
        (&[0, 2], "create returned HCAL_OK but no device"),
        // create returns 1000 with an empty message, last_create_error NULL.
        (&[0, 3, 1, 1], "(status 1000): (the plugin gave no message)"),
        // get_info fails with status 1000, last_error returns NULL.
        (&[0, 0, 1, 7, 1], "get_info of chaos failed (status 1000): (the plugin gave no message)"),
    ];
    for (script, needle) in refusals {
        let text = err_text(open(&library, path, script));
        assert!(text.contains(needle), "script {script:?}: {text:?} lacks {needle:?}");
    }

    // get_info with a device type out of range, a non-UTF-8 name, a
    // truncated UTF-8 vendor: the device opens, the text is repaired.
    let b = open(&library, path, &[0, 0, 3, 2, 4, 1]).expect("opens");
    assert_eq!(b.info().device_type, DeviceType::Other);
    assert!(b.info().name.contains('\u{FFFD}') && b.info().vendor.contains('\u{FFFD}'), "{:?}", b.info());
    drop(b);

    // A well-behaved device (the script then runs out), then calls answered
    // malformed one by one.
    let b = open(&library, path, &[0, 0, 0]).expect("opens");
    let desc = TensorDesc::new([4], DType::F32);
    let calls = |script: &[u8]| {
        // SAFETY: as in `open`.
        unsafe {
            let set: libloading::Symbol<'_, SetScript> = library.get(b"hcal_chaos_set_script\0").expect("setter");
            set(script.as_ptr(), script.len());
        }
    };
    calls(&[1, 1]); // alloc: OK without a tensor; last_error: NULL
    let e = b.alloc(&desc).unwrap_err().to_string();
    assert!(e.contains("returned HCAL_OK but no tensor"), "{e}");
    calls(&[2, 1]); // alloc: out of memory, message NULL
    assert!(matches!(b.alloc(&desc), Err(Error::OutOfMemory { bytes: 16, .. })));
    calls(&[0]);
    let t = b.alloc(&desc).expect("alloc");
    calls(&[2]); // read: OK, writes nothing: the bytes are the host's zeroed buffer
    assert_eq!(b.read(&t).expect("read"), [0u8; 16]);
    calls(&[1, 9, 0]); // supports: INT32_MAX
    let sig = OpSignature::new(Op::Unary(UnaryOp::Relu), vec![Some(desc.clone())]).unwrap();
    match b.supports(&sig) {
        Support::Unsupported(reason) => assert!(reason.contains("status 2147483647"), "{reason}"),
        Support::Native => panic!("an out-of-range supports status was taken as yes"),
    }
    calls(&[0, 1, 8, 1]); // supports OK; execute: INT32_MIN, last_error NULL
    let y = b.alloc(&desc);
    let y = match y {
        Ok(y) => y,
        Err(e) => panic!("alloc: {e}"),
    };
    calls(&[0, 1, 8, 1]);
    let e = b.run(&Op::Unary(UnaryOp::Relu), &[&t], &[&y]).unwrap_err().to_string();
    assert!(e.contains("status -2147483648"), "{e}");
    calls(&[1, 6]); // sync: status -1
    assert!(b.sync().unwrap_err().to_string().contains("status -1"));
    calls(&[1, 5]); // free: status 5; the handle is forgotten either way
    assert!(b.free(&t).is_err());
    assert!(matches!(b.free(&t), Err(Error::InvalidTensor { .. })), "a second free is the host's refusal");
}
