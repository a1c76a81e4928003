//! Every `shaders/*.wgsl` parses and validates with naga (with its
//! `// #include <...>` pieces from `shaders/include/` in place), so a broken
//! kernel fails CI even on a machine without any GPU adapter. That each
//! params struct matches its WGSL mirror is checked by the unit test
//! `params::tests::params_structs_match_their_wgsl_mirrors`.

use std::path::Path;

fn validate(name: &str, source: &str) {
    let module = naga::front::wgsl::parse_str(source)
        .unwrap_or_else(|e| panic!("{name} does not parse:\n{}", e.emit_to_string(source)));
    naga::valid::Validator::new(naga::valid::ValidationFlags::all(), naga::valid::Capabilities::all())
        .validate(&module)
        .unwrap_or_else(|e| panic!("{name} does not validate:\n{}", e.emit_to_string(source)));
}

#[test]
fn every_shader_parses_and_validates() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shaders");
    let families: Vec<(&str, &str)> = hcal_wgpu::shader_sources().collect();
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).expect("shaders/ exists") {
        let path = entry.expect("readable entry").path();
        if path.extension().is_none_or(|e| e != "wgsl") {
            continue;
        }
        let file = std::fs::read_to_string(&path).expect("readable shader");
        assert!(file.starts_with("// "), "{} must open with a comment listing its bindings", path.display());
        assert!(
            file.contains("@binding(0) params: ") && file.contains("Params"),
            "{}: the header names the params struct at binding 0",
            path.display()
        );
        let stem = path.file_stem().and_then(|s| s.to_str()).expect("utf-8 name");
        let (_, source) = families
            .iter()
            .find(|(n, _)| *n == stem)
            .unwrap_or_else(|| panic!("{} is not a kernel family of hcal-wgpu", path.display()));
        let unresolved = source.lines().any(|l| l.trim().starts_with("// #include <"));
        assert!(!unresolved, "{stem}: an include left unresolved");
        if source.starts_with("// TEMPLATE") || source.contains("// F16") {
            continue; // validated below, in every expansion and storage form
        }
        validate(stem, source);
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} shaders found in {}", dir.display());
    for entry in std::fs::read_dir(dir.join("include")).expect("shaders/include/ exists") {
        let path = entry.expect("readable entry").path();
        let file = std::fs::read_to_string(&path).expect("readable include");
        assert!(file.starts_with("// include/"), "{} must open with a comment saying what it is", path.display());
    }
}

#[test]
fn every_template_expansion_parses_and_validates() {
    let expansions = hcal_wgpu::template_expansions();
    assert!(!expansions.is_empty());
    for (name, source) in expansions {
        assert!(!source.contains('$'), "{name}: unexpanded template token");
        validate(&name, &source);
    }
}
