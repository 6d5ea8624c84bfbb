"""Pydantic v2 DTOs of the REST API: requests (`*In`) and responses (`*Out`)."""
