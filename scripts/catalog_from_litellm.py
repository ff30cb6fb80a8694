#!/usr/bin/env python3
"""Regenerates crates/switchyard-config/catalog.yaml from LiteLLM's community-maintained
model_prices_and_context_window.json (which cites each provider's pricing page).

    python3 scripts/catalog_from_litellm.py model_prices_and_context_window.json 2026-07-24 \
        > crates/switchyard-config/catalog.yaml

Only the models listed in PICK are taken, under the preset name that serves them. Review the
diff against the providers' pricing pages before committing: the catalog's numbers bill users.
"""
import json
import sys

# preset -> [(litellm key, upstream model name or None for the key itself)]
PICK = {
    "openai": ["gpt-5.5", "gpt-5.4", "gpt-5.4-mini", "gpt-5.4-nano", "gpt-5.2", "gpt-5.1", "gpt-5",
               "gpt-5-mini", "gpt-5-nano", "gpt-5-chat-latest", "gpt-4.1", "gpt-4.1-mini",
               "gpt-4.1-nano", "gpt-4o", "gpt-4o-mini", "o3", "o3-mini", "o4-mini", "o1",
               "gpt-4-turbo", "gpt-3.5-turbo", "text-embedding-3-small", "text-embedding-3-large",
               "text-embedding-ada-002"],
    "azure": ["azure/gpt-5.4", "azure/gpt-5.2", "azure/gpt-5", "azure/gpt-5-mini", "azure/gpt-5-nano",
              "azure/gpt-4.1", "azure/gpt-4.1-mini", "azure/gpt-4o", "azure/gpt-4o-mini",
              "azure/o3", "azure/o4-mini", "azure/text-embedding-3-small",
              "azure/text-embedding-3-large"],
    "anthropic": ["claude-opus-4-8", "claude-opus-4-7", "claude-opus-4-6", "claude-opus-4-5",
                  "claude-opus-4-1", "claude-opus-4-20250514", "claude-sonnet-5", "claude-sonnet-4-6",
                  "claude-sonnet-4-5", "claude-sonnet-4-20250514", "claude-3-7-sonnet-20250219",
                  "claude-haiku-4-5", "claude-3-haiku-20240307"],
    "gemini": ["gemini/gemini-3.1-pro-preview", "gemini/gemini-3-flash-preview",
               "gemini/gemini-3.5-flash", "gemini/gemini-3.1-flash-lite",
               "gemini/gemini-2.5-pro", "gemini/gemini-2.5-flash", "gemini/gemini-2.5-flash-lite",
               "gemini/gemini-2.0-flash", "gemini/gemini-2.0-flash-lite",
               "gemini/gemini-embedding-001", "gemini/gemma-3-27b-it"],
    "vertex": ["gemini-3.1-pro-preview", "gemini-3-flash-preview", "gemini-3.5-flash",
               "gemini-3.1-flash-lite", "gemini-2.5-pro", "gemini-2.5-flash", "gemini-2.5-flash-lite",
               "gemini-2.0-flash", "gemini-2.0-flash-lite",
               "vertex_ai/claude-opus-4-7", "vertex_ai/claude-opus-4-6", "vertex_ai/claude-opus-4-5",
               "vertex_ai/claude-opus-4-1", "vertex_ai/claude-sonnet-5", "vertex_ai/claude-sonnet-4-6",
               "vertex_ai/claude-sonnet-4-5", "vertex_ai/claude-sonnet-4", "vertex_ai/claude-haiku-4-5",
               "vertex_ai/claude-3-5-haiku"],
    "bedrock": ["anthropic.claude-opus-4-7", "anthropic.claude-opus-4-6-v1",
                "anthropic.claude-opus-4-5-20251101-v1:0", "anthropic.claude-opus-4-1-20250805-v1:0",
                "anthropic.claude-sonnet-4-6", "anthropic.claude-sonnet-4-5-20250929-v1:0",
                "anthropic.claude-sonnet-4-20250514-v1:0", "anthropic.claude-haiku-4-5-20251001-v1:0",
                "anthropic.claude-3-7-sonnet-20250219-v1:0", "amazon.nova-pro-v1:0",
                "amazon.nova-lite-v1:0", "amazon.nova-micro-v1:0", "amazon.nova-2-lite-v1:0",
                "meta.llama3-3-70b-instruct-v1:0", "meta.llama4-maverick-17b-instruct-v1:0",
                "meta.llama4-scout-17b-instruct-v1:0", "deepseek.v3-v1:0"],
    "mistral": ["mistral/mistral-large-latest", "mistral/mistral-medium-latest",
                "mistral/mistral-small-latest", "mistral/magistral-medium-latest",
                "mistral/magistral-small-latest", "mistral/codestral-latest",
                "mistral/devstral-medium-latest", "mistral/devstral-small-latest",
                "mistral/ministral-8b-latest", "mistral/pixtral-large-latest",
                "mistral/open-mistral-nemo", "mistral/mistral-embed"],
    "deepseek": ["deepseek-chat", "deepseek-reasoner", "deepseek-v4-pro", "deepseek-v4-flash"],
    "groq": ["groq/llama-3.3-70b-versatile", "groq/llama-3.1-8b-instant",
             "groq/meta-llama/llama-4-maverick-17b-128e-instruct",
             "groq/meta-llama/llama-4-scout-17b-16e-instruct", "groq/openai/gpt-oss-120b",
             "groq/openai/gpt-oss-20b", "groq/qwen/qwen3-32b", "groq/moonshotai/kimi-k2-instruct-0905"],
    "together": ["together_ai/meta-llama/Llama-3.3-70B-Instruct-Turbo",
                 "together_ai/meta-llama/Llama-4-Maverick-17B-128E-Instruct-FP8",
                 "together_ai/meta-llama/Llama-4-Scout-17B-16E-Instruct",
                 "together_ai/deepseek-ai/DeepSeek-V3.1", "together_ai/deepseek-ai/DeepSeek-R1",
                 "together_ai/Qwen/Qwen3-235B-A22B-Instruct-2507-tput",
                 "together_ai/Qwen/Qwen3-Coder-480B-A35B-Instruct-FP8",
                 "together_ai/openai/gpt-oss-120b", "together_ai/openai/gpt-oss-20b",
                 "together_ai/moonshotai/Kimi-K2-Instruct-0905", "together_ai/zai-org/GLM-4.6"],
    "fireworks": ["fireworks_ai/accounts/fireworks/models/deepseek-v3p1",
                  "fireworks_ai/accounts/fireworks/models/deepseek-r1-0528",
                  "fireworks_ai/accounts/fireworks/models/gpt-oss-120b",
                  "fireworks_ai/accounts/fireworks/models/gpt-oss-20b",
                  "fireworks_ai/accounts/fireworks/models/kimi-k2-instruct-0905",
                  "fireworks_ai/accounts/fireworks/models/glm-4p6",
                  "fireworks_ai/accounts/fireworks/models/qwen3-coder-480b-a35b-instruct",
                  "fireworks_ai/accounts/fireworks/models/llama4-maverick-instruct-basic",
                  "fireworks_ai/accounts/fireworks/models/llama-v3p1-8b-instruct"],
    "xai": ["xai/grok-4.3", "xai/grok-4", "xai/grok-4-1-fast-reasoning",
            "xai/grok-4-1-fast-non-reasoning", "xai/grok-4-fast-reasoning", "xai/grok-code-fast-1",
            "xai/grok-3", "xai/grok-3-mini"],
    "perplexity": ["perplexity/sonar", "perplexity/sonar-pro", "perplexity/sonar-reasoning-pro",
                   "perplexity/sonar-deep-research"],
    "cerebras": ["cerebras/llama-3.3-70b", "cerebras/llama3.1-8b", "cerebras/gpt-oss-120b",
                 "cerebras/qwen-3-32b", "cerebras/zai-glm-4.7"],
    "openrouter": ["openrouter/openai/gpt-5", "openrouter/openai/gpt-4o",
                   "openrouter/anthropic/claude-sonnet-4.5", "openrouter/anthropic/claude-opus-4.5",
                   "openrouter/google/gemini-2.5-pro", "openrouter/google/gemini-2.5-flash",
                   "openrouter/deepseek/deepseek-v3.2", "openrouter/moonshotai/kimi-k2.5",
                   "openrouter/qwen/qwen3-coder", "openrouter/x-ai/grok-4"],
    "deepinfra": ["deepinfra/meta-llama/Llama-3.3-70B-Instruct-Turbo",
                  "deepinfra/meta-llama/Llama-4-Maverick-17B-128E-Instruct-FP8",
                  "deepinfra/deepseek-ai/DeepSeek-V3.1", "deepinfra/deepseek-ai/DeepSeek-R1-0528",
                  "deepinfra/Qwen/Qwen3-235B-A22B-Instruct-2507",
                  "deepinfra/Qwen/Qwen3-Coder-480B-A35B-Instruct-Turbo",
                  "deepinfra/openai/gpt-oss-120b", "deepinfra/moonshotai/Kimi-K2-Instruct-0905",
                  "deepinfra/google/gemma-3-27b-it"],
    "cohere": ["command-a-03-2025", "command-r-plus-08-2024", "command-r-08-2024",
               "command-r7b-12-2024"],
    "moonshot": ["moonshot/kimi-k2.6", "moonshot/kimi-k2.5", "moonshot/kimi-k2-thinking",
                 "moonshot/kimi-k2-turbo-preview", "moonshot/kimi-k2-0905-preview",
                 "moonshot/moonshot-v1-128k", "moonshot/moonshot-v1-32k", "moonshot/moonshot-v1-8k"],
    "qwen": ["dashscope/qwen3-max", "dashscope/qwen-max", "dashscope/qwen-plus",
             "dashscope/qwen-turbo", "dashscope/qwen-flash", "dashscope/qwen3-coder-plus",
             "dashscope/qwen3-coder-flash", "dashscope/qwen3.5-plus", "dashscope/qwq-plus",
             "dashscope/qwen3-vl-plus"],
    "zhipu": ["zai/glm-5.1", "zai/glm-5", "zai/glm-4.7", "zai/glm-4.6", "zai/glm-4.5",
              "zai/glm-4.5-air", "zai/glm-4.5-flash", "zai/glm-4.7-flash"],
    "sambanova": ["sambanova/Meta-Llama-3.3-70B-Instruct", "sambanova/DeepSeek-V3.1",
                  "sambanova/DeepSeek-R1", "sambanova/Llama-4-Maverick-17B-128E-Instruct",
                  "sambanova/Qwen3-32B", "sambanova/gpt-oss-120b", "sambanova/Meta-Llama-3.1-8B-Instruct"],
    "nebius": ["nebius/deepseek-ai/DeepSeek-V3-0324", "nebius/deepseek-ai/DeepSeek-R1-0528",
               "nebius/meta-llama/Llama-3.3-70B-Instruct", "nebius/Qwen/Qwen3-235B-A22B",
               "nebius/Qwen/Qwen3-32B", "nebius/google/gemma-3-27b-it",
               "nebius/meta-llama/Meta-Llama-3.1-8B-Instruct"],
}

PREFIXES = ["gemini/", "vertex_ai/", "mistral/", "groq/", "together_ai/", "fireworks_ai/", "xai/",
            "perplexity/", "cerebras/", "openrouter/", "deepinfra/", "moonshot/", "dashscope/",
            "zai/", "sambanova/", "nebius/", "azure/", "deepseek/"]


def mtok(v):
    if v is None:
        return None
    x = round(v * 1e6, 6)
    return int(x) if x == int(x) else x


def main():
    data = json.load(open(sys.argv[1]))
    date = sys.argv[2]
    out = [
        "# Switchyard's model catalog: context window, output limit and prices (USD per million",
        "# tokens, standard tier: no batch, flex or priority rates; the lowest prompt tier where",
        "# prices are tiered). Generated by scripts/catalog_from_litellm.py from LiteLLM's",
        "# model_prices_and_context_window.json, which cites each provider's pricing page; review",
        "# against those pages before committing. Operators extend or override it with",
        "# `catalog_file:` (same format) without a rebuild.",
        f"date: {date}",
        "models:",
    ]
    seen = set()
    for vendor, keys in PICK.items():
        out.append(f"  # {vendor}")
        for key in keys:
            e = data.get(key)
            if e is None:
                sys.exit(f"missing {key}")
            model = key
            for p in PREFIXES:
                if model.startswith(p):
                    model = model[len(p):]
                    break
            if vendor == "fireworks":
                model = "accounts/fireworks/models/" + model.split("/")[-1]
            if (vendor, model) in seen:
                sys.exit(f"duplicate {vendor}/{model}")
            seen.add((vendor, model))
            win = e.get("max_input_tokens") or e.get("max_tokens")
            win = int(win) if win else None
            out_max = e.get("max_output_tokens")
            out_max = int(out_max) if out_max else None

            # OpenAI publishes GPT-5's 400k window as 272k input + 128k output.
            if vendor in ("openai", "azure", "openrouter") and win == 272000 and out_max:
                win += out_max
            if not win:
                print(f"skipped {key}: no context window published", file=sys.stderr)
                continue
            if out_max and out_max > win:
                out_max = win
            f = [f"vendor: {vendor}", f"model: {json.dumps(model)}", f"context_window: {win}"]
            if out_max and e.get("mode") != "embedding":
                f.append(f"max_output_tokens: {out_max}")
            f.append(f"input_per_mtok: {mtok(e.get('input_cost_per_token', 0.0))}")
            f.append(f"output_per_mtok: {mtok(e.get('output_cost_per_token', 0.0))}")
            for name, src in [("cache_read_per_mtok", "cache_read_input_token_cost"),
                              ("cache_write_per_mtok", "cache_creation_input_token_cost"),
                              ("cache_write_1h_per_mtok", "cache_creation_input_token_cost_above_1hr")]:
                v = mtok(e.get(src))
                if v:
                    f.append(f"{name}: {v}")
            out.append("  - { " + ", ".join(f) + " }")
    print("\n".join(out))


main()
