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
    # before the receiver replies, and marked handled once applied, so a crash in between
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
    # Version 5: the image index behind the gallery's search. One row per image file, from a
    # job's output (source 'job', parameters taken from the job) or from a scanned folder
    # (source 'folder', parameters read from the file's metadata). Seeds of 2**63 and above
    # are stored minus 2**64, because SQLite integers are signed 64-bit. images_fts indexes
    # the text columns. It is an external-content table, so the text is stored once (in
    # images), and the triggers keep the index in step with every insert, update and delete.
    # With 100,000 rows an external-content or a contentless index gave a 38 MB database and a
    # self-contained one 53 MB; external content also keeps FTS5's highlight() and 'rebuild'.
    # image_model_sets lists each distinct pair of models and model_urls, a few dozen rows even
    # in a large library, so a substring search on models reads those instead of every image.
    """
    CREATE TABLE images (
        id INTEGER PRIMARY KEY,
        path TEXT NOT NULL UNIQUE,
        output_id INTEGER REFERENCES outputs(id) ON DELETE SET NULL,
        job_id INTEGER REFERENCES jobs(id) ON DELETE SET NULL,
        batch_id INTEGER REFERENCES batches(id) ON DELETE SET NULL,
        connection TEXT NOT NULL DEFAULT '',
        source TEXT NOT NULL CHECK (source IN ('job', 'folder')),
        prompt TEXT NOT NULL DEFAULT '',
        negative TEXT NOT NULL DEFAULT '',
        seed INTEGER,
        steps INTEGER,
        cfg REAL,
        sampler TEXT NOT NULL DEFAULT '',
        width INTEGER,
        height INTEGER,
        models TEXT NOT NULL DEFAULT '',
        model_urls TEXT NOT NULL DEFAULT '',
        workflow_hash TEXT NOT NULL DEFAULT '',
        created_at REAL NOT NULL,
        file_size INTEGER NOT NULL DEFAULT 0,
        file_mtime_ns INTEGER NOT NULL DEFAULT 0,
        rating INTEGER NOT NULL DEFAULT 0 CHECK (rating BETWEEN 0 AND 5),
        favourite INTEGER NOT NULL DEFAULT 0 CHECK (favourite IN (0, 1)),
        tags TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL DEFAULT 'ok'
            CHECK (status IN ('ok', 'corrupt', 'unreadable', 'missing')),
        message TEXT NOT NULL DEFAULT '',
        indexed_at REAL NOT NULL
    );
    CREATE INDEX images_created ON images(created_at);
    CREATE INDEX images_seed ON images(seed);
    CREATE INDEX images_batch ON images(batch_id, created_at);
    CREATE INDEX images_connection ON images(connection);
    CREATE INDEX images_job ON images(job_id);
    CREATE INDEX images_output ON images(output_id);
    CREATE INDEX images_rating ON images(rating, created_at);
    CREATE INDEX images_favourite ON images(created_at) WHERE favourite = 1;
    CREATE INDEX images_size ON images(width, height);
    CREATE INDEX images_models ON images(models, model_urls);
    CREATE INDEX images_tagged ON images(created_at) WHERE tags != '';
    CREATE INDEX images_status ON images(status) WHERE status != 'ok';
    CREATE VIRTUAL TABLE images_fts USING fts5(
        prompt, negative, models, tags,
        content = 'images', content_rowid = 'id',
        tokenize = 'unicode61 remove_diacritics 2'
    );
    CREATE TRIGGER images_fts_insert AFTER INSERT ON images BEGIN
        INSERT INTO images_fts (rowid, prompt, negative, models, tags)
            VALUES (new.id, new.prompt, new.negative, new.models, new.tags);
    END;
    CREATE TRIGGER images_fts_delete AFTER DELETE ON images BEGIN
        INSERT INTO images_fts (images_fts, rowid, prompt, negative, models, tags)
            VALUES ('delete', old.id, old.prompt, old.negative, old.models, old.tags);
    END;
    CREATE TRIGGER images_fts_update AFTER UPDATE OF prompt, negative, models, tags ON images
    BEGIN
        INSERT INTO images_fts (images_fts, rowid, prompt, negative, models, tags)
            VALUES ('delete', old.id, old.prompt, old.negative, old.models, old.tags);
        INSERT INTO images_fts (rowid, prompt, negative, models, tags)
            VALUES (new.id, new.prompt, new.negative, new.models, new.tags);
    END;
    CREATE TABLE image_model_sets (
        models TEXT NOT NULL,
        model_urls TEXT NOT NULL,
        PRIMARY KEY (models, model_urls)
    ) WITHOUT ROWID;
    CREATE TRIGGER images_model_set_insert AFTER INSERT ON images BEGIN
        INSERT INTO image_model_sets (models, model_urls)
            SELECT new.models, new.model_urls WHERE NOT EXISTS (
                SELECT 1 FROM image_model_sets
                WHERE models = new.models AND model_urls = new.model_urls);
    END;
    CREATE TRIGGER images_model_set_update AFTER UPDATE OF models, model_urls ON images BEGIN
        INSERT INTO image_model_sets (models, model_urls)
            SELECT new.models, new.model_urls WHERE NOT EXISTS (
                SELECT 1 FROM image_model_sets
                WHERE models = new.models AND model_urls = new.model_urls);
    END;
    CREATE TABLE watched_folders (
        id INTEGER PRIMARY KEY,
        path TEXT NOT NULL UNIQUE,
        watch INTEGER NOT NULL DEFAULT 1 CHECK (watch IN (0, 1)),
        last_scan REAL,
        added_at REAL NOT NULL
    );
    """,
    # Version 6: indexes for the history. Deleting a job deletes its webhook deliveries, and
    # without an index on job_id SQLite scans the whole table once per deleted job. Pruning
    # 5,000 of 10,000 jobs with 2 deliveries each took 3.8 s without it and 0.2 s with it
    # (2-core machine).
    # jobs_batch_status lets the history count each batch's jobs by status from the index
    # alone, without reading job rows and their prompts (tests/benchmarks/history.py).
    """
    CREATE INDEX webhook_deliveries_job ON webhook_deliveries(job_id);
    CREATE INDEX jobs_batch_status ON jobs(batch_id, status);
    """,
    # Version 7: job outputs whose image record a person removed from the gallery. The output
    # row stays as the job's record of what it produced, and the image index leaves these
    # outputs out, so that indexing the outputs without an image row does not bring them back.
    """
    CREATE TABLE removed_outputs (
        output_id INTEGER PRIMARY KEY REFERENCES outputs(id) ON DELETE CASCADE,
        removed_at REAL NOT NULL
    );
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)
