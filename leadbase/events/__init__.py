"""Domain events: written to an outbox in the writing transaction, fanned out by the worker."""
