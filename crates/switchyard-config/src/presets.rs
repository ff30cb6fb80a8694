//! Named provider presets: `preset: groq` fills a provider's type, base URL, key variable and
//! quirks; anything written beside it wins. The embedded default is built from the same table.
//!
//! Quirks come from each provider's OpenAI-compatibility page: the output-cap spelling it
//! documents, whether it takes `stream_options` (servers that refuse it report stream usage
//! unasked), and the parameters it answers 400 to.

use serde::Serialize;

use crate::{MaxTokensField, ProviderKind};

/// One named provider.
#[derive(Debug, Clone, Serialize)]
pub struct Preset {
    /// What `preset:` says; also the catalog vendor.
    pub name: &'static str,
    /// Who it is.
    pub title: &'static str,
    /// Provider type.
    #[serde(rename = "type", serialize_with = "kind_name")]
    pub kind: ProviderKind,
    /// Default base URL; `None` where it depends on the account (Azure resource) or is
    /// derived from other keys (Vertex location).
    pub base_url: Option<&'static str>,
    /// The standard key variable (for Vertex: the key file's path variable); `None` for
    /// local servers that take no key.
    pub key_env: Option<&'static str>,
    /// Ask for the stream usage chunk with `stream_options.include_usage`.
    pub stream_usage: bool,
    /// Output-cap spelling.
    #[serde(serialize_with = "field_name")]
    pub max_tokens_field: MaxTokensField,
    /// Parameters the provider refuses with a 400.
    pub unsupported_params: &'static [&'static str],
    /// A local server: its models cost nothing unless priced.
    pub local: bool,
    /// What else an operator should know.
    pub notes: &'static str,
}

fn kind_name<S: serde::Serializer>(k: &ProviderKind, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(k.as_str())
}

fn field_name<S: serde::Serializer>(f: &MaxTokensField, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(f.as_str())
}

use MaxTokensField::{MaxCompletionTokens as Mct, MaxTokens as Mt};
use ProviderKind::{Anthropic, AzureOpenAi, Gemini, OpenAi, OpenAiCompatible as Compat, Vertex};

#[allow(clippy::too_many_arguments)]
const fn p(
    name: &'static str,
    title: &'static str,
    kind: ProviderKind,
    base_url: Option<&'static str>,
    key_env: Option<&'static str>,
    stream_usage: bool,
    max_tokens_field: MaxTokensField,
    unsupported_params: &'static [&'static str],
    notes: &'static str,
) -> Preset {
    Preset {
        name,
        title,
        kind,
        base_url,
        key_env,
        stream_usage,
        max_tokens_field,
        unsupported_params,
        local: false,
        notes,
    }
}

const fn local(
    name: &'static str,
    title: &'static str,
    base_url: &'static str,
    notes: &'static str,
) -> Preset {
    Preset {
        name,
        title,
        kind: Compat,
        base_url: Some(base_url),
        key_env: None,
        stream_usage: true,
        max_tokens_field: Mt,
        unsupported_params: &[],
        local: true,
        notes,
    }
}

/// Every preset, in the order `switchyard presets` lists them.
#[rustfmt::skip]
pub static PRESETS: &[Preset] = &[
    p("openai", "OpenAI", OpenAi, Some("https://api.openai.com/v1"), Some("OPENAI_API_KEY"), true, Mct, &[], ""),
    p("azure", "Azure OpenAI", AzureOpenAi, None, Some("AZURE_OPENAI_API_KEY"), true, Mct, &[],
      "base_url is your resource, https://RESOURCE.openai.azure.com; model = deployment name; api_version sets the api-version query"),
    p("anthropic", "Anthropic", Anthropic, Some("https://api.anthropic.com"), Some("ANTHROPIC_API_KEY"), true, Mt, &[],
      "api_version sets anthropic-version (default 2023-06-01)"),
    p("gemini", "Google Gemini API", Gemini, Some("https://generativelanguage.googleapis.com"), Some("GEMINI_API_KEY"), true, Mt, &[], ""),
    p("vertex", "Google Vertex AI", Vertex, None, Some("GOOGLE_APPLICATION_CREDENTIALS"), true, Mt, &[],
      "needs project and location; credentials_file defaults to $GOOGLE_APPLICATION_CREDENTIALS; gemini-* and claude-* models"),
    p("bedrock", "AWS Bedrock", ProviderKind::Bedrock, None, None, true, Mt, &[],
      "needs region (base_url https://bedrock-runtime.REGION.amazonaws.com); SigV4 with AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN or aws: {...}"),
    p("mistral", "Mistral AI", Compat, Some("https://api.mistral.ai/v1"), Some("MISTRAL_API_KEY"), false, Mt, &[],
      "refuses stream_options (422) and reports stream usage unasked"),
    p("deepseek", "DeepSeek", Compat, Some("https://api.deepseek.com/v1"), Some("DEEPSEEK_API_KEY"), true, Mt, &[],
      "deepseek-reasoner ignores temperature/top_p"),
    p("groq", "Groq", Compat, Some("https://api.groq.com/openai/v1"), Some("GROQ_API_KEY"), true, Mct,
      &["logprobs", "logit_bias", "top_logprobs"], "n must be 1"),
    p("together", "Together AI", Compat, Some("https://api.together.xyz/v1"), Some("TOGETHER_API_KEY"), true, Mt, &[], ""),
    p("fireworks", "Fireworks AI", Compat, Some("https://api.fireworks.ai/inference/v1"), Some("FIREWORKS_API_KEY"), true, Mt, &[],
      "model names are accounts/fireworks/models/NAME"),
    p("xai", "xAI", Compat, Some("https://api.x.ai/v1"), Some("XAI_API_KEY"), true, Mct, &[],
      "reasoning models refuse presence_penalty, frequency_penalty and stop"),
    p("perplexity", "Perplexity", Compat, Some("https://api.perplexity.ai"), Some("PERPLEXITY_API_KEY"), false, Mt,
      &["logit_bias", "logprobs", "top_logprobs", "n"], "reports stream usage unasked"),
    p("cerebras", "Cerebras", Compat, Some("https://api.cerebras.ai/v1"), Some("CEREBRAS_API_KEY"), true, Mct,
      &["frequency_penalty", "presence_penalty", "logit_bias", "parallel_tool_calls", "service_tier"], ""),
    p("openrouter", "OpenRouter", Compat, Some("https://openrouter.ai/api/v1"), Some("OPENROUTER_API_KEY"), true, Mt, &[],
      "model names are VENDOR/MODEL"),
    p("deepinfra", "DeepInfra", Compat, Some("https://api.deepinfra.com/v1/openai"), Some("DEEPINFRA_API_KEY"), true, Mt, &[], ""),
    p("cohere", "Cohere (compatibility API)", Compat, Some("https://api.cohere.ai/compatibility/v1"), Some("COHERE_API_KEY"), false, Mt,
      &["logit_bias", "top_logprobs", "n", "service_tier", "parallel_tool_calls", "store", "metadata"], ""),
    p("moonshot", "Moonshot AI (Kimi)", Compat, Some("https://api.moonshot.ai/v1"), Some("MOONSHOT_API_KEY"), false, Mt, &[],
      "reports stream usage in the last choice unasked"),
    p("qwen", "Alibaba Qwen (DashScope)", Compat, Some("https://dashscope-intl.aliyuncs.com/compatible-mode/v1"), Some("DASHSCOPE_API_KEY"), true, Mt, &[],
      "mainland China accounts: base_url https://dashscope.aliyuncs.com/compatible-mode/v1"),
    p("zhipu", "Zhipu AI / Z.ai (GLM)", Compat, Some("https://api.z.ai/api/paas/v4"), Some("ZAI_API_KEY"), false, Mt, &[],
      "mainland China accounts: base_url https://open.bigmodel.cn/api/paas/v4"),
    p("sambanova", "SambaNova Cloud", Compat, Some("https://api.sambanova.ai/v1"), Some("SAMBANOVA_API_KEY"), true, Mt, &[], ""),
    p("nebius", "Nebius AI Studio", Compat, Some("https://api.studio.nebius.com/v1"), Some("NEBIUS_API_KEY"), true, Mt, &[], ""),
    local("ollama", "Ollama", "http://127.0.0.1:11434/v1", "local; models cost nothing unless priced"),
    local("vllm", "vLLM", "http://127.0.0.1:8000/v1", "local; set api_key_env if started with --api-key"),
    local("lmstudio", "LM Studio", "http://127.0.0.1:1234/v1", "local"),
    local("llamacpp", "llama.cpp server", "http://127.0.0.1:8080/v1", "local; set api_key_env if started with --api-key"),
];

/// The preset called `name`.
pub fn preset(name: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| p.name == name)
}

/// The catalog vendor of a provider without a preset: its type's own service.
pub(crate) fn vendor_of_kind(kind: ProviderKind) -> Option<&'static str> {
    match kind {
        ProviderKind::OpenAi => Some("openai"),
        ProviderKind::AzureOpenAi => Some("azure"),
        ProviderKind::Anthropic => Some("anthropic"),
        ProviderKind::Gemini => Some("gemini"),
        ProviderKind::Vertex => Some("vertex"),
        ProviderKind::Bedrock => Some("bedrock"),
        ProviderKind::OpenAiCompatible => None,
    }
}
