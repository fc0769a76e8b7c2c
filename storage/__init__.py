"""The database: models, engine and sessions, every SQL statement, migrations."""
