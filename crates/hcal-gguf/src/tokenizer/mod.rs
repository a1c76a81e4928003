//! GPT-2 byte-level BPE tokenizer of GGUF language models (`tokenizer.ggml.model` =
//! `"gpt2"`).
//!
//! Encoding, in order:
//!
//! 1. **Special tokens**: tokens of type [`TokenType::Control`] (and
//!    `UserDefined`/`Unknown`), e.g. `<|im_start|>`, are found in the input as whole
//!    strings (leftmost match first, the longest token at a position winning) and
//!    become their ids directly; the text between them goes through steps 2–4.
//! 2. **Pre-tokenization** (llama.cpp's `smollm`, same as `starcoder`, `refact`,
//!    `command-r`, `codeshell`, `exaone`, `minerva-7b`; and `gpt-2`): for `smollm`
//!    every `\p{N}` character is first split off as its own piece (HF
//!    `Digits(individual_digits)`); then each remaining run is split by the GPT-2
//!    pattern `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`.
//! 3. **Byte-level mapping**: each piece's UTF-8 bytes are mapped through GPT-2's
//!    byte-to-unicode table (printable bytes to themselves, the rest to U+0100...;
//!    a space is `Ġ`, a newline `Ċ`).
//! 4. **BPE**: starting from one symbol per byte, the adjacent pair with the lowest
//!    merge rank (index in `tokenizer.ggml.merges`, entries `"left right"`) is merged,
//!    leftmost first among equal ranks, until no pair has a merge; each final symbol
//!    is a vocabulary token.
//!
//! Decoding maps every token back to bytes (the inverse table; control tokens give
//! their text) and decodes the concatenated bytes as UTF-8 at the end (a character
//! may be split across tokens); [`StreamDecoder`] does the same incrementally.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use regex::Regex;

use crate::{Gguf, GgufError, Result};

mod decode;
pub use decode::StreamDecoder;

/// Marks a byte with no byte-level token in the vocabulary (never merged, dropped).
const NO_TOKEN: u32 = u32::MAX;

/// The GPT-2 split pattern without its `\s+(?!\S)` alternative, which the `regex`
/// crate cannot express (no lookaround); it is emulated in [`Tokenizer::pre_split`]:
/// a whitespace run matched by the final `\s+` that is followed by a non-space
/// character gives its last character back (so `"   x"` splits as `"  "`, `" x"`).
const GPT2_PATTERN: &str = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+";

/// llama.cpp's token type (`tokenizer.ggml.token_type`).
///
/// ```
/// assert_eq!(hcal_gguf::TokenType::from_i32(3), hcal_gguf::TokenType::Control);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TokenType {
    /// 0, or any value not listed.
    Undefined,
    /// 1: an ordinary vocabulary token.
    Normal,
    /// 2: the unknown token.
    Unknown,
    /// 3: a control token (`<|im_start|>`, `<|endoftext|>`), matched whole in input.
    Control,
    /// 4: a user-defined token, matched whole in input.
    UserDefined,
    /// 5: unused.
    Unused,
    /// 6: a byte token `<0xHH>`.
    Byte,
}

impl TokenType {
    /// The type for a stored value (unlisted values are `Undefined`).
    ///
    /// ```
    /// assert_eq!(hcal_gguf::TokenType::from_i32(42), hcal_gguf::TokenType::Undefined);
    /// ```
    pub fn from_i32(v: i32) -> Self {
        match v {
            1 => TokenType::Normal,
            2 => TokenType::Unknown,
            3 => TokenType::Control,
            4 => TokenType::UserDefined,
            5 => TokenType::Unused,
            6 => TokenType::Byte,
            _ => TokenType::Undefined,
        }
    }

    fn is_special(self) -> bool {
        matches!(self, TokenType::Control | TokenType::UserDefined | TokenType::Unknown)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PreTokenizer {
    /// Each `\p{N}` alone, then the GPT-2 pattern.
    DigitsThenGpt2,
    /// The GPT-2 pattern only.
    Gpt2,
}

/// GPT-2's byte-to-unicode table: bytes `!..=~`, `¡..=¬`, `®..=ÿ` map to the
/// same code point, the other 68 bytes to U+0100 + n in byte order.
fn byte_to_char_table() -> [char; 256] {
    let mut table = ['\0'; 256];
    let mut n = 0u32;
    for b in 0..=255u8 {
        let printable = matches!(b, b'!'..=b'~' | 0xA1..=0xAC | 0xAE..=0xFF);
        table[b as usize] = if printable {
            char::from(b)
        } else {
            n += 1;
            char::from_u32(255 + n).expect("U+0100..U+0143 are chars")
        };
    }
    table
}

/// A GPT-2 byte-level BPE tokenizer built from GGUF metadata.
///
/// ```no_run
/// # fn main() -> Result<(), hcal_gguf::GgufError> {
/// let gguf = hcal_gguf::Gguf::open("SmolLM2-135M-Instruct.Q4_1.gguf")?;
/// let tok = hcal_gguf::Tokenizer::from_gguf(&gguf)?;
/// let ids = tok.encode("<|im_start|>user\nHi!<|im_end|>\n");
/// assert_eq!(ids[0], 1); // <|im_start|>
/// assert_eq!(tok.decode(&ids), "<|im_start|>user\nHi!<|im_end|>\n");
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct Tokenizer {
    tokens: Vec<String>,
    types: Vec<TokenType>,
    token_to_id: HashMap<String, u32>,
    /// (left id, right id) → (rank, merged id).
    merges: HashMap<(u32, u32), (u32, u32)>,
    byte_to_id: [u32; 256],
    char_to_byte: HashMap<char, u8>,
    /// Special token ids, longest text first.
    specials: Vec<u32>,
    bos: Option<u32>,
    eos: Option<u32>,
    add_bos: bool,
    pre: PreTokenizer,
    split: Regex,
}

impl Tokenizer {
    /// Builds the tokenizer from `tokenizer.ggml.*` metadata: `model` must be
    /// `"gpt2"`, `pre` one of the pre-tokenizers listed in the module docs,
    /// `tokens` (array of string), `merges` (array of `"left right"` strings),
    /// optional `token_type` (array of i32), `bos_token_id`, `eos_token_id`,
    /// `add_bos_token`.
    ///
    /// ```no_run
    /// # let gguf = hcal_gguf::Gguf::open("m.gguf").unwrap();
    /// let tok = hcal_gguf::Tokenizer::from_gguf(&gguf).unwrap();
    /// assert_eq!(tok.vocab_size(), 49152);
    /// ```
    pub fn from_gguf(gguf: &Gguf) -> Result<Tokenizer> {
        let model = gguf.get_str("tokenizer.ggml.model")?;
        if model != "gpt2" {
            return Err(GgufError::Tokenizer(format!(
                "tokenizer.ggml.model is `{model}`; only `gpt2` (byte-level BPE) is supported"
            )));
        }
        let pre_name = gguf.get_str("tokenizer.ggml.pre")?;
        let pre = match pre_name {
            "smollm" | "starcoder" | "refact" | "command-r" | "codeshell" | "exaone" | "minerva-7b" => {
                PreTokenizer::DigitsThenGpt2
            }
            "gpt-2" | "mpt" | "olmo" => PreTokenizer::Gpt2,
            other => {
                return Err(GgufError::Tokenizer(format!(
                    "tokenizer.ggml.pre `{other}` is not supported (supported: smollm, starcoder, refact, \
                     command-r, codeshell, exaone, minerva-7b, gpt-2, mpt, olmo)"
                )));
            }
        };
        let tokens = gguf.get_str_array("tokenizer.ggml.tokens")?.to_vec();
        if tokens.is_empty() || u32::try_from(tokens.len()).is_err() {
            return Err(GgufError::Tokenizer(format!("tokenizer.ggml.tokens has {} entries", tokens.len())));
        }
        let types: Vec<TokenType> = match gguf.metadata("tokenizer.ggml.token_type") {
            None => vec![TokenType::Normal; tokens.len()],
            Some(_) => {
                let t = gguf.get_i32_array("tokenizer.ggml.token_type")?;
                if t.len() != tokens.len() {
                    return Err(GgufError::Tokenizer(format!(
                        "tokenizer.ggml.token_type has {} entries for {} tokens",
                        t.len(),
                        tokens.len()
                    )));
                }
                t.iter().map(|&v| TokenType::from_i32(v)).collect()
            }
        };
        let mut token_to_id = HashMap::with_capacity(tokens.len());
        for (i, t) in tokens.iter().enumerate() {
            // The first of duplicate token strings wins.
            token_to_id.entry(t.clone()).or_insert(i as u32);
        }
        let byte_chars = byte_to_char_table();
        // Byte-level vocabularies may lack tokens for bytes that (almost) never occur
        // (SmolLM2 has none for 0x04, 0x06, 0x13, 0x14, 0x16, 0x1D, 0xC0, 0xC1,
        // 0xF1, 0xF2, 0xF5..=0xFF): such bytes are dropped from the output, as HF
        // `tokenizers` does for a BPE model without an unknown token.
        let mut byte_to_id = [NO_TOKEN; 256];
        for (b, c) in byte_chars.iter().enumerate() {
            if let Some(&id) = token_to_id.get(&c.to_string()) {
                byte_to_id[b] = id;
            }
        }
        let char_to_byte = byte_chars.iter().enumerate().map(|(b, &c)| (c, b as u8)).collect();

        let merge_strs = gguf.get_str_array("tokenizer.ggml.merges")?;
        let mut merges = HashMap::with_capacity(merge_strs.len());
        for (rank, m) in merge_strs.iter().enumerate() {
            let split =
                m.char_indices().skip(1).find(|&(_, c)| c == ' ').map(|(i, _)| i).ok_or_else(|| {
                    GgufError::Tokenizer(format!("merge {rank} `{m}` is not of the form `left right`"))
                })?;
            let (l, r) = (&m[..split], &m[split + 1..]);
            let (Some(&li), Some(&ri)) = (token_to_id.get(l), token_to_id.get(r)) else {
                continue; // a merge of strings outside the vocabulary never applies
            };
            let Some(&merged) = token_to_id.get(&format!("{l}{r}")) else {
                continue;
            };
            merges.entry((li, ri)).or_insert((rank as u32, merged));
        }

        let mut specials: Vec<u32> = (0..tokens.len() as u32)
            .filter(|&i| types[i as usize].is_special() && !tokens[i as usize].is_empty())
            .collect();
        specials.sort_by_key(|&i| Reverse(tokens[i as usize].len()));

        let id_key = |key: &str| -> Result<Option<u32>> {
            match gguf.metadata(key) {
                None => Ok(None),
                Some(_) => {
                    let id = gguf.get_u32(key)?;
                    if (id as usize) < tokens.len() {
                        Ok(Some(id))
                    } else {
                        Err(GgufError::Tokenizer(format!("{key} = {id} is outside the vocabulary of {}", tokens.len())))
                    }
                }
            }
        };
        let bos = id_key("tokenizer.ggml.bos_token_id")?;
        let eos = id_key("tokenizer.ggml.eos_token_id")?;
        let add_bos = match gguf.metadata("tokenizer.ggml.add_bos_token") {
            None => false,
            Some(_) => gguf.get_bool("tokenizer.ggml.add_bos_token")?,
        };
        let split = Regex::new(GPT2_PATTERN).expect("the GPT-2 pattern compiles");
        Ok(Tokenizer {
            tokens,
            types,
            token_to_id,
            merges,
            byte_to_id,
            char_to_byte,
            specials,
            bos,
            eos,
            add_bos,
            pre,
            split,
        })
    }

    /// Number of tokens in the vocabulary.
    ///
    /// ```no_run
    /// # let tok = hcal_gguf::Tokenizer::from_gguf(&hcal_gguf::Gguf::open("m.gguf").unwrap()).unwrap();
    /// assert_eq!(tok.vocab_size(), 49152);
    /// ```
    pub fn vocab_size(&self) -> usize {
        self.tokens.len()
    }

    /// The stored text of a token (byte-level form: a space is `Ġ`).
    ///
    /// ```no_run
    /// # let tok = hcal_gguf::Tokenizer::from_gguf(&hcal_gguf::Gguf::open("m.gguf").unwrap()).unwrap();
    /// assert_eq!(tok.token(1), Some("<|im_start|>"));
    /// ```
    pub fn token(&self, id: u32) -> Option<&str> {
        self.tokens.get(id as usize).map(String::as_str)
    }

    /// The id of a token given in its stored (byte-level) form.
    ///
    /// ```no_run
    /// # let tok = hcal_gguf::Tokenizer::from_gguf(&hcal_gguf::Gguf::open("m.gguf").unwrap()).unwrap();
    /// assert_eq!(tok.token_id("<|im_end|>"), Some(2));
    /// ```
    pub fn token_id(&self, token: &str) -> Option<u32> {
        self.token_to_id.get(token).copied()
    }

    /// The type of a token.
    ///
    /// ```no_run
    /// # let tok = hcal_gguf::Tokenizer::from_gguf(&hcal_gguf::Gguf::open("m.gguf").unwrap()).unwrap();
    /// assert_eq!(tok.token_type(0), Some(hcal_gguf::TokenType::Control));
    /// ```
    pub fn token_type(&self, id: u32) -> Option<TokenType> {
        self.types.get(id as usize).copied()
    }

    /// `tokenizer.ggml.bos_token_id`.
    ///
    /// ```no_run
    /// # let tok = hcal_gguf::Tokenizer::from_gguf(&hcal_gguf::Gguf::open("m.gguf").unwrap()).unwrap();
    /// assert_eq!(tok.bos_id(), Some(1));
    /// ```
    pub fn bos_id(&self) -> Option<u32> {
        self.bos
    }

    /// `tokenizer.ggml.eos_token_id` (generation stops there; `<|im_end|>` for ChatML).
    ///
    /// ```no_run
    /// # let tok = hcal_gguf::Tokenizer::from_gguf(&hcal_gguf::Gguf::open("m.gguf").unwrap()).unwrap();
    /// assert_eq!(tok.eos_id(), Some(2));
    /// ```
    pub fn eos_id(&self) -> Option<u32> {
        self.eos
    }

    /// `tokenizer.ggml.add_bos_token` (default false): whether a prompt should start
    /// with [`bos_id`](Self::bos_id). [`encode`](Self::encode) never adds it.
    ///
    /// ```no_run
    /// # let tok = hcal_gguf::Tokenizer::from_gguf(&hcal_gguf::Gguf::open("m.gguf").unwrap()).unwrap();
    /// assert!(!tok.add_bos_token());
    /// ```
    pub fn add_bos_token(&self) -> bool {
        self.add_bos
    }

    /// Encodes text, matching special tokens (`<|im_start|>`, ...) as whole tokens.
    /// No BOS is added.
    ///
    /// ```no_run
    /// # let tok = hcal_gguf::Tokenizer::from_gguf(&hcal_gguf::Gguf::open("m.gguf").unwrap()).unwrap();
    /// let ids = tok.encode("The capital of France is");
    /// assert_eq!(tok.decode(&ids), "The capital of France is");
    /// ```
    pub fn encode(&self, text: &str) -> Vec<u32> {
        let mut out = Vec::new();
        let mut rest_start = 0;
        let mut i = 0;
        let bytes = text.as_bytes();
        while i < bytes.len() {
            if let Some(id) = self.special_at(&text[i..]) {
                self.encode_ordinary_into(&text[rest_start..i], &mut out);
                out.push(id);
                i += self.tokens[id as usize].len();
                rest_start = i;
            } else {
                i += 1;
                while i < bytes.len() && !text.is_char_boundary(i) {
                    i += 1;
                }
            }
        }
        self.encode_ordinary_into(&text[rest_start..], &mut out);
        out
    }

    /// Encodes text with no special-token matching: `"<|im_start|>"` is encoded as
    /// the characters `<`, `|`, ... (for untrusted user content).
    ///
    /// ```no_run
    /// # let tok = hcal_gguf::Tokenizer::from_gguf(&hcal_gguf::Gguf::open("m.gguf").unwrap()).unwrap();
    /// assert!(tok.encode_ordinary("<|im_start|>").len() > 1);
    /// ```
    pub fn encode_ordinary(&self, text: &str) -> Vec<u32> {
        let mut out = Vec::new();
        self.encode_ordinary_into(text, &mut out);
        out
    }

    fn special_at(&self, s: &str) -> Option<u32> {
        let first = *s.as_bytes().first()?;
        self.specials.iter().copied().find(|&id| {
            let t = self.tokens[id as usize].as_bytes();
            t[0] == first && s.as_bytes().starts_with(t)
        })
    }

    fn encode_ordinary_into(&self, text: &str, out: &mut Vec<u32>) {
        for piece in self.pre_split(text) {
            self.bpe(piece.as_bytes(), out);
        }
    }

    /// Pre-tokenization: the pieces BPE runs on, in order (they concatenate to `text`).
    ///
    /// ```no_run
    /// # let tok = hcal_gguf::Tokenizer::from_gguf(&hcal_gguf::Gguf::open("m.gguf").unwrap()).unwrap();
    /// assert_eq!(tok.pre_split("I'm 12   ok\n"), ["I", "'m", " ", "1", "2", "  ", " ok", "\n"]);
    /// ```
    pub fn pre_split<'a>(&self, text: &'a str) -> Vec<&'a str> {
        let mut pieces = Vec::new();
        match self.pre {
            PreTokenizer::Gpt2 => self.gpt2_split(text, &mut pieces),
            PreTokenizer::DigitsThenGpt2 => {
                // `\p{N}` is exactly `char::is_numeric` (general categories Nd, Nl, No).
                let mut start = 0;
                for (i, c) in text.char_indices() {
                    if c.is_numeric() {
                        self.gpt2_split(&text[start..i], &mut pieces);
                        pieces.push(&text[i..i + c.len_utf8()]);
                        start = i + c.len_utf8();
                    }
                }
                self.gpt2_split(&text[start..], &mut pieces);
            }
        }
        pieces
    }

    fn gpt2_split<'a>(&self, s: &'a str, pieces: &mut Vec<&'a str>) {
        let mut pos = 0;
        while pos < s.len() {
            let Some(m) = self.split.find_at(s, pos) else {
                pieces.push(&s[pos..]);
                return;
            };
            if m.start() > pos {
                // Unreachable in practice (every character matches some
                // alternative); kept as llama.cpp keeps unmatched text.
                pieces.push(&s[pos..m.start()]);
            }
            let mut end = m.end();
            let matched = m.as_str();
            // The `\s+(?!\S)` emulation: an all-whitespace match followed by more text
            // (necessarily non-whitespace, the match being greedy) leaves its last
            // character to start the next piece, unless it is a single character.
            if end < s.len() && matched.chars().all(char::is_whitespace) {
                let last = matched.chars().next_back().expect("non-empty match");
                if matched.len() > last.len_utf8() {
                    end -= last.len_utf8();
                }
            }
            pieces.push(&s[m.start()..end]);
            pos = end;
        }
    }

    /// Byte-level BPE of one piece, appending the token ids to `out`.
    fn bpe(&self, piece: &[u8], out: &mut Vec<u32>) {
        if piece.is_empty() {
            return;
        }
        if piece.len() == 1 {
            let id = self.byte_to_id[piece[0] as usize];
            if id != NO_TOKEN {
                out.push(id);
            }
            return;
        }
        // Doubly linked list of symbols; a min-heap of candidate merges keyed by
        // (rank, left position). Stale candidates are skipped when popped.
        struct Sym {
            id: u32,
            prev: usize,
            next: usize,
            alive: bool,
        }
        const NONE: usize = usize::MAX;
        let n = piece.len();
        let mut syms: Vec<Sym> = piece
            .iter()
            .enumerate()
            .map(|(i, &b)| Sym {
                id: self.byte_to_id[b as usize],
                prev: if i == 0 { NONE } else { i - 1 },
                next: if i + 1 == n { NONE } else { i + 1 },
                alive: true,
            })
            .collect();
        let mut heap = BinaryHeap::new();
        let push = |heap: &mut BinaryHeap<Reverse<(u32, usize, u32, u32)>>, l: usize, syms: &[Sym]| {
            let r = syms[l].next;
            if r != NONE {
                if let Some(&(rank, _)) = self.merges.get(&(syms[l].id, syms[r].id)) {
                    heap.push(Reverse((rank, l, syms[l].id, syms[r].id)));
                }
            }
        };
        for i in 0..n - 1 {
            push(&mut heap, i, &syms);
        }
        while let Some(Reverse((_, l, lid, rid))) = heap.pop() {
            let r = syms[l].next;
            if !syms[l].alive || r == NONE || syms[l].id != lid || syms[r].id != rid {
                continue;
            }
            let (_, merged) = self.merges[&(lid, rid)];
            syms[l].id = merged;
            syms[r].alive = false;
            let rn = syms[r].next;
            syms[l].next = rn;
            if rn != NONE {
                syms[rn].prev = l;
            }
            let p = syms[l].prev;
            if p != NONE {
                push(&mut heap, p, &syms);
            }
            push(&mut heap, l, &syms);
        }
        let mut i = 0;
        while i != NONE {
            if syms[i].id != NO_TOKEN {
                out.push(syms[i].id);
            }
            i = syms[i].next;
        }
    }
}
