"""Hightouch syncs defined as code (``syncs.yaml``) and their typed loader."""
