//! ChatML formatting (`tokenizer.chat_template`).
//!
//! GGUF models carry their chat template as Jinja source. hcal does not interpret
//! Jinja: it recognizes ChatML-shaped templates (they contain `<|im_start|>`) and
//! formats conversations itself:
//!
//! ```text
//! <|im_start|>{role}\n{content}<|im_end|>\n      (per message)
//! <|im_start|>assistant\n                         (if add_generation_prompt)
//! ```
//!
//! If the template inserts a default system message when the conversation does not
//! start with one (SmolLM2: `{% if loop.first and messages[0]['role'] != 'system' %}`
//! followed by a literal `<|im_start|>system\n...<|im_end|>\n`), that text is
//! extracted and inserted the same way.

use crate::{Gguf, GgufError, Result};

/// One chat message.
///
/// ```
/// let m = hcal_gguf::Message::new("user", "Hi");
/// assert_eq!((m.role.as_str(), m.content.as_str()), ("user", "Hi"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// `system`, `user` or `assistant`.
    pub role: String,
    /// The message text.
    pub content: String,
}

impl Message {
    /// A message with this role and content.
    ///
    /// ```
    /// let m = hcal_gguf::Message::new("system", "Be brief.");
    /// assert_eq!(m.role, "system");
    /// ```
    pub fn new(role: impl Into<String>, content: impl Into<String>) -> Self {
        Message { role: role.into(), content: content.into() }
    }
}

/// Formats `messages` as plain ChatML (no default system message).
///
/// ```
/// use hcal_gguf::{format_chat, Message};
/// let s = format_chat(&[Message::new("user", "Hi")], true);
/// assert_eq!(s, "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n");
/// ```
pub fn format_chat(messages: &[Message], add_generation_prompt: bool) -> String {
    ChatTemplate::chatml().format(messages, add_generation_prompt)
}

/// A ChatML chat template, with the default system message of the model's template
/// if it has one.
///
/// ```
/// use hcal_gguf::{ChatTemplate, Message};
/// let t = ChatTemplate::with_default_system("You are helpful.");
/// let s = t.format(&[Message::new("user", "Hi")], true);
/// assert_eq!(
///     s,
///     "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChatTemplate {
    default_system: Option<String>,
}

impl ChatTemplate {
    /// Plain ChatML.
    ///
    /// ```
    /// assert_eq!(hcal_gguf::ChatTemplate::chatml().default_system(), None);
    /// ```
    pub fn chatml() -> Self {
        ChatTemplate { default_system: None }
    }

    /// ChatML that starts conversations lacking a system message with this one.
    ///
    /// ```
    /// let t = hcal_gguf::ChatTemplate::with_default_system("Be brief.");
    /// assert_eq!(t.default_system(), Some("Be brief."));
    /// ```
    pub fn with_default_system(system: impl Into<String>) -> Self {
        ChatTemplate { default_system: Some(system.into()) }
    }

    /// Recognizes a ChatML Jinja template (it must contain `<|im_start|>`) and
    /// extracts its default system message (a literal
    /// `<|im_start|>system\n…<|im_end|>`; `\n` may be a newline or Jinja's `\n`
    /// escape). An error for other templates.
    ///
    /// ```
    /// let jinja = "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}\
    ///     {{ '<|im_start|>system\\nBe brief.<|im_end|>\\n' }}{% endif %}\
    ///     {{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}";
    /// let t = hcal_gguf::ChatTemplate::from_jinja(jinja).unwrap();
    /// assert_eq!(t.default_system(), Some("Be brief."));
    /// assert!(hcal_gguf::ChatTemplate::from_jinja("[INST] {{ x }} [/INST]").is_err());
    /// ```
    pub fn from_jinja(template: &str) -> Result<Self> {
        if !template.contains("<|im_start|>") {
            return Err(GgufError::Tokenizer(
                "the chat template is not ChatML (no `<|im_start|>`); only ChatML is supported".into(),
            ));
        }
        const HEAD: &str = "<|im_start|>system";
        let default_system = template.find(HEAD).and_then(|i| {
            let rest = &template[i + HEAD.len()..];
            let rest = rest.strip_prefix('\n').or_else(|| rest.strip_prefix("\\n"))?;
            let end = rest.find("<|im_end|>")?;
            let text = &rest[..end];
            // A literal (not an expression such as `' + message['content'] + '`).
            if text.contains('\'') || text.contains('"') || text.contains("{{") {
                return None;
            }
            Some(text.replace("\\n", "\n"))
        });
        Ok(ChatTemplate { default_system })
    }

    /// Reads `tokenizer.chat_template` (see [`from_jinja`](Self::from_jinja)).
    ///
    /// ```no_run
    /// # let gguf = hcal_gguf::Gguf::open("m.gguf").unwrap();
    /// let t = hcal_gguf::ChatTemplate::from_gguf(&gguf).unwrap();
    /// assert_eq!(t.default_system(), Some("You are a helpful AI assistant named SmolLM, trained by Hugging Face"));
    /// ```
    pub fn from_gguf(gguf: &Gguf) -> Result<Self> {
        Self::from_jinja(gguf.get_str("tokenizer.chat_template")?)
    }

    /// The default system message, if any.
    ///
    /// ```
    /// assert!(hcal_gguf::ChatTemplate::chatml().default_system().is_none());
    /// ```
    pub fn default_system(&self) -> Option<&str> {
        self.default_system.as_deref()
    }

    /// Formats a conversation: the default system message first if there is one and
    /// the (non-empty) conversation does not start with a `system` message, then
    /// `<|im_start|>{role}\n{content}<|im_end|>\n` per message, then
    /// `<|im_start|>assistant\n` if `add_generation_prompt`.
    ///
    /// ```
    /// let t = hcal_gguf::ChatTemplate::with_default_system("S");
    /// let m = [hcal_gguf::Message::new("system", "Mine"), hcal_gguf::Message::new("user", "Q")];
    /// assert_eq!(t.format(&m, false), "<|im_start|>system\nMine<|im_end|>\n<|im_start|>user\nQ<|im_end|>\n");
    /// ```
    pub fn format(&self, messages: &[Message], add_generation_prompt: bool) -> String {
        let mut out = String::new();
        let mut push = |role: &str, content: &str| {
            out.push_str("<|im_start|>");
            out.push_str(role);
            out.push('\n');
            out.push_str(content);
            out.push_str("<|im_end|>\n");
        };
        if let (Some(sys), Some(first)) = (&self.default_system, messages.first()) {
            if first.role != "system" {
                push("system", sys);
            }
        }
        for m in messages {
            push(&m.role, &m.content);
        }
        if add_generation_prompt {
            out.push_str("<|im_start|>assistant\n");
        }
        out
    }
}
