"""Model access: OpenAI-compatible client, endpoint profiles, the embedded model."""
