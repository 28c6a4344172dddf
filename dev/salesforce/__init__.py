"""A wire-compatible subset of the Salesforce REST API (v59.0), so the pipeline runs without an org.

Run it with ``python -m dev.salesforce --port 8444 --state-dir DIR --cert-dir DIR``; README.md in this
folder lists the endpoints and where the emulator knowingly differs from Salesforce.
"""
