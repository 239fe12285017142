"""Alembic migrations, driven from code (no alembic.ini): `Store.migrate()` runs them at start-up.

HEAD_REVISION lets start-up skip loading Alembic when the database is already current.
"""

from __future__ import annotations

from pathlib import Path

HEAD_REVISION = "0001"

_HERE = Path(__file__).resolve().parent


def alembic_config(engine):
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_HERE))
    config.attributes["engine"] = engine
    return config


def upgrade_to_head(engine) -> None:
    from alembic import command

    command.upgrade(alembic_config(engine), "head")
