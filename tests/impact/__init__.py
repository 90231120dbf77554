"""Impact and reversibility on live databases (PostgreSQL, MariaDB, SQLite)."""
