//! OpenTelemetry GenAI semantic-convention values the gateway reports (metrics and traces):
//! `gen_ai.provider.name` from the well-known list, and `gen_ai.operation.name`.

use std::borrow::Cow;

use switchyard_config::Provider;
use switchyard_filter::Endpoint;

/// `gen_ai.provider.name` for a configured provider: the convention's well-known value for its
/// type (`openai`, `anthropic`, `gcp.gemini`, `azure.ai.openai`, `aws.bedrock`,
/// `gcp.vertex_ai`); for an OpenAI-compatible server, the well-known value of the service its
/// base URL names (`deepseek`, `groq`, `mistral_ai`, `x_ai`, `perplexity`), else the
/// provider's id (the convention allows a custom value when none applies).
pub fn provider_name(p: &Provider) -> Cow<'static, str> {
    let known = match p.kind.as_str() {
        "openai" => Some("openai"),
        "azure_openai" => Some("azure.ai.openai"),
        "anthropic" => Some("anthropic"),
        "gemini" => Some("gcp.gemini"),
        "bedrock" => Some("aws.bedrock"),
        "vertex" => Some("gcp.vertex_ai"),
        _ => compatible_service(p.base_url.host_str().unwrap_or("")),
    };
    match known {
        Some(name) => Cow::Borrowed(name),
        None => Cow::Owned(p.id.clone()),
    }
}

/// The well-known provider an OpenAI-compatible base URL's host belongs to.
fn compatible_service(host: &str) -> Option<&'static str> {
    const HOSTS: [(&str, &str); 7] = [
        ("api.deepseek.com", "deepseek"),
        ("api.groq.com", "groq"),
        ("api.mistral.ai", "mistral_ai"),
        ("api.x.ai", "x_ai"),
        ("api.perplexity.ai", "perplexity"),
        ("api.cohere.com", "cohere"),
        ("api.openai.com", "openai"),
    ];
    HOSTS
        .iter()
        .find(|(h, _)| host == *h || host.ends_with(&format!(".{h}")))
        .map(|(_, name)| *name)
}

/// `gen_ai.operation.name` for an endpoint: `embeddings`, else `chat`.
pub fn operation_name(endpoint: Endpoint) -> &'static str {
    match endpoint {
        Endpoint::Embeddings => "embeddings",
        _ => "chat",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use switchyard_config::MapEnv;

    fn providers(yaml: &str) -> Vec<Provider> {
        let env = MapEnv::new().with_var("K", "k");
        switchyard_config::Config::from_yaml_str(yaml, &env)
            .expect("valid config")
            .providers
    }

    #[test]
    fn provider_names_are_the_well_known_values() {
        let ps = providers(
            "version: 1\nproviders:\n\
             - {id: oa, type: openai, api_key_env: K}\n\
             - {id: an, type: anthropic, api_key_env: K}\n\
             - {id: ge, type: gemini, api_key_env: K}\n\
             - {id: az, type: azure_openai, base_url: 'https://x.openai.azure.com', api_key_env: K}\n\
             - {id: ds, type: openai_compatible, base_url: 'https://api.deepseek.com/v1', api_key_env: K}\n\
             - {id: mi, type: openai_compatible, base_url: 'https://api.mistral.ai/v1', api_key_env: K}\n\
             - {id: local-vllm, type: openai_compatible, base_url: 'http://vllm:8000/v1'}\n",
        );
        let names: Vec<_> = ps.iter().map(provider_name).collect();
        assert_eq!(
            names,
            [
                "openai",
                "anthropic",
                "gcp.gemini",
                "azure.ai.openai",
                "deepseek",
                "mistral_ai",
                "local-vllm"
            ]
        );
    }
}
