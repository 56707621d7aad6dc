"""Pure, vectorised evacuation analysis (no database access).

``engine.assess`` runs the pipeline: exposure at home -> leave or stay -> destinations safe
against every rain hazard layer at their own location -> capacity-constrained 福祉避難所
assignment within reach -> transport mode, time and start trigger -> route -> plan-making
priority -> supporter gaps. Parameters come from the city profile (``[evacuation]``). Every
decision carries reasons as ``{"code", "text"}`` in plain Japanese.
"""
