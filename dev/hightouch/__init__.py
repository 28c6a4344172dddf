"""Emulator of the Hightouch API subset airflow-provider-hightouch uses, syncing into the Salesforce emulator."""
