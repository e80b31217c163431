"""`make bench`: the skill under gunicorn against a plain Flask app, same settings, same request.

Run with `python -m bench` from the project root; see `bench/__main__.py` for the protocol.
"""
