"""The Textual front end (`start-tui` with no arguments)."""
