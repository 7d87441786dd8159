"""Adapters: journals on SQLite, PostgreSQL and in memory, behind the ports of `app`."""
