"""SQLAlchemy 2.x persistence: ORM rows, repositories, unit of work, engine and migrations."""
