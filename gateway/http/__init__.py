"""The broker's one HTTP server (`ottla serve --http-port P`): console pages, /metrics, the control API.

aiohttp is imported only here and below, and only when --http-port (or its alias --admin-port) is
given: `ottla serve` without it never imports this package. See app.py for how routes are gathered.
"""
