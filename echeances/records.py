"""Frozen records that cross layers: the set of frames a workspace holds."""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from echeances import schema


@dataclass(frozen=True)
class Frames:
    """The store's content as typed frames (see ``schema`` for every column)."""

    clients: pd.DataFrame
    sites: pd.DataFrame
    invoices: pd.DataFrame
    payments: pd.DataFrame
    allocations: pd.DataFrame
    write_offs: pd.DataFrame

    @classmethod
    def empty(cls) -> "Frames":
        return cls(
            clients=schema.empty(schema.CLIENTS),
            sites=schema.empty(schema.SITES),
            invoices=schema.empty(schema.INVOICES),
            payments=schema.empty(schema.PAYMENTS),
            allocations=schema.empty(schema.ALLOCATIONS),
            write_offs=schema.empty(schema.WRITE_OFFS),
        )
