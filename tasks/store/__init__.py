"""Rows and queries: the only room that talks to the database."""
