"""Thin request handlers: read the request, ask the domain, answer through Turn.say.

The order they are tried in is set in one place, `skill.runtime.request_handlers`.
"""
