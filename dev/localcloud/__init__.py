"""The local cloud: stand-ins for S3, Snowflake and the SaaS APIs, for development and tests only.

Nothing under ``dev/`` ships in the deployment image (see ``.dockerignore``).
"""
