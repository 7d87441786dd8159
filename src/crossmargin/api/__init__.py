"""The HTTP edge: Backpack's REST API, the operator API, authentication and error mapping."""
