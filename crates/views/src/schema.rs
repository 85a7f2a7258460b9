//! The read database's tables. A read model is disposable (it can always be
//! rebuilt from the log), so a schema change is a new version and a rebuild;
//! a file of an earlier version from [`OLDEST_UPGRADED`] on is brought
//! forward in place instead, a version at a time, each step a copy of its
//! rows ([`crate::upgrade`]), so a worker that follows the stream without
//! a log beside it keeps its read model.
//!
//! Tables keyed by a composite or text key whose rows are small are
//! `WITHOUT ROWID`: one B-tree each, where a rowid table is two (the rows,
//! and the index of its primary key).

/// The schema version; a read database of another version is rebuilt
/// (or, from [`OLDEST_UPGRADED`] on, upgraded in place).
pub const SCHEMA_VERSION: i32 = 8;

/// The oldest version [`crate::upgrade`] brings forward, a step at a time:
/// 6, whose small keyed tables were rowid tables, which kept a copy of
/// every task event (7 may leave it in the log beside), and which kept a
/// report in two tables (`progress`, and `reported_values` per value)
/// where 7 keeps a row in `reports`; and 7, whose `tasks` had no number
/// of their own and whose `reports` were keyed by the task's text id.
pub(crate) const OLDEST_UPGRADED: i32 = 6;

/// Marks a SQLite file as a dotpha read model ("dotr").
pub(crate) const APPLICATION_ID: i32 = 0x646f_7472;

/// Indexes added within a schema version: they change no row, so a read
/// model's writer adds them to a file made before them
/// (`CREATE INDEX IF NOT EXISTS`) instead of asking for a rebuild. The
/// instants a task's flags change at, for `ReadModel::clock_window`.
pub(crate) const ADDED_INDEXES: &str = r#"
CREATE INDEX IF NOT EXISTS tasks_by_due_end ON tasks (due_end_ms);
CREATE INDEX IF NOT EXISTS tasks_by_check_in ON tasks (coalesce(last_report_ms, created_ms));
"#;

/// The `CREATE TABLE` statement of `table` in [`SCHEMA`] (with its `;`).
pub(crate) fn create_table(table: &str) -> Option<&'static str> {
    let start = SCHEMA.find(&format!("CREATE TABLE {table} ("))?;
    let length = SCHEMA[start..].find(";\n")?;
    Some(&SCHEMA[start..=start + length])
}

/// The `CREATE INDEX` statements of `table` in [`SCHEMA`], each with its
/// `;` (the ones of [`ADDED_INDEXES`] are not among them).
pub(crate) fn create_indexes(table: &str) -> String {
    SCHEMA
        .lines()
        .filter(|line| line.starts_with("CREATE INDEX") && line.contains(&format!(" ON {table} (")))
        .collect::<Vec<_>>()
        .join("\n")
}

pub(crate) const SCHEMA: &str = r#"
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE units (
    code        TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    folded      TEXT NOT NULL,
    kind        TEXT NOT NULL,
    parent      TEXT,
    valid_from  TEXT,
    valid_to    TEXT,
    successor   TEXT,
    legal_basis TEXT
);
CREATE TABLE cadres (
    id                 TEXT PRIMARY KEY,
    full_name          TEXT NOT NULL,
    folded             TEXT NOT NULL,
    unit               TEXT NOT NULL,
    position           TEXT NOT NULL,
    party_member       INTEGER NOT NULL,
    standing_committee INTEGER NOT NULL
);
CREATE TABLE cycles (
    id        TEXT PRIMARY KEY,
    starts_on TEXT NOT NULL,
    ends_on   TEXT NOT NULL,
    closed    INTEGER NOT NULL DEFAULT 0
);
-- `task_no` is the task's number in this file (its rowid, given in the
-- order tasks are made), which the large tables of each task's rows are
-- keyed by: a number compares and stores in a fraction of a text id.
CREATE TABLE tasks (
    task_no            INTEGER PRIMARY KEY,
    task_id            TEXT NOT NULL UNIQUE,
    cycle              TEXT NOT NULL,
    title              TEXT NOT NULL,
    kind               TEXT NOT NULL,
    category           TEXT NOT NULL,
    origin             TEXT NOT NULL,
    backlog_ref        TEXT,
    description        TEXT,
    assignee           TEXT NOT NULL,
    unit               TEXT NOT NULL,
    status             TEXT NOT NULL,
    open               INTEGER NOT NULL,
    active             INTEGER NOT NULL,
    given_by           TEXT,
    evaluated_by       TEXT,
    due                TEXT NOT NULL,
    due_end_ms         INTEGER NOT NULL,
    percent_complete   REAL,
    reported_percent   REAL,
    reported_as_of     TEXT,
    reported_pos       INTEGER,
    plan               TEXT,
    plan_revisions     INTEGER NOT NULL DEFAULT 0,
    last_report        TEXT,
    last_report_as_of  TEXT,
    last_report_pos    INTEGER,
    last_report_ms     INTEGER,
    last_confidence    TEXT,
    rating             TEXT,
    score              REAL,
    evaluation_comment TEXT,
    created_ms         INTEGER NOT NULL,
    search_head        TEXT NOT NULL DEFAULT '',
    search             TEXT NOT NULL DEFAULT '',
    done_on            TEXT
);
CREATE INDEX tasks_by_cycle ON tasks (cycle, status, due, task_id);
CREATE INDEX tasks_by_cycle_due ON tasks (cycle, due, task_id);
CREATE INDEX tasks_by_cycle_open ON tasks (cycle, open, due_end_ms);
CREATE INDEX tasks_by_unit ON tasks (unit);
CREATE INDEX tasks_by_assignee ON tasks (assignee);
CREATE TABLE targets (
    task_id  TEXT NOT NULL,
    ord      INTEGER NOT NULL,
    metric   TEXT NOT NULL,
    label    TEXT NOT NULL,
    baseline REAL NOT NULL,
    target   REAL NOT NULL,
    unit     TEXT,
    min      REAL,
    max      REAL,
    latest   REAL,
    latest_as_of TEXT,
    latest_pos   INTEGER,
    PRIMARY KEY (task_id, metric)
) WITHOUT ROWID;
CREATE TABLE delegations (
    task_id       TEXT NOT NULL,
    delegation_id TEXT NOT NULL,
    to_ref        TEXT NOT NULL,
    description   TEXT NOT NULL,
    due           TEXT NOT NULL,
    PRIMARY KEY (task_id, delegation_id)
) WITHOUT ROWID;
-- One row per progress report of a task the file holds (`tasks.task_no`):
-- its percentage, and its values as JSON [[metric, value], ...] in the
-- order of their metrics (`apply::values_json`).
CREATE TABLE reports (
    task_no  INTEGER NOT NULL,
    as_of    TEXT NOT NULL,
    position INTEGER NOT NULL,
    percent  REAL,
    vals     TEXT NOT NULL,
    PRIMARY KEY (task_no, as_of, position)
) WITHOUT ROWID;
CREATE TABLE milestone_completions (
    task_id      TEXT NOT NULL,
    title        TEXT NOT NULL,
    completed_on TEXT NOT NULL,
    PRIMARY KEY (task_id, title)
) WITHOUT ROWID;
CREATE TABLE reviews (
    task_id      TEXT NOT NULL,
    milestone    TEXT NOT NULL,
    major_errors INTEGER NOT NULL,
    PRIMARY KEY (task_id, milestone)
) WITHOUT ROWID;
CREATE TABLE periods (
    id        TEXT PRIMARY KEY,
    kind      TEXT NOT NULL,
    starts_on TEXT NOT NULL,
    ends_on   TEXT NOT NULL,
    closed    INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE assessments (
    period          TEXT NOT NULL,
    cadre           TEXT NOT NULL,
    self_points     INTEGER,
    self_note       TEXT,
    evaluating_unit TEXT,
    peer_group      TEXT,
    general_points  INTEGER,
    task_points     INTEGER,
    total           INTEGER,
    ceiling         TEXT,
    ceiling_reason  TEXT,
    rating          TEXT,
    disqualified    TEXT,
    comment         TEXT,
    products        TEXT,
    decided_at      TEXT,
    version         INTEGER NOT NULL,
    PRIMARY KEY (period, cadre)
);
CREATE INDEX assessments_by_cadre ON assessments (cadre, period);
-- Each task's events (the history route): the event object as the log
-- holds it, or NULL for an event applied from the log beside this file
-- (`ReadModel::apply_logged`), which the history reads there by position.
-- A report applied from the log beside has no row here: its row of
-- `reports` holds its task and position (`query::TASK_EVENTS`).
-- A rowid table on purpose: rows with an object are large, and appended in
-- rowid order.
CREATE TABLE task_events (
    task_id  TEXT NOT NULL,
    position INTEGER NOT NULL,
    event    TEXT,
    PRIMARY KEY (task_id, position)
);
"#;
