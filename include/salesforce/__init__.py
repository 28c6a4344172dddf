"""The Salesforce mirror: incremental extraction of CRM objects by SystemModstamp."""
