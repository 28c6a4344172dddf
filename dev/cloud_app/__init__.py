"""Emulator of the product's HTTP API: the source of new-workspace signups."""
