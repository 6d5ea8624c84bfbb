"""Pure business rules of order-to-cash. Imports only the standard library."""
