"""The HTTP routes, one thin router per area (parse, call one function, return a model)."""
