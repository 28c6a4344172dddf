"""The local cloud's own tests: they go when dev/ goes. The test-wide set-up (an isolated Airflow home) is the
product's, in tests/conftest.py."""

import tests.conftest  # noqa: F401  (sets AIRFLOW_HOME and friends before anything imports airflow)
