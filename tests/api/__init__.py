"""API tests over real HTTP on loopback."""
