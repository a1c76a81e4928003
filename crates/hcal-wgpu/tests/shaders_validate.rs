//! Every `shaders/*.wgsl` parses and validates with naga, so a broken kernel
//! fails CI even on a machine without any GPU adapter.

use std::path::Path;

#[test]
fn every_shader_parses_and_validates() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shaders");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).expect("shaders/ exists") {
        let path = entry.expect("readable entry").path();
        if path.extension().is_none_or(|e| e != "wgsl") {
            continue;
        }
        let source = std::fs::read_to_string(&path).expect("readable shader");
        assert!(source.starts_with("// "), "{} must open with a comment listing its bindings", path.display());
        if source.starts_with("// TEMPLATE") {
            continue; // validated below, in every expansion
        }
        let module = naga::front::wgsl::parse_str(&source)
            .unwrap_or_else(|e| panic!("{} does not parse:\n{}", path.display(), e.emit_to_string(&source)));
        naga::valid::Validator::new(naga::valid::ValidationFlags::all(), naga::valid::Capabilities::all())
            .validate(&module)
            .unwrap_or_else(|e| panic!("{} does not validate:\n{}", path.display(), e.emit_to_string(&source)));
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} shaders found in {}", dir.display());
}

#[test]
fn every_template_expansion_parses_and_validates() {
    let expansions = hcal_wgpu::template_expansions();
    assert!(!expansions.is_empty());
    for (name, source) in expansions {
        assert!(!source.contains('$'), "{name}: unexpanded template token");
        let module = naga::front::wgsl::parse_str(&source)
            .unwrap_or_else(|e| panic!("{name} does not parse:\n{}", e.emit_to_string(&source)));
        naga::valid::Validator::new(naga::valid::ValidationFlags::all(), naga::valid::Capabilities::all())
            .validate(&module)
            .unwrap_or_else(|e| panic!("{name} does not validate:\n{}", e.emit_to_string(&source)));
    }
}
