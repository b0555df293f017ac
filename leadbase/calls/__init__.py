"""The dialer: voice agents, the dial queue, the scheduler, calls and provider webhooks."""
