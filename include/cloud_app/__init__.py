"""Extraction from the cloud app API: typed schema and paginated client."""
