"""start-tui: START (Self-Taught Reasoner with Tools) in a terminal: Hint-infer with a sandboxed Python tool."""

__version__ = "0.1.0"
