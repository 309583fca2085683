"""The embedded demo warehouse: a deterministic synthetic shop in DuckDB (`synthetic.generate`) and its
copy into Postgres (`postgres_copy.copy_to_postgres`)."""
