"""Snapshot undo/redo: the one history behind Rectify's points and Colorize's hints."""

from __future__ import annotations

from typing import Generic, TypeVar

T = TypeVar("T")


class UndoHistory(Generic[T]):
    """Two stacks of whole-state snapshots.

    The owner records its state *before* each edit (:meth:`record`) and hands its current state
    to :meth:`undo` / :meth:`redo`, which return the state to go back (forward) to. States are
    kept as given: pass copies of mutable ones.
    """

    def __init__(self) -> None:
        self._undo: list[T] = []
        self._redo: list[T] = []

    def __len__(self) -> int:
        """How many steps can be undone."""
        return len(self._undo)

    @property
    def can_undo(self) -> bool:
        return bool(self._undo)

    @property
    def can_redo(self) -> bool:
        return bool(self._redo)

    def record(self, before: T) -> None:
        """A new edit starts from ``before``: one undo step; the redo stack is cleared."""
        self._undo.append(before)
        self._redo.clear()

    def drop_if_same(self, current: T) -> None:
        """Forget the last step when the edit it opened changed nothing (a drag that ended
        where it began)."""
        if self._undo and self._undo[-1] == current:
            self._undo.pop()

    def clear(self) -> None:
        self._undo.clear()
        self._redo.clear()

    def undo(self, current: T) -> T:
        """The state before the last step (``current`` can be redone). Needs :attr:`can_undo`."""
        self._redo.append(current)
        return self._undo.pop()

    def redo(self, current: T) -> T:
        """The state the last undo left (``current`` can be undone). Needs :attr:`can_redo`."""
        self._undo.append(current)
        return self._redo.pop()
