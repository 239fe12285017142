"""Alembic environment: runs on the engine handed over by cbslocal.store.migrations."""

from alembic import context

from cbslocal.store.migrations import begin_schema_change
from cbslocal.store.tables import metadata

config = context.config
engine = config.attributes["engine"]

with engine.connect() as connection:
    # transactional_ddl: SQLite's DDL is transactional too, once begun explicitly (Alembic
    # assumes otherwise for SQLite, and would commit after each revision).
    context.configure(connection=connection, target_metadata=metadata,
                      render_as_batch=engine.dialect.name == "sqlite", transactional_ddl=True)
    with context.begin_transaction():
        begin_schema_change(connection)  # every pending revision, or none of them
        context.run_migrations()
    connection.commit()
