"""The ICP engine: value, best customers, derivation, scoring, personas, drift, voice and usage."""
