"""The demo dataset: generated from the real public data in ``../shared/data`` and the demo spec
(``data/demo/<code>.toml``).

Real: city boundary (N03), GSI shelters, the 46 校区 table. Derived: 校区 polygons (Voronoi of
each 校区's school/centre, clipped to the boundary). Generated (fictional, seeded): hazard zones in
A31a/A33 schemas, 福祉避難所, shelter capacities/accessibility, residents and supporters.
"""

DEMO_LABEL = "デモデータ（架空）"
