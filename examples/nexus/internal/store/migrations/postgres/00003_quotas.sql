-- +goose Up
-- ARIA questions per user and UTC day (day: Unix seconds at 00:00 UTC). A question
-- reserves a unit with one conditional upsert before the upstream call and gives it back
-- when the call fails, so concurrent questions never pass the daily limit.
CREATE TABLE aria_usage (
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    day     BIGINT NOT NULL,
    used    BIGINT NOT NULL CHECK (used >= 0),
    PRIMARY KEY (user_id, day)
);
INSERT INTO aria_usage (user_id, day, used)
    SELECT user_id, (created_at / 86400) * 86400, COUNT(*) FROM aria_interactions GROUP BY user_id, (created_at / 86400) * 86400;

-- The counted quotas of an account (a student's upcoming bookings, a parent's children)
-- are checked in a transaction that first bumps this column of the account's row, so
-- concurrent checks for one account queue behind each other.
ALTER TABLE users ADD COLUMN quota_serial BIGINT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE users DROP COLUMN quota_serial;
DROP TABLE aria_usage;
