"""The asyncio server: connections, dispatch, API handlers, coordinators and the CLI."""
