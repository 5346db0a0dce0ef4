-- Sign-in throttling (SPEC §8; issue 11): one counter per (email, address) pair, per
-- email and per address, each read and written under its row lock so that attempts
-- arriving together are counted one after another, and counted before the password is
-- checked. The rule that reads them is `domain::signin`. The email is kept as typed,
-- lower-cased, because attempts often name accounts that do not exist; the column that
-- a counter does not concern is '' (an address counter has no email, an account
-- counter no address).
CREATE TABLE login_throttles (
    scope           text NOT NULL CONSTRAINT login_throttles_scope CHECK (scope IN ('pair', 'account', 'address')),
    email           text NOT NULL,
    address         text NOT NULL,
    failures        integer NOT NULL DEFAULT 0 CONSTRAINT login_throttles_failures CHECK (failures >= 0),
    window_start    timestamptz,
    last_failure_at timestamptz,
    succeeded_at    timestamptz,
    PRIMARY KEY (scope, email, address)
);
