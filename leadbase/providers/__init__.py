"""Small interfaces to the outside world (DESIGN.md §9): email, messengers, voice, language models.

Each provider is a thin client of one protocol; the domains decide what to send and when, and
the worker carries it out. Tests speak to local servers of each protocol, never to mocks."""
