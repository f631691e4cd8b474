"""Forward migrations of the database schema; the index in MIGRATIONS + 1 is the version."""

from __future__ import annotations

MIGRATIONS: tuple[str, ...] = (
    # Version 1: batches, jobs, their events and outputs.
    """
    CREATE TABLE batches (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        workflow_name TEXT NOT NULL,
        workflow_path TEXT NOT NULL,
        connection TEXT NOT NULL,
        count INTEGER NOT NULL,
        seed_mode TEXT NOT NULL,
        output_dir TEXT NOT NULL,
        created_at REAL NOT NULL
    );
    CREATE TABLE jobs (
        id INTEGER PRIMARY KEY,
        batch_id INTEGER NOT NULL REFERENCES batches(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        connection TEXT NOT NULL,
        workflow_name TEXT NOT NULL,
        prompt_json TEXT NOT NULL,
        prompt_hash TEXT NOT NULL,
        seed INTEGER,
        status TEXT NOT NULL,
        idempotency_key TEXT NOT NULL UNIQUE,
        remote_id TEXT,
        queue_position INTEGER,
        attempts INTEGER NOT NULL DEFAULT 0,
        error_code TEXT,
        error_message TEXT,
        error_request_id TEXT,
        created_at REAL NOT NULL,
        submitted_at REAL,
        started_at REAL,
        finished_at REAL,
        remote_created_at TEXT,
        remote_started_at TEXT,
        remote_completed_at TEXT,
        execution_time_ms INTEGER,
        updated_at REAL NOT NULL
    );
    CREATE INDEX jobs_status ON jobs(status);
    CREATE INDEX jobs_batch ON jobs(batch_id, position);
    CREATE TABLE job_events (
        id INTEGER PRIMARY KEY,
        job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
        at REAL NOT NULL,
        status TEXT NOT NULL,
        detail TEXT
    );
    CREATE INDEX job_events_job ON job_events(job_id);
    CREATE TABLE outputs (
        id INTEGER PRIMARY KEY,
        job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
        idx INTEGER NOT NULL,
        remote_url TEXT NOT NULL,
        local_path TEXT NOT NULL,
        size INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        width INTEGER,
        height INTEGER,
        created_at REAL NOT NULL,
        UNIQUE (job_id, idx)
    );
    """,
    # Version 2: the values that made each job, and the model library (one canonical URL per
    # model, because the service's node cache matches model URLs exactly).
    """
    ALTER TABLE jobs ADD COLUMN parameters_json TEXT NOT NULL DEFAULT '{}';
    CREATE TABLE model_library (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        file_name TEXT NOT NULL,
        url TEXT NOT NULL UNIQUE,
        folder TEXT NOT NULL DEFAULT '',
        source TEXT NOT NULL DEFAULT 'user',
        created_at REAL NOT NULL
    );
    CREATE INDEX model_library_file ON model_library(file_name);
    """,
    # Version 3: queue order and control. Jobs are taken by priority (higher first), then by
    # queue_order, which changes when a person reorders the queue. model_key groups jobs that
    # use the same set of model URLs, so they can be sent one after another to warm nodes.
    """
    ALTER TABLE batches ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE batches ADD COLUMN paused INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE jobs ADD COLUMN priority INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE jobs ADD COLUMN queue_order REAL NOT NULL DEFAULT 0;
    ALTER TABLE jobs ADD COLUMN model_key TEXT NOT NULL DEFAULT '';
    UPDATE jobs SET queue_order = id;
    CREATE INDEX jobs_queue ON jobs(status, connection, priority DESC, queue_order, id);
    """,
    # Version 4: live status. Each job submitted with a webhook gets an unguessable token, the
    # last path component of its webhook URL. A delivery is written to webhook_deliveries
    # before the receiver answers, and marked handled once applied, so a crash in between
    # loses nothing. error_details keeps what a failure report adds to its message (the
    # failing node and a traceback).
    """
    ALTER TABLE jobs ADD COLUMN webhook_token TEXT;
    ALTER TABLE jobs ADD COLUMN error_details TEXT;
    CREATE UNIQUE INDEX jobs_webhook_token ON jobs(webhook_token)
        WHERE webhook_token IS NOT NULL;
    CREATE TABLE webhook_deliveries (
        id INTEGER PRIMARY KEY,
        job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
        received_at REAL NOT NULL,
        body TEXT NOT NULL,
        handled_at REAL
    );
    CREATE INDEX webhook_deliveries_pending ON webhook_deliveries(id) WHERE handled_at IS NULL;
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)
