-- One-time production set-up of a Snowflake account for this pipeline, run by an administrator (a user with
-- ACCOUNTADMIN, SYSADMIN and SECURITYADMIN). Every statement is idempotent: running it again changes nothing.
-- Replace the four placeholders in angle brackets first:
--   <landing-bucket>            the bucket in LANDING_BUCKET (the one Airflow's aws_landing connection writes to)
--   <snowflake-reader-role-arn> the IAM role Snowflake assumes to read that bucket (step 3)
--   <airflow public key>        public half of the key pair in the snowflake_warehouse connection
--   <hightouch public key>      public half of the key pair Hightouch's Snowflake source uses
--
-- The names below are the ones the code uses (tests/static/test_deployment_files.py keeps them in step):
--   RAW, ANALYTICS, RAW.LANDING, RAW.LANDING.NDJSON_GZ, RAW.LANDING.LANDING_STAGE  include/settings.py defaults
--   TRANSFORMER, TRANSFORMING        the role and warehouse of dbt's prod profile (dbt_project/profiles.yml)
--   S3_LANDING                       the storage integration named to include/warehouse/bootstrap.py
--   ANALYTICS.MARTS                  the schema of every model in include/hightouch/syncs.yaml
--
-- Afterwards the pipeline's own idempotent bootstrap, run through the snowflake_warehouse connection (so as
-- TRANSFORMER), adds the raw schemas and tables exactly as the local cloud does (docs/deploy-to-astro.md):
--   python -m include.warehouse.bootstrap --stage-url s3://<landing-bucket>/ --storage-integration S3_LANDING

-- 1. Roles. One Airflow connection both loads (COPY INTO RAW) and runs dbt through Cosmos (builds ANALYTICS),
--    so one role, TRANSFORMER, owns both databases. Hightouch only reads the marts. Both roles roll up to
--    SYSADMIN, so administrators keep managing what the roles own.
USE ROLE SECURITYADMIN;
CREATE ROLE IF NOT EXISTS TRANSFORMER COMMENT = 'Airflow: loads RAW and runs dbt into ANALYTICS';
CREATE ROLE IF NOT EXISTS REVERSE_ETL COMMENT = 'Hightouch: reads ANALYTICS.MARTS';
GRANT ROLE TRANSFORMER TO ROLE SYSADMIN;
GRANT ROLE REVERSE_ETL TO ROLE SYSADMIN;

-- 2. Compute: one warehouse for the pipeline, one for Hightouch's queries, so each one's cost shows apart.
USE ROLE SYSADMIN;
CREATE WAREHOUSE IF NOT EXISTS TRANSFORMING
WAREHOUSE_SIZE = XSMALL AUTO_SUSPEND = 60 AUTO_RESUME = TRUE INITIALLY_SUSPENDED = TRUE;
CREATE WAREHOUSE IF NOT EXISTS SYNCING
WAREHOUSE_SIZE = XSMALL AUTO_SUSPEND = 60 AUTO_RESUME = TRUE INITIALLY_SUSPENDED = TRUE;
GRANT USAGE ON WAREHOUSE TRANSFORMING TO ROLE TRANSFORMER;
GRANT USAGE ON WAREHOUSE SYNCING TO ROLE REVERSE_ETL;

-- 3. S3 access without keys: a storage integration trusted by an IAM role on the landing bucket. After this
--    runs, DESC INTEGRATION S3_LANDING shows STORAGE_AWS_IAM_USER_ARN and STORAGE_AWS_EXTERNAL_ID: put them in
--    that IAM role's trust policy. The role's permissions policy grants what Snowflake's guide lists for
--    reading a stage (https://docs.snowflake.com/en/user-guide/data-load-s3-config-storage-integration,
--    "AWS access control requirements"):
--      s3:GetObject, s3:GetObjectVersion     on arn:aws:s3:::<landing-bucket>/*
--      s3:ListBucket, s3:GetBucketLocation   on arn:aws:s3:::<landing-bucket>
--    (COPY INTO only reads, so no s3:PutObject or s3:DeleteObject.) If the bucket encrypts with SSE-KMS under a
--    customer managed key, the role also needs kms:Decrypt on that key, in the key policy too when the key is
--    in another account (https://repost.aws/knowledge-center/decrypt-kms-encrypted-objects-s3); SSE-S3 needs
--    nothing more. SYSADMIN uses the integration once, to create the stage in step 4.
USE ROLE ACCOUNTADMIN;
CREATE STORAGE INTEGRATION IF NOT EXISTS S3_LANDING
TYPE = EXTERNAL_STAGE
STORAGE_PROVIDER = 'S3'
ENABLED = TRUE
STORAGE_AWS_ROLE_ARN = '<snowflake-reader-role-arn>'
STORAGE_ALLOWED_LOCATIONS = ('s3://<landing-bucket>/');
GRANT USAGE ON INTEGRATION S3_LANDING TO ROLE TRANSFORMER;
GRANT USAGE ON INTEGRATION S3_LANDING TO ROLE SYSADMIN;

-- 4. Databases and the landing objects the loader COPYs through, then handed to TRANSFORMER. The file format
--    is the one include/sql/bootstrap_warehouse.sql defines; the stage points at the bucket's root because
--    every COPY names its exact prefix (include/warehouse/loading.py).
USE ROLE SYSADMIN;
CREATE DATABASE IF NOT EXISTS RAW COMMENT = 'Landed source records, one VARIANT per record';
CREATE DATABASE IF NOT EXISTS ANALYTICS COMMENT = 'dbt: staging, intermediate, marts';
CREATE SCHEMA IF NOT EXISTS RAW.LANDING;
CREATE SCHEMA IF NOT EXISTS ANALYTICS.MARTS;
CREATE FILE FORMAT IF NOT EXISTS RAW.LANDING.NDJSON_GZ
    TYPE = JSON
    COMPRESSION = GZIP;
CREATE STAGE IF NOT EXISTS RAW.LANDING.LANDING_STAGE
    URL = 's3://<landing-bucket>/'
    STORAGE_INTEGRATION = S3_LANDING
    FILE_FORMAT = (FORMAT_NAME = 'RAW.LANDING.NDJSON_GZ');
GRANT OWNERSHIP ON STAGE RAW.LANDING.LANDING_STAGE TO ROLE TRANSFORMER COPY CURRENT GRANTS;
GRANT OWNERSHIP ON FILE FORMAT RAW.LANDING.NDJSON_GZ TO ROLE TRANSFORMER COPY CURRENT GRANTS;
GRANT OWNERSHIP ON SCHEMA RAW.LANDING TO ROLE TRANSFORMER COPY CURRENT GRANTS;
GRANT OWNERSHIP ON SCHEMA ANALYTICS.MARTS TO ROLE TRANSFORMER COPY CURRENT GRANTS;
GRANT OWNERSHIP ON DATABASE RAW TO ROLE TRANSFORMER COPY CURRENT GRANTS;
GRANT OWNERSHIP ON DATABASE ANALYTICS TO ROLE TRANSFORMER COPY CURRENT GRANTS;

-- 5. Hightouch reads the marts and nothing else. dbt re-creates each mart table on every run, so the grant
--    on future tables is what keeps Hightouch's access; the grant on all tables covers those built before.
USE ROLE SECURITYADMIN;
GRANT USAGE ON DATABASE ANALYTICS TO ROLE REVERSE_ETL;
GRANT USAGE ON SCHEMA ANALYTICS.MARTS TO ROLE REVERSE_ETL;
GRANT SELECT ON ALL TABLES IN SCHEMA ANALYTICS.MARTS TO ROLE REVERSE_ETL;
GRANT SELECT ON FUTURE TABLES IN SCHEMA ANALYTICS.MARTS TO ROLE REVERSE_ETL;

-- 6. Service users with key-pair authentication (service users cannot have passwords). The Airflow user is the
--    `login` of the snowflake_warehouse connection; the Hightouch user goes in Hightouch's Snowflake source.
--    People who run dbt by hand with the prod target get TRANSFORMER too: GRANT ROLE TRANSFORMER TO USER <you>.
CREATE USER IF NOT EXISTS AIRFLOW
    TYPE = SERVICE
    DEFAULT_ROLE = TRANSFORMER
    DEFAULT_WAREHOUSE = TRANSFORMING
    RSA_PUBLIC_KEY = '<airflow public key>';
CREATE USER IF NOT EXISTS HIGHTOUCH
    TYPE = SERVICE
    DEFAULT_ROLE = REVERSE_ETL
    DEFAULT_WAREHOUSE = SYNCING
    RSA_PUBLIC_KEY = '<hightouch public key>';
GRANT ROLE TRANSFORMER TO USER AIRFLOW;
GRANT ROLE REVERSE_ETL TO USER HIGHTOUCH;
