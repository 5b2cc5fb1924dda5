"""Cases people review and decide (domain logic, no HTTP)."""
