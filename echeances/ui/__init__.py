"""Widgets of the dashboard: thin views over ``Workspace`` (build, display, refresh)."""
from echeances.ui.dashboard import build_dashboard

__all__ = ["build_dashboard"]
