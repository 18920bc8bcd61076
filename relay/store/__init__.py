"""The store: every SQL statement of the relay lives in this package.

Modules outside relay.store never write SQL nor import aiosqlite/sqlite3 (tests/test_layout.py
holds them to it); they call the repository functions here with plain Python values and get
plain values or dataclasses back. Each repository module is named after the tables it holds:

- conversations: conversations, their aliases, parties and closings
- records: the message record (append, read, verify) and its authentication results
- messages: what the policies count and look up in the record
- message_center: the sellers' view of the record (filters, pages, marks, answers)
- events: buyer, seller and conversation events (preferences, settings, delivery dates)
- credentials: seller password hashes
- limits: failed logins and refused messages, counted per client
- outbox: the delivery queue and the delivery events
- chain, checkpoints, audit: the keyed chain over every append-only table and its checks

Two databases: SQLite (db.py, the default) and PostgreSQL at store.url (pg.py). The
repositories write their SQL once, in SQLite's dialect; a PostgreSQL connection translates it
(dialect.py), and the few statements that differ more say so with dialect.is_postgresql().
Migrations: relay/migrations/*.sql and relay/migrations/postgresql/*.sql, same versions.

One convention for transactions. A repository function's first parameter says who owns
the transaction:

- `db` (a relay.store.db.Connection, opaque outside this package): the caller's, taken
  with `async with store.read() as db` or `async with store.write() as db`, so that several
  calls read one snapshot or commit together;
- `store` (a relay.store.db.Store): the function opens its own, for a read or a write that
  stands alone.

Every row added to an append-only table goes through chain.insert(), in the same
transaction, so the keyed chain covers it; rows that decide where mail goes or who may
write are read through chain.chained().
"""
