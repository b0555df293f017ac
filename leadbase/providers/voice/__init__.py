"""Voice providers: VAPI, Bland and a simulator (see ``base`` for the interface)."""
