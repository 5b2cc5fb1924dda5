"""One router per resource; each parses, calls the library and renders, nothing more."""
