"""Use cases: one function per command, run by the bus in one transaction. No SQL here."""
