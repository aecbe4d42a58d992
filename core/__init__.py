"""Domain-free building blocks: base model, money helpers, row locking, site options."""
