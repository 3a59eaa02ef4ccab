-- +goose Up
CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    email         TEXT    NOT NULL UNIQUE,
    password_hash TEXT    NOT NULL,
    first_name    TEXT    NOT NULL,
    last_name     TEXT    NOT NULL,
    phone         TEXT    NOT NULL DEFAULT '',
    role          TEXT    NOT NULL CHECK (role IN ('student', 'parent', 'teacher', 'admin')),
    status        TEXT    NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'inactive', 'pending', 'suspended')),
    timezone      TEXT    NOT NULL DEFAULT 'Africa/Tunis',
    language      TEXT    NOT NULL DEFAULT 'fr',
    created_at    INTEGER NOT NULL
);

CREATE TABLE students (
    user_id        INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    grade_level    TEXT    NOT NULL CHECK (grade_level IN ('seconde', 'première', 'terminale')),
    school         TEXT    NOT NULL DEFAULT '',
    specialties    TEXT    NOT NULL DEFAULT '[]',
    learning_style TEXT    NOT NULL DEFAULT 'mixed' CHECK (learning_style IN ('visual', 'auditory', 'kinesthetic', 'logical', 'mixed'))
);

CREATE TABLE parent_children (
    parent_id  INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    student_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (parent_id, student_id)
);

CREATE TABLE teachers (
    user_id        INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    subjects       TEXT    NOT NULL DEFAULT '[]',
    rate_online    INTEGER NOT NULL DEFAULT 0,
    rate_in_person INTEGER NOT NULL DEFAULT 0,
    rate_group     INTEGER NOT NULL DEFAULT 0,
    rating         REAL    NOT NULL DEFAULT 0
);

CREATE TABLE formulas (
    id              INTEGER PRIMARY KEY,
    name            TEXT    NOT NULL UNIQUE,
    type            TEXT    NOT NULL CHECK (type IN ('individual', 'group', 'workshop', 'intensive')),
    level           TEXT    NOT NULL,
    price           INTEGER NOT NULL CHECK (price >= 0),
    hours_per_month INTEGER NOT NULL CHECK (hours_per_month >= 0),
    max_students    INTEGER NOT NULL CHECK (max_students >= 1),
    features        TEXT    NOT NULL DEFAULT '[]',
    updated_at      INTEGER NOT NULL
);

CREATE TABLE sessions (
    id         TEXT    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER
);

CREATE TABLE refresh_tokens (
    digest     TEXT    PRIMARY KEY,
    session_id TEXT    NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);

CREATE TABLE bookings (
    id               INTEGER PRIMARY KEY,
    student_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    teacher_id       INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    starts_at        INTEGER NOT NULL,
    duration_minutes INTEGER NOT NULL,
    format           TEXT    NOT NULL CHECK (format IN ('online', 'in_person', 'hybrid')),
    status           TEXT    NOT NULL DEFAULT 'confirmed' CHECK (status IN ('pending', 'confirmed', 'cancelled', 'completed')),
    meeting_url      TEXT    NOT NULL DEFAULT '',
    created_at       INTEGER NOT NULL
);
CREATE UNIQUE INDEX bookings_teacher_slot ON bookings (teacher_id, starts_at) WHERE status <> 'cancelled';
CREATE UNIQUE INDEX bookings_student_slot ON bookings (student_id, starts_at) WHERE status <> 'cancelled';

CREATE TABLE study_groups (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL,
    formula_id INTEGER NOT NULL REFERENCES formulas (id),
    teacher_id INTEGER REFERENCES users (id) ON DELETE SET NULL,
    schedule   TEXT    NOT NULL DEFAULT '',
    capacity   INTEGER NOT NULL DEFAULT 6 CHECK (capacity BETWEEN 1 AND 6),
    enrolled   INTEGER NOT NULL DEFAULT 0 CHECK (enrolled >= 0 AND enrolled <= capacity)
);

CREATE TABLE group_enrollments (
    group_id   INTEGER NOT NULL REFERENCES study_groups (id) ON DELETE CASCADE,
    student_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (group_id, student_id)
);

CREATE TABLE aria_interactions (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    question   TEXT    NOT NULL,
    answer     TEXT    NOT NULL,
    model      TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX aria_interactions_user ON aria_interactions (user_id, created_at);

-- +goose Down
DROP TABLE aria_interactions;
DROP TABLE group_enrollments;
DROP TABLE study_groups;
DROP TABLE bookings;
DROP TABLE refresh_tokens;
DROP TABLE sessions;
DROP TABLE formulas;
DROP TABLE teachers;
DROP TABLE parent_children;
DROP TABLE students;
DROP TABLE users;
