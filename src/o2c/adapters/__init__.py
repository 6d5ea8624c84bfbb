"""Adapters: the database, files, mail and other outside systems."""
