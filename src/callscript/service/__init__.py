"""`callscript serve`: the HTTP API over the store. Needs the ``service`` extra.

Never imported by ``import callscript``: the CLI imports it when a service command runs.
"""
