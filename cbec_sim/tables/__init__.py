"""Table generators, one module per group of linked tables.

Each module declares its tables' :class:`~cbec_sim.schema.TableSpec` (registered on import)
and a stage function ``build(ctx) -> {table_name: DataFrame}`` called by
:func:`cbec_sim.generate`. Importing this package registers every spec.
"""

from cbec_sim.tables import (  # noqa: F401
    aftersales,
    b2b,
    b2b_marketing,
    backoffice,
    customers,
    finance,
    fx,
    imports,
    inventory,
    labels,
    logistics,
    market,
    marketing,
    orders,
    products,
    reference,
    risk,
    store_ops,
    stores,
    visual,
)
