"""Who may do what: API keys with scopes (users and roles arrive with the review UI)."""
