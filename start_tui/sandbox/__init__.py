"""The sandbox that runs model code: a RestrictedPython policy inside a confined, warm process."""

from start_tui.sandbox.client import ExecResult, Sandbox, SandboxConfig, Session

__all__ = ["ExecResult", "Sandbox", "SandboxConfig", "Session"]
