-- Idempotent warehouse bootstrap: the same statements locally and in production, run by the pipeline's own
-- role (TRANSFORMER) on every start. Placeholders are filled by include/warehouse/bootstrap.py: the stage reads
-- s3://<landing bucket>/ through the storage integration an administrator created.
-- Raw tables hold one VARIANT column per record: typing happens in dbt staging models.
--
-- Only what the role may create inside the databases it owns. The databases themselves are an administrator's,
-- once (include/sql/production_setup.sql, step 4): CREATE DATABASE needs the account-level CREATE DATABASE
-- privilege (https://docs.snowflake.com/en/sql-reference/sql/create-database, "Access control requirements",
-- which makes no exception for IF NOT EXISTS on a database that exists), and a least-privilege role lacks it.
-- `make preflight` names a missing database and whose step creates it.

CREATE SCHEMA IF NOT EXISTS {{ raw_database }}.{{ landing_schema }};
CREATE SCHEMA IF NOT EXISTS {{ raw_database }}.CLOUD_APP;
CREATE SCHEMA IF NOT EXISTS {{ raw_database }}.SALESFORCE;
CREATE SCHEMA IF NOT EXISTS {{ raw_database }}.ACTIVATION;

CREATE FILE FORMAT IF NOT EXISTS {{ file_format_fqn }}
    TYPE = JSON
    COMPRESSION = GZIP;

-- OR REPLACE: the stage location is environment configuration and must follow it.
CREATE OR REPLACE STAGE {{ stage_fqn }}
    URL = '{{ stage_url }}'{{ stage_credentials }}
    FILE_FORMAT = (FORMAT_NAME = '{{ file_format_fqn }}');

CREATE TABLE IF NOT EXISTS {{ raw_database }}.CLOUD_APP.WORKSPACES (RECORD VARIANT);
-- Records that broke the source contract, each with its reason (loaded like the raw records).
CREATE TABLE IF NOT EXISTS {{ raw_database }}.CLOUD_APP.WORKSPACES_QUARANTINE (RECORD VARIANT);
-- One row per extraction run of an interval: the counts that must reconcile.
CREATE TABLE IF NOT EXISTS {{ raw_database }}.CLOUD_APP.INGESTION_LOG (
    INTERVAL_START VARCHAR,
    INTERVAL_END VARCHAR,
    RUN_ID VARCHAR,
    EXTRACTED INTEGER,
    VALID INTEGER,
    QUARANTINED INTEGER,
    LOADED INTEGER,
    QUARANTINE_LOADED INTEGER,
    QUARANTINE_REASONS VARIANT,
    LOGGED_AT TIMESTAMP_NTZ  -- UTC (written with SYSDATE())
);

CREATE TABLE IF NOT EXISTS {{ raw_database }}.SALESFORCE.LEADS (RECORD VARIANT);
CREATE TABLE IF NOT EXISTS {{ raw_database }}.SALESFORCE.CONTACTS (RECORD VARIANT);
CREATE TABLE IF NOT EXISTS {{ raw_database }}.SALESFORCE.ACCOUNTS (RECORD VARIANT);
CREATE TABLE IF NOT EXISTS {{ raw_database }}.SALESFORCE.OPPORTUNITIES (RECORD VARIANT);
CREATE TABLE IF NOT EXISTS {{ raw_database }}.SALESFORCE.TASKS (RECORD VARIANT);
CREATE TABLE IF NOT EXISTS {{ raw_database }}.SALESFORCE.USERS (RECORD VARIANT);
CREATE TABLE IF NOT EXISTS {{ raw_database }}.SALESFORCE.LEAD_STATUSES (RECORD VARIANT);
-- Records Salesforce no longer has (purged or hard-deleted), found by the daily reconciliation of Ids.
CREATE TABLE IF NOT EXISTS {{ raw_database }}.SALESFORCE.RECONCILED_DELETIONS (RECORD VARIANT);

-- What each activation run did to Salesforce, written by the run itself (include/activation/run_record.py): one
-- record per step and try (each sync's Hightouch run, the lead conversion, the approval gate).
CREATE TABLE IF NOT EXISTS {{ raw_database }}.ACTIVATION.RUN_LOG (RECORD VARIANT);
