"""Back-office web UI and customer portal (server-rendered)."""
