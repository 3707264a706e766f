"""Textual's footer, recomposed only when the keys it shows change."""

from __future__ import annotations

from typing import Any

from textual.screen import Screen
from textual.widgets import Footer as TextualFooter


class Footer(TextualFooter):
    """Textual 8.2's `Footer` recomposes (a dozen key widgets unmounted and mounted again) whenever
    the screen's bindings may have changed: every focus change, every `refresh_bindings`. Moving the
    focus between a panel's title and the view does not change the keys it shows, yet the recompose
    took 14-45 ms of the event loop at each move, in the middle of a jump to the top of a long trace.
    This one compares what it would show with what it shows, and recomposes only on a difference.
    """

    _shown: tuple[Any, ...] | None = None

    def bindings_changed(self, screen: Screen[Any]) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen:
            self.call_after_refresh(self._recompose_if_changed)

    def _shown_keys(self) -> tuple[Any, ...]:
        palette = self.app.COMMAND_PALETTE_BINDING if self.show_command_palette else None
        keys = [
            (key, binding.action, binding.description, binding.group, enabled, tooltip)
            for key, (_, binding, enabled, tooltip) in self.screen.active_bindings.items()
            if binding.show or key == palette
        ]
        return (*keys, self.show_command_palette and self.app.ENABLE_COMMAND_PALETTE)

    async def _recompose_if_changed(self) -> None:
        if not self.is_attached:
            return
        shown = self._shown_keys()
        if shown != self._shown:
            self._shown = shown
            await self.recompose()
