"""Échéances: who owes what, since when; reminders, statements and payments for a French small business."""
from echeances.workspace import Workspace

__all__ = ["Workspace"]
