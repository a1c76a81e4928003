//! Decoding: token ids back to bytes and text, whole or streamed.

use super::{TokenType, Tokenizer};

impl Tokenizer {
    /// The bytes a token stands for: byte-level tokens through the inverse GPT-2
    /// table, special tokens as their text, byte tokens `<0xHH>` as that byte. `None`
    /// for an id outside the vocabulary.
    ///
    /// ```no_run
    /// # let tok = hcal_gguf::Tokenizer::from_gguf(&hcal_gguf::Gguf::open("m.gguf").unwrap()).unwrap();
    /// let id = tok.token_id("Ġthe").unwrap();
    /// assert_eq!(tok.token_bytes(id).unwrap(), b" the");
    /// ```
    pub fn token_bytes(&self, id: u32) -> Option<Vec<u8>> {
        let text = self.tokens.get(id as usize)?;
        let ty = self.types[id as usize];
        if ty.is_special() {
            return Some(text.as_bytes().to_vec());
        }
        if ty == TokenType::Byte {
            if let Some(b) =
                text.strip_prefix("<0x").and_then(|h| h.strip_suffix('>')).and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                return Some(vec![b]);
            }
        }
        let mut out = Vec::with_capacity(text.len());
        for c in text.chars() {
            match self.char_to_byte.get(&c) {
                Some(&b) => out.push(b),
                None => out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
            }
        }
        Some(out)
    }

    /// The bytes of a token sequence (ids outside the vocabulary are skipped).
    ///
    /// ```no_run
    /// # let tok = hcal_gguf::Tokenizer::from_gguf(&hcal_gguf::Gguf::open("m.gguf").unwrap()).unwrap();
    /// assert_eq!(tok.decode_bytes(&tok.encode("héllo")), "héllo".as_bytes());
    /// ```
    pub fn decode_bytes(&self, ids: &[u32]) -> Vec<u8> {
        ids.iter().filter_map(|&id| self.token_bytes(id)).flatten().collect()
    }

    /// Decodes a token sequence to text: the concatenated bytes decoded as UTF-8,
    /// invalid sequences as U+FFFD. Special tokens appear as their text.
    ///
    /// ```no_run
    /// # let tok = hcal_gguf::Tokenizer::from_gguf(&hcal_gguf::Gguf::open("m.gguf").unwrap()).unwrap();
    /// let s = "héllo 世界 🙂";
    /// assert_eq!(tok.decode(&tok.encode(s)), s);
    /// ```
    pub fn decode(&self, ids: &[u32]) -> String {
        String::from_utf8_lossy(&self.decode_bytes(ids)).into_owned()
    }

    /// A decoder for tokens arriving one at a time (generation).
    ///
    /// ```no_run
    /// # let tok = hcal_gguf::Tokenizer::from_gguf(&hcal_gguf::Gguf::open("m.gguf").unwrap()).unwrap();
    /// let mut dec = tok.stream_decoder();
    /// let mut text = String::new();
    /// for id in tok.encode("🙂 ok") {
    ///     text.push_str(&dec.push(id));
    /// }
    /// text.push_str(&dec.finish());
    /// assert_eq!(text, "🙂 ok");
    /// ```
    pub fn stream_decoder(&self) -> StreamDecoder<'_> {
        StreamDecoder { tokenizer: self, pending: Vec::new() }
    }
}

/// Incremental decoding: bytes of a UTF-8 character split across tokens are held
/// back until the character is complete.
///
/// ```no_run
/// # let tok = hcal_gguf::Tokenizer::from_gguf(&hcal_gguf::Gguf::open("m.gguf").unwrap()).unwrap();
/// let mut dec = tok.stream_decoder();
/// let piece: String = tok.encode("世界").into_iter().map(|id| dec.push(id)).collect();
/// assert_eq!(piece + &dec.finish(), "世界");
/// ```
#[derive(Debug)]
pub struct StreamDecoder<'a> {
    tokenizer: &'a Tokenizer,
    pending: Vec<u8>,
}

impl StreamDecoder<'_> {
    /// Adds a token; returns the text completed by it (possibly empty). Invalid
    /// UTF-8 becomes U+FFFD as soon as it is known to be invalid.
    ///
    /// ```no_run
    /// # let tok = hcal_gguf::Tokenizer::from_gguf(&hcal_gguf::Gguf::open("m.gguf").unwrap()).unwrap();
    /// let mut dec = tok.stream_decoder();
    /// assert_eq!(dec.push(tok.token_id("Hello").unwrap()), "Hello");
    /// ```
    pub fn push(&mut self, id: u32) -> String {
        if let Some(b) = self.tokenizer.token_bytes(id) {
            self.pending.extend_from_slice(&b);
        }
        let mut out = String::new();
        loop {
            match std::str::from_utf8(&self.pending) {
                Ok(s) => {
                    out.push_str(s);
                    self.pending.clear();
                    return out;
                }
                Err(e) => {
                    let valid = e.valid_up_to();
                    out.push_str(std::str::from_utf8(&self.pending[..valid]).expect("valid prefix"));
                    match e.error_len() {
                        // An incomplete character at the end: wait for more bytes.
                        None => {
                            self.pending.drain(..valid);
                            return out;
                        }
                        Some(bad) => {
                            out.push(char::REPLACEMENT_CHARACTER);
                            self.pending.drain(..valid + bad);
                        }
                    }
                }
            }
        }
    }

    /// Flushes bytes held back (an unfinished character becomes U+FFFD).
    ///
    /// ```no_run
    /// # let tok = hcal_gguf::Tokenizer::from_gguf(&hcal_gguf::Gguf::open("m.gguf").unwrap()).unwrap();
    /// assert_eq!(tok.stream_decoder().finish(), "");
    /// ```
    pub fn finish(&mut self) -> String {
        let s = String::from_utf8_lossy(&self.pending).into_owned();
        self.pending.clear();
        s
    }
}
