"""taskhub's domain: entities, value objects, state machines, errors and the authorization policy.

Standard library only; nothing here knows about databases, HTTP or brokers.
"""
