"""Authentication: passwords, tokens, API keys, the request principal."""
