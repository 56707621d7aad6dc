"""Use-cases: one function per user action. Each owns its transaction (``session.begin()``)."""
