"""The buyer archive: schema, connection factory, ingest and the demo generator."""
