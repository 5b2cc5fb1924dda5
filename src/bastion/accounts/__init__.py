"""Who may do what: API keys with scopes for programs, users with roles for people."""
