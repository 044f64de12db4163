import os

# The test suite always runs with the test flag (fast hashing, eager Celery by default).
os.environ.setdefault("STAMPWISE_TESTING", "1")
