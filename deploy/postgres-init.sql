-- The countersign database and its owner, next to Temporal's own databases.
CREATE USER countersign WITH PASSWORD 'countersign';
CREATE DATABASE countersign OWNER countersign;
