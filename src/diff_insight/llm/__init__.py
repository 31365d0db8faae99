"""The LLM engine: provider settings, an OpenAI-compatible client with retries and budgets, a SQLite
cache and call log, and (built on them) the LLM writer."""
